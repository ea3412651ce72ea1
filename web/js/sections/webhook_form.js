// Adding a webhook or a Discord webhook (the viewer's or a team's: owner.js), and the box
// that shows a signing secret the one time the server answers it: when a webhook is
// made, and when its secret is rotated.

import { gql } from "../graphql.js";
import { action, busy, clearErrors, field, formError, h, showErrors, status, submitter } from "../ui.js";

const CREATE = `mutation CreateWebhookDestination($input: CreateWebhookDestinationInput!) {
  createWebhookDestination(input: $input) {
    destination { id kind name }
    signingSecret
    errors { field message code }
  }
}`;
const PLACEHOLDERS = {
  WEBHOOK: "https://example.com/hooks/switchboard",
  DISCORD: "https://discord.com/api/webhooks/…",
};
const HINTS = {
  created: "Your receiver checks each request's webhook-signature header with it (Standard Webhooks).",
  rotated: "The old secret keeps signing beside the new one for 24 hours: give your receiver the new one before then.",
};

/**
 * The secrets on show, by owner, until their Done button: a team's card is drawn anew
 * after a change of its members, and a secret lost then is lost for good.
 */
const shown = new Map();

function drawBox(owner, done) {
  const { id } = owner;
  const name = h("span");
  const hint = h("p", { class: "hint", id: id("destination-secret-hint") });
  const value = h("input", { id: id("destination-secret-value"), readonly: true, spellcheck: "false",
    "aria-describedby": hint.id });
  const copy = h("button", { type: "button", id: id("destination-secret-copy"), text: "Copy", onclick: async () => {
    try {
      await navigator.clipboard.writeText(value.value);
      copy.textContent = "Copied";
    } catch {
      value.select(); // no clipboard access: leave it selected
    }
  } });
  const element = h("div", { id: id("destination-secret"), class: "secret", role: "region",
    "aria-label": "The signing secret" },
  h("p", {}, h("strong", {}, "Copy the signing secret of ", name, " now."), " You will not see it again."),
  h("div", { class: "secret-row" },
    h("label", { class: "visually-hidden", for: value.id, text: "Signing secret" }),
    value, copy, h("button", { type: "button", id: id("destination-secret-done"), text: "Done", onclick: done })),
  hint);
  return { element, name, hint, value, copy };
}

/**
 * Where `owner`'s signing secrets show, drawn the first time one does:
 * `show({ name, secret, rotated })`. Done empties it and focuses `after()`.
 */
export function secretBox(owner, after) {
  const slot = h("div");
  let box = null;
  const done = () => {
    // The secret leaves the page: it cannot be fetched again.
    shown.delete(owner.key);
    box.value.value = "";
    box.element.hidden = true;
    after().focus();
  };
  /** Shows `entry`, focused unless `quiet` (drawn anew, not just answered). */
  const show = (entry, quiet = false) => {
    shown.set(owner.key, entry);
    if (!box) {
      box = drawBox(owner, done);
      slot.append(box.element);
    }
    box.name.textContent = entry.name;
    box.hint.textContent = entry.rotated ? HINTS.rotated : HINTS.created;
    box.copy.textContent = "Copy";
    box.value.value = entry.secret; // the property: the secret stays out of the markup
    box.element.hidden = false;
    if (quiet) return;
    box.value.focus();
    box.value.select();
  };
  if (shown.has(owner.key)) show(shown.get(owner.key), true);
  return { element: slot, show };
}

function fields(owner) {
  const { id } = owner;
  const kind = h("select", { id: id("webhook-kind"), name: "kind" },
    h("option", { value: "WEBHOOK" }, "Webhook"), h("option", { value: "DISCORD" }, "Discord"));
  const name = h("input", { id: id("webhook-name"), name: "name", required: true, maxlength: "64",
    autocomplete: "off", placeholder: owner.teamName ? "Team hook" : "Ops hook" });
  const url = h("input", { id: id("webhook-url"), name: "url", type: "url", inputmode: "url", required: true,
    autocomplete: "off", spellcheck: "false", placeholder: PLACEHOLDERS.WEBHOOK });
  kind.addEventListener("change", () => {
    url.placeholder = PLACEHOLDERS[kind.value];
  });
  return { kind, name, url };
}

/**
 * The form that adds a webhook of `owner`'s; `added(destination)` runs once the server
 * made one, before its secret shows in `secret` (a `secretBox`).
 */
export function webhookForm(owner, secret, added) {
  const { kind, name, url } = fields(owner);
  const form = h("form", { id: owner.id("webhook-form"), class: "stack subform", novalidate: true,
    "aria-label": owner.teamName ? `Add a webhook of ${owner.teamName}` : "Add a webhook" },
  h(owner.heading, { text: owner.teamName ? "Add a team webhook" : "Add a webhook" }),
  field("Kind", kind, { errorFor: "kind",
    hint: "A webhook gets each alert as signed JSON (Standard Webhooks); Discord posts it as a message in a "
      + "channel." }),
  field("Name", name, { errorFor: "name" }),
  field("URL", url, { errorFor: "url",
    hint: "An https address. Only its host is shown afterwards: the rest may hold a token." }),
  formError(),
  h("div", { class: "actions" },
    h("button", { type: "submit", class: "primary", text: "Add webhook" }),
    h("p", { class: "status", role: "status", "aria-live": "polite" })));
  form.addEventListener("submit", (event) => event.preventDefault());
  form.addEventListener("submit", action(form, async (event) => {
    const input = { kind: kind.value, name: name.value.trim(), url: url.value.trim() };
    if (owner.teamName) input.teamName = owner.teamName;
    clearErrors(form);
    const { createWebhookDestination: result } = await busy(submitter(event), () => gql(CREATE, { input }));
    if (result.errors.length) {
      showErrors(form, result.errors);
      return;
    }
    form.reset();
    url.placeholder = PLACEHOLDERS[kind.value];
    const { destination } = result;
    await added(destination);
    if (result.signingSecret) {
      secret.show({ name: destination.name, secret: result.signingSecret, rotated: false });
    } else {
      status(form, `${destination.name} added. Discord webhooks are not signed: keep the URL to yourself.`);
    }
  }));
  return { element: form, first: name };
}
