// API keys: create (the secret is shown once) with scopes and an expiry, rename, delete.

import { gql } from "../graphql.js";
import {
  $,
  $$,
  action,
  busy,
  clearErrors,
  formatDate,
  formatDateTime,
  h,
  humanize,
  showErrors,
  status,
  submitter,
  time,
} from "../ui.js";

const KEY = `id name description prefix scopes expiresAt createdAt lastUsedAt`;
const QUERY = `query ApiKeys { viewer { apiKeys(first: 100) { edges { node { ${KEY} } } } } }`;
const GENERATE = `mutation GenerateApiKey($input: GenerateApiKeyInput!) {
  generateApiKey(input: $input) { apiKey { ${KEY} } secret errors { field message code } }
}`;
const RENAME = `mutation RenameApiKey($input: RenameApiKeyInput!) {
  renameApiKey(input: $input) { apiKey { ${KEY} } errors { field message code } }
}`;
const DELETE = `mutation DeleteApiKey($input: DeleteApiKeyInput!) {
  deleteApiKey(input: $input) { success errors { field message code } }
}`;

let wired = false;

export async function load(root) {
  const { viewer } = await gql(QUERY);
  render(root, viewer.apiKeys.edges.map((edge) => edge.node));
  if (!wired) wire(root);
  wired = true;
}

function render(root, keys) {
  $("#api-key-list", root).replaceChildren(...keys.map((key) => row(root, key)));
  showEmpty(root);
}

function showEmpty(root) {
  const empty = $("#api-key-list", root).children.length === 0;
  $("#api-keys-empty", root).hidden = !empty;
  $(".keys", root).hidden = empty;
}

function rowError(root) {
  return $("#api-keys-row-error", root);
}

function showRowErrors(root, errors) {
  const slot = rowError(root);
  slot.textContent = errors.map((e) => e.message).join(" ");
  slot.hidden = false;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const RELATIVE = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

/** "Never expires", "Expires in 5 days", "Expires Mar 1, 2026" or, past it, "Expired". */
function expiry(iso) {
  if (!iso) return h("span", { class: "muted", text: "Never expires" });
  const left = new Date(iso).getTime() - Date.now();
  const when = h("time", { datetime: iso, title: formatDateTime(iso) });
  if (left <= 0) {
    when.textContent = formatDate(iso);
    return h("span", { class: "expiry expired" }, h("strong", { text: "Expired" }), " ", when);
  }
  when.textContent = left < 31 * DAY_MS ? fromNow(left) : formatDate(iso);
  return h("span", { class: "expiry" }, "Expires ", when);
}

function fromNow(ms) {
  if (ms < 60 * 60 * 1000) return RELATIVE.format(Math.max(1, Math.round(ms / 60000)), "minute");
  if (ms < DAY_MS) return RELATIVE.format(Math.round(ms / 3600000), "hour");
  return RELATIVE.format(Math.round(ms / DAY_MS), "day");
}

function scopeList(scopes) {
  return h("ul", { class: "chips scope-chips", "aria-label": "Scopes" },
    scopes.map((scope) => h("li", { class: `scope-${scope.toLowerCase()}`, text: humanize(scope) })));
}

function row(root, key) {
  const tr = h("tr", { "data-key-id": key.id });
  const nameCell = h("td", {}, h("span", { class: "key-name", text: key.name }),
    key.description ? h("div", { class: "muted", text: key.description }) : null);
  const actions = h("td", { class: "row-actions" });
  tr.append(
    nameCell,
    h("td", { "data-label": "Key" }, h("code", { text: `${key.prefix}…` })),
    h("td", { "data-label": "Created" }, time(key.createdAt, false)),
    // No data-label: the text says "Expires …" itself, on phones too.
    h("td", { class: "key-expiry" }, expiry(key.expiresAt)),
    h("td", { "data-label": "Last used" }, time(key.lastUsedAt)),
    h("td", { "data-label": "Scopes" }, scopeList(key.scopes)),
    actions,
  );
  const idle = () => actions.replaceChildren(
    h("button", { type: "button", text: "Rename", "aria-label": `Rename key ${key.name}`, onclick: () => renaming() }),
    h("button", { type: "button", text: "Delete", "aria-label": `Delete key ${key.name}`, onclick: () => confirming() }),
  );
  const renaming = () => {
    const id = `api-key-${key.id}-name`;
    const input = h("input", { id, value: key.name, maxlength: "64", autocomplete: "off" });
    const save = action(root, async (event) => {
      event.preventDefault();
      rowError(root).hidden = true;
      const { renameApiKey: result } = await busy(submitter(event), () =>
        gql(RENAME, { input: { id: key.id, name: input.value.trim() } }));
      if (result.errors.length) {
        showRowErrors(root, result.errors);
        input.setAttribute("aria-invalid", "true");
        input.focus();
        return;
      }
      tr.replaceWith(row(root, result.apiKey));
      status($("#api-key-form", root), `Key renamed to ${result.apiKey.name}.`);
    });
    nameCell.replaceChildren(h("form", { class: "inline-form", onsubmit: save },
      h("label", { for: id, class: "visually-hidden", text: `New name for ${key.name}` }),
      input,
      h("button", { type: "submit", class: "primary", text: "Save" }),
      h("button", { type: "button", text: "Cancel", onclick: () => tr.replaceWith(row(root, key)) })));
    actions.replaceChildren();
    input.focus();
    input.select();
  };
  const confirming = () => {
    const yes = h("button", {
      type: "button",
      class: "danger-button",
      text: "Delete for good",
      onclick: action(root, async (event) => {
        rowError(root).hidden = true;
        const { deleteApiKey: result } = await busy(event.currentTarget, () =>
          gql(DELETE, { input: { id: key.id } }));
        if (result.errors.length) {
          showRowErrors(root, result.errors);
          return;
        }
        tr.remove();
        showEmpty(root);
        status($("#api-key-form", root), `Key ${key.name} deleted.`);
        $("#api-key-name", root).focus();
      }),
    });
    actions.replaceChildren(
      h("span", { class: "confirm-text", text: "Scripts using it stop working." }),
      yes,
      h("button", { type: "button", text: "Cancel", onclick: () => { idle(); } }),
    );
    yes.focus();
  };
  idle();
  return tr;
}

/** YYYY-MM-DD of `date` in the reader's time zone, as <input type="date"> holds it. */
function localDay(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** Shows the date field when "On a date…" is chosen; the error then describes the date. */
function syncExpiry(form) {
  const select = $("#api-key-expiry", form);
  const custom = select.value === "date";
  $("#api-key-expiry-date-field", form).hidden = !custom;
  if (custom) select.removeAttribute("aria-describedby");
  else select.setAttribute("aria-describedby", "api-key-expiry-error");
  // Guides the date picker only: the server decides (at most 366 days ahead, in the future).
  const date = $("#api-key-expiry-date", form);
  date.min = localDay(new Date());
  date.max = localDay(new Date(Date.now() + 365 * DAY_MS));
}

/** The input's expiresAt from the form, or an error for the field. */
function expiresAt(form) {
  const choice = $("#api-key-expiry", form).value;
  if (!choice) return {};
  if (choice !== "date") {
    return { value: new Date(Date.now() + Number(choice) * DAY_MS).toISOString() };
  }
  const day = $("#api-key-expiry-date", form).value;
  if (!day) return { error: "Choose the date the key expires, or another expiry." };
  const [year, month, date] = day.split("-").map(Number);
  // The end of the chosen day where the reader is, with its zone, as the API requires.
  return { value: new Date(year, month - 1, date, 23, 59, 59, 999).toISOString() };
}

function readInput(form) {
  const input = { name: $("#api-key-name", form).value.trim() };
  const description = $("#api-key-description", form).value.trim();
  if (description) input.description = description;
  input.scopes = $$('input[name="scopes"]:checked', form).map((box) => box.value);
  const errors = [];
  if (!input.scopes.length) {
    const message = "Choose at least one scope: a key without any can do nothing.";
    errors.push({ field: "scopes", message });
  }
  const expiry = expiresAt(form);
  if (expiry.error) errors.push({ field: "expiresAt", message: expiry.error });
  if (expiry.value) input.expiresAt = expiry.value;
  return { input, errors };
}

function wire(root) {
  const form = $("#api-key-form", root);
  const secret = $("#api-key-secret", root);
  syncExpiry(form);
  $("#api-key-expiry", form).addEventListener("change", () => syncExpiry(form));
  form.addEventListener("submit", (event) => event.preventDefault());
  form.addEventListener("submit", action(form, async (event) => {
    const { input, errors } = readInput(form);
    if (errors.length) {
      // The server refuses these too; saying so here spares a request.
      showErrors(form, errors);
      return;
    }
    clearErrors(form);
    const { generateApiKey: result } = await busy(submitter(event), () => gql(GENERATE, { input }));
    if (result.errors.length) {
      showErrors(form, result.errors);
      return;
    }
    form.reset();
    syncExpiry(form);
    $("#api-key-secret-value", root).value = result.secret;
    secret.hidden = false;
    $("#api-key-secret-value", root).focus();
    $("#api-key-secret-value", root).select();
    await load(root);
  }));
  $("#api-key-copy", root).addEventListener("click", async () => {
    const value = $("#api-key-secret-value", root).value;
    try {
      await navigator.clipboard.writeText(value);
      $("#api-key-copy", root).textContent = "Copied";
    } catch {
      $("#api-key-secret-value", root).select(); // no clipboard access: leave it selected
    }
  });
  $("#api-key-secret-done", root).addEventListener("click", () => {
    // The secret leaves the page: it cannot be fetched again.
    $("#api-key-secret-value", root).value = "";
    $("#api-key-copy", root).textContent = "Copy";
    secret.hidden = true;
    $("#api-key-name", root).focus();
  });
}
