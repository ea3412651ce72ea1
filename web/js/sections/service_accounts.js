// A team's service accounts, in its card, for the team's admins: the list with a Delete
// button each, and a form that makes one and shows its first API key once. The members
// table (teams.js) lists them too, badged; `members` keeps it up to date from here.

import { gql } from "../graphql.js";
import { $, busy, clearErrors, h, humanize, showErrors, submitter, time } from "../ui.js";

const ERRORS = `errors { field message code }`;
const CREATE = `mutation CreateServiceAccount($input: CreateServiceAccountInput!) {
  createServiceAccount(input: $input) {
    user { id username name createdAt } apiKey { id prefix scopes } secret ${ERRORS}
  }
}`;
const DELETE = `mutation DeleteServiceAccount($input: DeleteServiceAccountInput!) {
  deleteServiceAccount(input: $input) { success ${ERRORS} }
}`;
export const SERVICE = "SERVICE";

/**
 * The new keys on show, by viewer and team, until their Done button: the section is
 * drawn anew after a role change or a removal, and a key lost then is lost for good.
 */
const shown = new Map();

/**
 * The "Service accounts" part of `team`'s card. `act(root, handler)` wraps a handler as
 * the rest of the section does; `members.added(member)` and `members.removed(username)`
 * keep the members table up to date.
 */
export function serviceAccounts(team, viewer, { act, members }) {
  const id = `team-${team.id}-sa`;
  const key = `${viewer}/${team.id}`;
  const form = newAccountForm(team, id);
  const slot = h("div");
  const showSecret = (entry, focus) => {
    const box = secretBox(id, entry, () => {
      // The key leaves the page: it cannot be fetched again.
      shown.delete(key);
      box.remove();
      form.description.focus();
    });
    slot.replaceChildren(box);
    if (!focus) return;
    const field = $("input", box);
    field.focus();
    field.select();
  };
  const list = accountList(team, id, act, (account, focusKept) => {
    if (shown.get(key)?.account.username === account.username) {
      shown.delete(key);
      slot.replaceChildren();
    }
    members.removed(account.username);
    if (!focusKept) form.description.focus();
    form.say(`Service account ${account.name} deleted: its keys no longer sign in.`);
  });
  if (shown.has(key)) showSecret(shown.get(key), false);

  form.element.addEventListener("submit", (event) => event.preventDefault());
  form.element.addEventListener("submit", act(form.element, async (event) => {
    clearErrors(form.element);
    const input = { entityName: team.name, description: form.description.value.trim() };
    const { createServiceAccount: result } = await busy(submitter(event), () => gql(CREATE, { input }));
    if (result.errors.length) {
      showErrors(form.element, result.errors);
      return;
    }
    const { user, apiKey, secret } = result;
    const account = { username: user.username, name: user.name, joinedAt: user.createdAt };
    const entry = { account, secret, scopes: apiKey.scopes };
    shown.set(key, entry);
    list.add(account);
    members.added({ profile: { username: user.username, name: user.name }, role: "MEMBER",
      joinedAt: user.createdAt, accountType: SERVICE });
    form.description.value = "";
    form.say(`Service account ${user.name} created.`);
    showSecret(entry, true);
  }));
  return h("section", { class: "service-accounts", "aria-labelledby": `${id}-title` },
    h("h4", { id: `${id}-title`, text: "Service accounts" }),
    h("p", { class: "hint", text: "Members for CI and shared machines: they sign in with their API keys only." }),
    list.block,
    slot,
    form.element,
  );
}

/** The team's service accounts, a row each with Delete (confirmed first); after a
 * deletion, `deleted(account, focusKept)`. */
function accountList(team, id, act, deleted) {
  const body = h("tbody");
  const empty = h("p", { class: "muted", text: "No service accounts yet." });
  const wrap = h("div", { class: "table-wrap" }, h("table", { class: "members", "aria-labelledby": `${id}-title` },
    h("thead", {}, h("tr", {},
      h("th", { scope: "col", text: "Service account" }),
      h("th", { scope: "col", text: "Since" }),
      h("th", { scope: "col" }, h("span", { class: "visually-hidden", text: "Actions" })),
    )),
    body,
  ));
  const block = h("div", {}, empty, wrap,
    h("p", { class: "form-error", "data-error-for": "", role: "alert", hidden: true }));
  const sync = () => {
    empty.hidden = body.children.length > 0;
    wrap.hidden = !empty.hidden;
  };
  /** Drops `tr` and focuses the next (or previous) row's button; false if none. */
  const drop = (tr) => {
    const next = tr.nextElementSibling || tr.previousElementSibling;
    tr.remove();
    sync();
    next?.querySelector("button")?.focus();
    return Boolean(next);
  };
  const row = (account) => {
    const tr = h("tr", { "data-username": account.username });
    const actions = h("td", { class: "row-actions" });
    const idle = () => {
      const button = h("button", { type: "button", text: "Delete",
        "aria-label": `Delete service account ${account.username}`, onclick: () => confirming() });
      actions.replaceChildren(button);
      return button;
    };
    const remove = act(block, async (event) => {
      clearErrors(block);
      const input = { entityName: team.name, username: account.username };
      const { deleteServiceAccount: result } = await busy(event.currentTarget, () => gql(DELETE, { input }));
      if (result.errors.length) {
        showErrors(block, result.errors);
        return;
      }
      deleted(account, drop(tr));
    });
    const confirming = () => {
      const yes = h("button", { type: "button", class: "danger-button", text: "Delete for good",
        // The visible words first, as speech input says them.
        "aria-label": `Delete for good: ${account.username}`, onclick: remove });
      actions.replaceChildren(
        h("span", { class: "confirm-text", text: "Its keys stop working at once." }),
        yes,
        h("button", { type: "button", text: "Cancel", onclick: () => idle().focus() }),
      );
      yes.focus();
    };
    idle();
    tr.append(
      h("td", {},
        h("span", { class: "member-name", text: account.name }),
        h("span", { class: "muted", text: ` ${account.username}` })),
      h("td", { "data-label": "Since" }, time(account.joinedAt, false)),
      actions,
    );
    return tr;
  };
  body.append(...team.members.filter((m) => m.accountType === SERVICE).map((m) =>
    row({ username: m.profile.username, name: m.profile.name, joinedAt: m.joinedAt })));
  sync();
  const add = (account) => {
    body.append(row(account));
    sync();
  };
  return { block, add };
}

function newAccountForm(team, id) {
  const description = h("input", { id: `${id}-description`, name: "description", required: true,
    maxlength: "128", autocomplete: "off", "aria-describedby": `${id}-hint ${id}-error` });
  const line = h("p", { class: "status", role: "status", "aria-live": "polite" });
  const element = h("form", { class: "inline-form", novalidate: true,
    "aria-label": `New service account for ${team.name}` },
    h("div", { class: "field" }, h("label", { for: description.id, text: "Description" }), description),
    h("button", { type: "submit", text: "Create service account" }),
    h("p", { class: "hint", id: `${id}-hint`, text: "What it is for, such as “Nightly CI”: it becomes its name." }),
    h("p", { class: "field-error", id: `${id}-error`, "data-error-for": "description", hidden: true }),
    h("p", { class: "form-error", "data-error-for": "", role: "alert", hidden: true }),
    line,
  );
  // Stays until the next action in the section, which clears every status line.
  return { element, description, say: (text) => { line.textContent = text; } };
}

/** The new key, shown once as the API keys section shows one; `done()` on Done. */
function secretBox(id, { account, secret, scopes }, done) {
  const field = h("input", { id: `${id}-secret`, readonly: true, spellcheck: "false" });
  field.value = secret; // the property: the key stays out of the markup
  const copy = h("button", { type: "button", text: "Copy", onclick: async () => {
    try {
      await navigator.clipboard.writeText(field.value);
      copy.textContent = "Copied";
    } catch {
      field.select(); // no clipboard access: leave it selected
    }
  } });
  return h("div", { class: "secret", role: "region", "aria-label": `API key of ${account.name}` },
    h("p", {}, h("strong", { text: `Copy the API key of ${account.name} now.` }), " It is shown only this once."),
    h("div", { class: "secret-row" },
      h("label", { class: "visually-hidden", for: field.id, text: `API key of ${account.username}` }),
      field,
      copy,
      h("button", { type: "button", text: "Done", onclick: done }),
    ),
    h("p", { class: "hint" },
      "Runs sign in with it as ", h("code", { text: "WANDB_API_KEY" }),
      ` (in CI, a secret variable). Its scopes: ${scopes.map(humanize).join(", ")}.`),
  );
}
