// Teams: the viewer's teams with their members; team admins manage members, and
// administrators create teams, with an organization picked from `organizations(search:)`.

import { gql } from "../graphql.js";
import { $, action, busy, clearErrors, h, humanize, showErrors, status, submitter, time } from "../ui.js";

const TEAM = `id name type createdAt memberCount viewerRole organization { id name }
  members { role joinedAt profile { username name } }`;
const QUERY = `query Teams { viewer { username admin teams(first: 100) { edges { node { ${TEAM} } } } } }`;
const ORGANIZATIONS = `query Organizations($search: String) {
  organizations(search: $search, first: 20) { id name }
}`;
const CREATE = `mutation CreateTeam($input: CreateTeamInput!) {
  createTeam(input: $input) { team { id name } errors { field message code } }
}`;
const PAYLOAD = `{ team { id } errors { field message code } }`;
const ADD = `mutation AddTeamMember($input: AddTeamMemberInput!) { addTeamMember(input: $input) ${PAYLOAD} }`;
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

export async function load(root, page) {
  const { viewer } = await gql(QUERY);
  renderTeams(root, page, viewer);
  const form = $("#team-form", root);
  form.hidden = !viewer.admin;
  if (!wired) wireCreate(form, page);
  wired = true;
  if (viewer.admin && !$("#team-org-search", form).value) await searchOrganizations(form);
}

function renderTeams(root, page, viewer) {
  const list = $("#teams-list", root);
  const teams = viewer.teams.edges.map((edge) => edge.node);
  if (!teams.length) {
    const hint = viewer.admin ? "Create one below." : "Ask a team admin to add you to one.";
    list.replaceChildren(h("p", { class: "muted", text: `You are not in any team. ${hint}` }));
    return;
  }
  list.replaceChildren(...teams.map((team) => teamCard(team, viewer.username, page)));
}

function teamCard(team, me, page) {
  const isAdmin = team.viewerRole === "ADMIN";
  const card = h("article", { class: "team", "aria-labelledby": `team-${team.id}-name`, "data-team": team.name });
  const facts = [
    humanize(team.type),
    team.organization ? team.organization.name : "No organization",
    `${team.memberCount} ${team.memberCount === 1 ? "member" : "members"}`,
    team.viewerRole ? `You are ${team.viewerRole === "ADMIN" ? "an admin" : "a member"}` : null,
  ].filter(Boolean);
  const rows = team.members.map((member) => memberRow(team, member, me, isAdmin, card, page));
  card.append(
    h("h3", { id: `team-${team.id}-name`, text: team.name }),
    h("p", { class: "muted", text: facts.join(" · ") }),
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
        h("tbody", {}, rows),
      ),
    ),
    h("p", { class: "form-error", "data-error-for": "", role: "alert", hidden: true }),
  );
  if (isAdmin) card.append(addMemberForm(team, card, page));
  return card;
}

function memberRow(team, member, me, isAdmin, card, page) {
  const { username, name } = member.profile;
  const self = username === me;
  let role = h("span", { text: humanize(member.role) });
  if (isAdmin) {
    role = h(
      "select",
      {
        "aria-label": `Role of ${username} in ${team.name}`,
        onchange: action(card, async (event) => {
          const input = { teamName: team.name, username, role: event.target.value };
          await change(card, page, UPDATE, "updateTeamMember", input, event.target);
        }),
      },
      ROLES.map((r) => h("option", { value: r, selected: r === member.role }, humanize(r))),
    );
  }
  const remove = (isAdmin || self) && h("button", {
    type: "button",
    text: self ? "Leave" : "Remove",
    "aria-label": self ? `Leave ${team.name}` : `Remove ${username} from ${team.name}`,
    onclick: action(card, async (event) => {
      const input = { teamName: team.name, username };
      await change(card, page, REMOVE, "removeTeamMember", input, event.currentTarget);
    }),
  });
  return h("tr", {},
    h("td", {},
      h("span", { class: "member-name", text: name || username }),
      name && name !== username ? h("span", { class: "muted", text: ` ${username}` }) : null),
    h("td", {}, role),
    h("td", { "data-label": "Joined" }, time(member.joinedAt, false)),
    h("td", { class: "row-actions" }, remove || null),
  );
}

async function change(card, page, mutation, field, input, control) {
  clearErrors(card);
  const result = (await busy(control, () => gql(mutation, { input })))[field];
  if (result.errors.length) {
    showErrors(card, result.errors);
    return;
  }
  page.changed("teams");
}

function addMemberForm(team, card, page) {
  const id = `team-${team.id}-add`;
  const form = h("form", { class: "inline-form", novalidate: true, "aria-label": `Add a member to ${team.name}` },
    h("div", { class: "field" },
      h("label", { for: `${id}-username`, text: "Add member (username)" }),
      h("input", { id: `${id}-username`, name: "username", autocomplete: "off", required: true, maxlength: "64",
        "aria-describedby": `${id}-error` }),
    ),
    h("div", { class: "field narrow" },
      h("label", { for: `${id}-role`, text: "Role" }),
      h("select", { id: `${id}-role`, name: "role" }, h("option", { value: "MEMBER" }, "Member"), h("option", { value: "ADMIN" }, "Admin")),
    ),
    h("button", { type: "submit", text: "Add" }),
    h("p", { class: "field-error", id: `${id}-error`, "data-error-for": "username role teamName", hidden: true }),
  );
  form.addEventListener("submit", (event) => event.preventDefault());
  form.addEventListener("submit", action(card, async (event) => {
    const input = { teamName: team.name, username: form.username.value.trim(), role: form.role.value };
    clearErrors(form);
    const { addTeamMember: result } = await busy(submitter(event), () => gql(ADD, { input }));
    if (result.errors.length) {
      showErrors(form, result.errors);
      return;
    }
    page.changed("teams");
  }));
  return form;
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
  form.addEventListener("submit", action(form, async (event) => {
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
