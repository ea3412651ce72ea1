// API keys: create (the secret is shown once), rename, delete.

import { gql } from "../graphql.js";
import { $, action, busy, clearErrors, h, showErrors, status, submitter, time } from "../ui.js";

const KEY = `id name description prefix createdAt lastUsedAt`;
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

function row(root, key) {
  const tr = h("tr", { "data-key-id": key.id });
  const nameCell = h("td", {}, h("span", { class: "key-name", text: key.name }),
    key.description ? h("div", { class: "muted", text: key.description }) : null);
  const actions = h("td", { class: "row-actions" });
  tr.append(
    nameCell,
    h("td", { "data-label": "Key" }, h("code", { text: `${key.prefix}…` })),
    h("td", { "data-label": "Created" }, time(key.createdAt, false)),
    h("td", { "data-label": "Last used" }, time(key.lastUsedAt)),
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

function wire(root) {
  const form = $("#api-key-form", root);
  const secret = $("#api-key-secret", root);
  form.addEventListener("submit", (event) => event.preventDefault());
  form.addEventListener("submit", action(form, async (event) => {
    const input = { name: $("#api-key-name", form).value.trim() };
    const description = $("#api-key-description", form).value.trim();
    if (description) input.description = description;
    clearErrors(form);
    const { generateApiKey: result } = await busy(submitter(event), () => gql(GENERATE, { input }));
    if (result.errors.length) {
      showErrors(form, result.errors);
      return;
    }
    form.reset();
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
