// Teams: the viewer's teams with their members and, for their admins, the invitations
// waiting, the service accounts (service_accounts.js) and the team's webhooks and routes
// (team_alerts.js); the viewer's own invitations to accept or decline (invites.js).
// Team admins invite, site administrators may also add a member directly, and create
// teams, with an organization picked from `organizations(search:)`.

import { gql } from "../graphql.js";
import { $, $$, action, busy, clearErrors, h, humanize, showErrors, status, submitter, time } from "../ui.js";
import { pendingByTeam, renderInvitations, teamInvitations } from "./invites.js";
import { SERVICE, serviceAccounts } from "./service_accounts.js";
import { teamAlerts } from "./team_alerts.js";

const ERRORS = `errors { field message code }`;
const TEAM = `id name type createdAt memberCount viewerRole organization { id name }
  members { role joinedAt accountType profile { username name } }`;
const QUERY = `query Teams { viewer { username admin
  invites { id name role createdAt fromUser { username } }
  teams(first: 100) { edges { node { ${TEAM} } } } } }`;
const ORGANIZATIONS = `query Organizations($search: String) {
  organizations(search: $search, first: 20) { id name }
}`;
const CREATE = `mutation CreateTeam($input: CreateTeamInput!) {
  createTeam(input: $input) { team { id name } ${ERRORS} }
}`;
const PAYLOAD = `{ team { id name } ${ERRORS} }`;
const UPDATE = `mutation UpdateTeamMember($input: UpdateTeamMemberInput!) {
  updateTeamMember(input: $input) ${PAYLOAD}
}`;
const REMOVE = `mutation RemoveTeamMember($input: RemoveTeamMemberInput!) {
  removeTeamMember(input: $input) ${PAYLOAD}
}`;
const ROLES = ["ADMIN", "MEMBER"];
const NEW_ORGANIZATION = "new";

export const reloadOn = ["teams"];

let wired = false;
/** The team just joined: its heading takes the focus once the reloaded list shows it. */
let joined = null;

export async function load(root, page) {
  const [{ viewer }, invites] = await Promise.all([gql(QUERY), pendingByTeam()]);
  for (const { node } of viewer.teams.edges) node.invites = invites.get(node.id) || [];
  renderInvitations(root, viewer.invites, { act, page, joined: (name) => { joined = name; } });
  await renderTeams(root, page, viewer);
  const form = $("#team-form", root);
  form.hidden = !viewer.admin;
  if (!wired) wireCreate(form, page);
  wired = true;
  if (viewer.admin && !$("#team-org-search", form).value) await searchOrganizations(form);
}

/** `action`, which first clears what the last action said: its news is old now. */
function act(root, handler) {
  return action(root, (event) => {
    for (const line of $$("#teams .status")) line.textContent = "";
    return handler(event);
  });
}

function person(profile) {
  const { username, name } = profile;
  return [
    h("span", { class: "member-name", text: name || username }),
    name && name !== username ? h("span", { class: "muted", text: ` ${username}` }) : null,
  ];
}

/** Draws the teams' cards; settles once their parts that load on their own are drawn. */
async function renderTeams(root, page, viewer) {
  const list = $("#teams-list", root);
  const teams = viewer.teams.edges.map((edge) => edge.node);
  if (!teams.length) {
    let hint = viewer.admin ? "Create one below." : "Ask a team admin to invite you to one.";
    if (viewer.invites.length) hint = "Accept an invitation above to join one.";
    list.replaceChildren(h("p", { class: "muted", text: `You are not in any team. ${hint}` }));
    return;
  }
  const drawing = [];
  list.replaceChildren(...teams.map((team) => teamCard(team, viewer, page, drawing)));
  await Promise.all(drawing);
  const heading = joined && $(`[data-team="${CSS.escape(joined)}"] h3`, list);
  joined = null;
  if (heading) {
    heading.tabIndex = -1;
    heading.focus();
  }
}

function facts(team) {
  return [
    humanize(team.type),
    team.organization ? team.organization.name : "No organization",
    `${team.memberCount} ${team.memberCount === 1 ? "member" : "members"}`,
    team.viewerRole ? `You are ${team.viewerRole === "ADMIN" ? "an admin" : "a member"}` : null,
  ].filter(Boolean).join(" · ");
}

function teamCard(team, viewer, page, drawing) {
  const isAdmin = team.viewerRole === "ADMIN";
  const card = h("article", { class: "team", "aria-labelledby": `team-${team.id}-name`, "data-team": team.name });
  const summary = h("p", { class: "muted", text: facts(team) });
  // The tables' errors go to their own slot, not beside the invite form's field.
  const tables = h("div", { class: "team-tables" });
  const row = (member) => memberRow(team, member, viewer.username, isAdmin, tables, page);
  const body = h("tbody", {}, team.members.map(row));
  tables.append(
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "members" },
        h("caption", { class: "visually-hidden", text: `Members of ${team.name}` }),
        h("thead", {}, h("tr", {},
          h("th", { scope: "col", text: "Member" }),
          h("th", { scope: "col", text: "Role" }),
          h("th", { scope: "col", text: "Joined" }),
          h("th", { scope: "col" }, h("span", { class: "visually-hidden", text: "Actions" })),
        )),
        body,
      ),
    ),
  );
  const invites = isAdmin ? teamInvitations(team, viewer, tables, { act, person, page }) : null;
  if (invites) tables.append(invites.pending);
  tables.append(h("p", { class: "form-error", "data-error-for": "", role: "alert", hidden: true }));
  card.append(
    h("h3", { id: `team-${team.id}-name`, text: team.name }),
    summary,
    tables,
  );
  if (!isAdmin) return card;
  // Service accounts come and go without drawing the section anew: their new key shows.
  const counted = (change) => {
    team.memberCount += change;
    summary.textContent = facts(team);
  };
  const members = {
    added(member) {
      body.append(row(member));
      counted(1);
    },
    removed(username) {
      $(`tr[data-username="${CSS.escape(username)}"]`, body)?.remove();
      counted(-1);
    },
  };
  const alerts = teamAlerts(team, viewer.username);
  drawing.push(alerts.loaded);
  card.append(invites.form, serviceAccounts(team, viewer.username, { act, members }), alerts.element);
  return card;
}

function memberRow(team, member, me, isAdmin, root, page) {
  const { username } = member.profile;
  const self = username === me;
  // A service account stays a member until deleted: the API refuses to remove or promote it.
  const service = member.accountType === SERVICE;
  let role = h("span", { text: humanize(member.role) });
  if (isAdmin && !service) {
    role = h(
      "select",
      {
        "aria-label": `Role of ${username} in ${team.name}`,
        onchange: act(root, async (event) => {
          const input = { teamName: team.name, username, role: event.target.value };
          await change(root, page, UPDATE, "updateTeamMember", input, event.target);
        }),
      },
      ROLES.map((r) => h("option", { value: r, selected: r === member.role }, humanize(r))),
    );
  }
  const remove = (isAdmin || self) && !service && h("button", {
    type: "button",
    text: self ? "Leave" : "Remove",
    "aria-label": self ? `Leave ${team.name}` : `Remove ${username} from ${team.name}`,
    onclick: act(root, async (event) => {
      const input = { teamName: team.name, username };
      await change(root, page, REMOVE, "removeTeamMember", input, event.currentTarget);
    }),
  });
  return h("tr", { "data-username": username },
    h("td", {}, person(member.profile),
      service ? h("span", { class: "badge account-service", text: "Service account" }) : null),
    h("td", {}, role),
    h("td", { "data-label": "Joined" }, time(member.joinedAt, false)),
    h("td", { class: "row-actions" }, remove || null),
  );
}

async function change(root, page, mutation, field, input, control) {
  clearErrors(root);
  const result = (await busy(control, () => gql(mutation, { input })))[field];
  if (result.errors.length) {
    showErrors(root, result.errors);
    return;
  }
  page.changed("teams");
}

function organizationOptions(organizations, search) {
  const wanted = search.trim();
  const exact = organizations.find((o) => o.name.toLowerCase() === wanted.toLowerCase());
  const options = [h("option", { value: "" }, "No organization")];
  options.push(...organizations.map((o) => h("option", { value: `id:${o.id}` }, o.name)));
  if (wanted && !exact) {
    options.push(h("option", { value: NEW_ORGANIZATION }, `New organization “${wanted}”`));
  }
  return { options, preferred: exact ? `id:${exact.id}` : wanted ? NEW_ORGANIZATION : "" };
}

async function searchOrganizations(form) {
  const search = $("#team-org-search", form).value;
  const { organizations } = await gql(ORGANIZATIONS, { search: search.trim() || null });
  if (search !== $("#team-org-search", form).value) return; // a newer search is under way
  const select = $("#team-org", form);
  const { options, preferred } = organizationOptions(organizations, search);
  select.replaceChildren(...options);
  select.value = preferred;
  select.dataset.loaded = search;
}

function wireCreate(form, page) {
  let timer;
  $("#team-org-search", form).addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(action(form, () => searchOrganizations(form)), 200);
  });
  form.addEventListener("submit", (event) => event.preventDefault());
  form.addEventListener("submit", act(form, async (event) => {
    const choice = $("#team-org", form).value;
    const input = { teamName: $("#team-name", form).value.trim(), type: $("#team-type", form).value };
    if (choice.startsWith("id:")) input.organizationId = choice.slice(3);
    else if (choice === NEW_ORGANIZATION) input.organizationName = $("#team-org-search", form).value.trim();
    const admin = $("#team-admin", form).value.trim();
    if (admin) input.teamAdminUserName = admin;
    clearErrors(form);
    const { createTeam: result } = await busy(submitter(event), () => gql(CREATE, { input }));
    if (result.errors.length) {
      showErrors(form, result.errors);
      return;
    }
    form.reset();
    status(form, `Team ${result.team.name} created.`);
    page.changed("teams");
  }));
}
