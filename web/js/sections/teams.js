// Teams: the viewer's teams with their members and, for their admins, the invitations
// waiting and the service accounts (service_accounts.js); the viewer's own invitations
// to accept or decline. Team admins invite, site administrators may also add a member
// directly, and create teams, with an organization picked from `organizations(search:)`.

import { gql } from "../graphql.js";
import { $, $$, action, busy, clearErrors, h, humanize, showErrors, status, submitter, time } from "../ui.js";
import { SERVICE, serviceAccounts } from "./service_accounts.js";

const ERRORS = `errors { field message code }`;
const INVITE = `id name email role createdAt toUser { username name }`;
const TEAM = `id name type createdAt memberCount viewerRole organization { id name }
  members { role joinedAt accountType profile { username name } }`;
const QUERY = `query Teams { viewer { username admin
  invites { id name role createdAt fromUser { username } }
  teams(first: 100) { edges { node { ${TEAM} } } } } }`;
// A query of its own: with the members, a page of teams would cost more than the
// server's query cost limit allows. Empty lists for the teams the viewer does not run.
const PENDING = `query TeamInvites { viewer { teams(first: 100) { edges { node { id invites { ${INVITE} } } } } } }`;
const ORGANIZATIONS = `query Organizations($search: String) {
  organizations(search: $search, first: 20) { id name }
}`;
const CREATE = `mutation CreateTeam($input: CreateTeamInput!) {
  createTeam(input: $input) { team { id name } ${ERRORS} }
}`;
const PAYLOAD = `{ team { id name } ${ERRORS} }`;
const ADD = `mutation AddTeamMember($input: AddTeamMemberInput!) { addTeamMember(input: $input) ${PAYLOAD} }`;
const UPDATE = `mutation UpdateTeamMember($input: UpdateTeamMemberInput!) {
  updateTeamMember(input: $input) ${PAYLOAD}
}`;
const REMOVE = `mutation RemoveTeamMember($input: RemoveTeamMemberInput!) {
  removeTeamMember(input: $input) ${PAYLOAD}
}`;
const CREATE_INVITE = `mutation CreateInvite($input: CreateInviteInput!) {
  createInvite(input: $input) { invite { ${INVITE} } ${ERRORS} }
}`;
const ACCEPT_INVITE = `mutation AcceptInvite($input: InviteIdInput!) { acceptInvite(input: $input) ${PAYLOAD} }`;
const DELETE_INVITE = `mutation DeleteInvite($input: InviteIdInput!) {
  deleteInvite(input: $input) { success ${ERRORS} }
}`;
const ROLES = ["ADMIN", "MEMBER"];
const NEW_ORGANIZATION = "new";

export const reloadOn = ["teams"];

let wired = false;
/** The team just joined: its heading takes the focus once the reloaded list shows it. */
let joined = null;

export async function load(root, page) {
  const [{ viewer }, pending] = await Promise.all([gql(QUERY), gql(PENDING)]);
  const invites = new Map(pending.viewer.teams.edges.map(({ node }) => [node.id, node.invites]));
  for (const { node } of viewer.teams.edges) node.invites = invites.get(node.id) || [];
  renderInvitations(root, page, viewer.invites);
  renderTeams(root, page, viewer);
  const form = $("#team-form", root);
  form.hidden = !viewer.admin;
  if (!wired) wireCreate(form, page);
  wired = true;
  if (viewer.admin && !$("#team-org-search", form).value) await searchOrganizations(form);
}

/** Says `text` in a status line until the next action in this section. */
function say(line, text) {
  line.textContent = text;
}

/** `action`, which first clears what the last action said: its news is old now. */
function act(root, handler) {
  return action(root, (event) => {
    for (const line of $$("#teams .status")) line.textContent = "";
    return handler(event);
  });
}

/** Removes `row` from its table, hiding `block` once the table is empty, and focuses
 * a button of the next (or previous) row, if any, so the keyboard keeps its place. */
function dropRow(row, block) {
  const next = row.nextElementSibling || row.previousElementSibling;
  row.remove();
  if (!next) block.hidden = true;
  next?.querySelector("button")?.focus();
  return Boolean(next);
}

function person(profile) {
  const { username, name } = profile;
  return [
    h("span", { class: "member-name", text: name || username }),
    name && name !== username ? h("span", { class: "muted", text: ` ${username}` }) : null,
  ];
}

function invitee(invite) {
  return invite.toUser ? invite.toUser.username : invite.email;
}

function renderInvitations(root, page, invites) {
  const block = $("#team-invites", root);
  block.hidden = !invites.length;
  $("#team-invites-list", root).replaceChildren(...invites.map((invite) => invitationRow(block, page, invite)));
}

function invitationRow(block, page, invite) {
  const row = h("tr", { "data-invite": invite.id });
  const answer = (mutation, field, done) => act(block, async (event) => {
    clearErrors(block);
    const result = (await busy(event.currentTarget, () => gql(mutation, { input: { id: invite.id } })))[field];
    if (result.errors.length) {
      showErrors(block, result.errors);
      return;
    }
    done(result);
  });
  const accepted = (result) => {
    joined = result.team.name;
    say($("#teams-status"), `You joined ${result.team.name}.`);
    page.changed("teams");
  };
  const declined = () => {
    say($("#teams-status"), `You declined the invitation to ${invite.name}.`);
    dropRow(row, block);
  };
  row.append(
    h("td", {}, h("span", { class: "member-name", text: invite.name })),
    h("td", { "data-label": "Role" }, humanize(invite.role)),
    h("td", { "data-label": "From" },
      invite.fromUser ? invite.fromUser.username : h("span", { class: "muted", text: "A deleted account" })),
    h("td", { "data-label": "Sent" }, time(invite.createdAt)),
    h("td", { class: "row-actions" },
      h("button", { type: "button", class: "primary", text: "Accept", "aria-label": `Accept the invitation to ${invite.name}`,
        onclick: answer(ACCEPT_INVITE, "acceptInvite", accepted) }),
      h("button", { type: "button", text: "Decline", "aria-label": `Decline the invitation to ${invite.name}`,
        onclick: answer(DELETE_INVITE, "deleteInvite", declined) }),
    ),
  );
  return row;
}

function renderTeams(root, page, viewer) {
  const list = $("#teams-list", root);
  const teams = viewer.teams.edges.map((edge) => edge.node);
  if (!teams.length) {
    let hint = viewer.admin ? "Create one below." : "Ask a team admin to invite you to one.";
    if (viewer.invites.length) hint = "Accept an invitation above to join one.";
    list.replaceChildren(h("p", { class: "muted", text: `You are not in any team. ${hint}` }));
    return;
  }
  list.replaceChildren(...teams.map((team) => teamCard(team, viewer, page)));
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

function teamCard(team, viewer, page) {
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
  const pending = isAdmin ? pendingInvites(team, tables) : null;
  if (pending) tables.append(pending.block);
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
  card.append(inviteForm(team, viewer, pending, page), serviceAccounts(team, viewer.username, { act, members }));
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

/** The team's invitations waiting for an answer (hidden while there are none), each
 * with a Withdraw button; the invite form sets `withdrawn(who, focusKept)` and calls
 * `add(invite)`. */
function pendingInvites(team, root) {
  const titleId = `team-${team.id}-invites`;
  const body = h("tbody");
  const block = h("div", { class: "pending-invites", hidden: !team.invites.length },
    h("h4", { id: titleId, text: "Pending invitations" }),
    h("div", { class: "table-wrap" }, h("table", { class: "members", "aria-labelledby": titleId },
      h("thead", {}, h("tr", {},
        h("th", { scope: "col", text: "Invitee" }),
        h("th", { scope: "col", text: "Role" }),
        h("th", { scope: "col", text: "Sent" }),
        h("th", { scope: "col" }, h("span", { class: "visually-hidden", text: "Actions" })),
      )),
      body,
    )),
  );
  const pending = { block, withdrawn: () => {} };
  const row = (invite) => {
    const who = invitee(invite);
    const tr = h("tr", { "data-invite": invite.id });
    const withdraw = act(root, async (event) => {
      clearErrors(root);
      const { deleteInvite: result } = await busy(event.currentTarget, () =>
        gql(DELETE_INVITE, { input: { id: invite.id } }));
      if (result.errors.length) {
        showErrors(root, result.errors);
        return;
      }
      pending.withdrawn(who, dropRow(tr, block));
    });
    tr.append(
      h("td", {}, invite.toUser ? person(invite.toUser) : h("span", { class: "member-name", text: invite.email })),
      h("td", { "data-label": "Role" }, humanize(invite.role)),
      h("td", { "data-label": "Sent" }, time(invite.createdAt)),
      h("td", { class: "row-actions" }, h("button", {
        type: "button", text: "Withdraw", "aria-label": `Withdraw the invitation to ${who}`, onclick: withdraw,
      })),
    );
    return tr;
  };
  body.append(...team.invites.map(row));
  pending.add = (invite) => {
    body.append(row(invite));
    block.hidden = false;
  };
  return pending;
}

function inviteForm(team, viewer, pending, page) {
  const id = `team-${team.id}-invite`;
  const who = h("input", { id: `${id}-who`, name: "invitee", autocomplete: "off", required: true, maxlength: "254",
    "aria-describedby": `${id}-error` });
  const role = h("select", { id: `${id}-role`, name: "role" },
    h("option", { value: "MEMBER" }, "Member"), h("option", { value: "ADMIN" }, "Admin"));
  const form = h("form", { class: "inline-form", novalidate: true, "aria-label": `Invite someone to ${team.name}` },
    h("div", { class: "field" }, h("label", { for: who.id, text: "Username or email" }), who),
    h("div", { class: "field narrow" }, h("label", { for: role.id, text: "Role" }), role),
    h("button", { type: "submit", text: "Invite" }),
    // Site admins may skip the invitation (addTeamMember); a username only.
    viewer.admin ? h("button", { type: "submit", value: "add", text: "Add without invitation" }) : null,
    h("p", { class: "field-error", id: `${id}-error`, "data-error-for": "username email role entityName teamName",
      hidden: true }),
    h("p", { class: "status", role: "status", "aria-live": "polite" }),
  );
  pending.withdrawn = (name, focusKept) => {
    say($(".status", form), `Invitation to ${name} withdrawn.`);
    if (!focusKept) who.focus();
  };
  form.addEventListener("submit", (event) => event.preventDefault());
  form.addEventListener("submit", act(form, async (event) => {
    const button = submitter(event);
    const text = who.value.trim();
    clearErrors(form);
    if (button.value === "add") {
      const input = { teamName: team.name, username: text, role: role.value };
      const { addTeamMember: result } = await busy(button, () => gql(ADD, { input }));
      if (result.errors.length) showErrors(form, result.errors);
      else page.changed("teams");
      return;
    }
    // An address has an "@"; a username never does.
    const input = { entityName: team.name, role: role.value, [text.includes("@") ? "email" : "username"]: text };
    const { createInvite: result } = await busy(button, () => gql(CREATE_INVITE, { input }));
    if (result.errors.length) {
      showErrors(form, result.errors);
      return;
    }
    pending.add(result.invite);
    who.value = "";
    say($(".status", form), `Invitation sent to ${invitee(result.invite)}.`);
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
