// Team invitations: the viewer's own, to accept or decline ("Your invitations"), and, in
// the card of each team the viewer runs, the ones waiting for an answer, with Withdraw,
// and the form that sends one (site administrators may also add a member directly).

import { gql } from "../graphql.js";
import { $, busy, clearErrors, h, humanize, showErrors, submitter, time } from "../ui.js";

const ERRORS = `errors { field message code }`;
const PAYLOAD = `{ team { id name } ${ERRORS} }`;
const INVITE = `id name email role createdAt toUser { username name }`;
// A query of its own: with the members, a page of teams would cost more than the
// server's query cost limit allows. Empty lists for the teams the viewer does not run.
const PENDING = `query TeamInvites { viewer { teams(first: 100) { edges { node { id invites { ${INVITE} } } } } } }`;
const ADD = `mutation AddTeamMember($input: AddTeamMemberInput!) { addTeamMember(input: $input) ${PAYLOAD} }`;
const CREATE_INVITE = `mutation CreateInvite($input: CreateInviteInput!) {
  createInvite(input: $input) { invite { ${INVITE} } ${ERRORS} }
}`;
const ACCEPT_INVITE = `mutation AcceptInvite($input: InviteIdInput!) { acceptInvite(input: $input) ${PAYLOAD} }`;
const DELETE_INVITE = `mutation DeleteInvite($input: InviteIdInput!) {
  deleteInvite(input: $input) { success ${ERRORS} }
}`;

/** The invitations waiting in each of the viewer's teams, by team id. */
export async function pendingByTeam() {
  const { viewer } = await gql(PENDING);
  return new Map(viewer.teams.edges.map(({ node }) => [node.id, node.invites]));
}

/** Says `text` in a status line until the next action in this section. */
function say(line, text) {
  line.textContent = text;
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

function invitee(invite) {
  return invite.toUser ? invite.toUser.username : invite.email;
}

/**
 * Fills "Your invitations" with `invites`, hiding it while there are none. `act` wraps a
 * handler as the rest of the section does; `joined(teamName)` runs on an acceptance,
 * before `page.changed("teams")` draws the section anew.
 */
export function renderInvitations(root, invites, { act, page, joined }) {
  const block = $("#team-invites", root);
  block.hidden = !invites.length;
  $("#team-invites-list", root).replaceChildren(...invites.map((invite) =>
    invitationRow(block, invite, { act, page, joined })));
}

function invitationRow(block, invite, { act, page, joined }) {
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
    joined(result.team.name);
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

/**
 * The invitation parts of `team`'s card, for its admins: `pending`, the table of those
 * waiting, which goes among the card's tables (`tables`, where its errors show), and
 * `form`, the invite form. `act` wraps a handler as the rest of the section does;
 * `person(profile)` draws a member's name as the members table does.
 */
export function teamInvitations(team, viewer, tables, { act, person, page }) {
  const pending = pendingInvites(team, tables, { act, person });
  return { pending: pending.block, form: inviteForm(team, viewer, pending, { act, page }) };
}

/** The team's invitations waiting for an answer (hidden while there are none), each
 * with a Withdraw button; the invite form sets `withdrawn(who, focusKept)` and calls
 * `add(invite)`. */
function pendingInvites(team, root, { act, person }) {
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

function inviteForm(team, viewer, pending, { act, page }) {
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
