// Adding a webhook or a Discord webhook, and the box that shows a signing secret the
// one time the server answers it: when a webhook is made, and when its secret is rotated.

import { gql } from "../graphql.js";
import { $, action, busy, clearErrors, showErrors, status, submitter } from "../ui.js";

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

/** Shows `secret`, the signing secret of the webhook `name`, and focuses it. */
export function showSecret(root, { name, secret, rotated }) {
  const value = $("#destination-secret-value", root);
  $("#destination-secret-name", root).textContent = name;
  $("#destination-secret-hint", root).textContent = rotated ? HINTS.rotated : HINTS.created;
  $("#destination-secret-copy", root).textContent = "Copy";
  value.value = secret; // the property: the secret stays out of the markup
  $("#destination-secret", root).hidden = false;
  value.focus();
  value.select();
}

function wireSecret(root) {
  const value = $("#destination-secret-value", root);
  const copy = $("#destination-secret-copy", root);
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(value.value);
      copy.textContent = "Copied";
    } catch {
      value.select(); // no clipboard access: leave it selected
    }
  });
  $("#destination-secret-done", root).addEventListener("click", () => {
    // The secret leaves the page: it cannot be fetched again.
    value.value = "";
    $("#destination-secret", root).hidden = true;
    $("#webhook-name", root).focus();
  });
}

function syncKind(form) {
  $("#webhook-url", form).placeholder = PLACEHOLDERS[$("#webhook-kind", form).value];
}

/** Wires the form; `added(destination)` runs once the server made one. */
export function wireWebhookForm(root, added) {
  const form = $("#webhook-form", root);
  wireSecret(root);
  syncKind(form);
  $("#webhook-kind", form).addEventListener("change", () => syncKind(form));
  form.addEventListener("submit", (event) => event.preventDefault());
  form.addEventListener("submit", action(form, async (event) => {
    const input = {
      kind: $("#webhook-kind", form).value,
      name: $("#webhook-name", form).value.trim(),
      url: $("#webhook-url", form).value.trim(),
    };
    clearErrors(form);
    const { createWebhookDestination: result } = await busy(submitter(event), () => gql(CREATE, { input }));
    if (result.errors.length) {
      showErrors(form, result.errors);
      return;
    }
    form.reset();
    syncKind(form);
    const { destination } = result;
    await added(destination);
    if (result.signingSecret) {
      showSecret(root, { name: destination.name, secret: result.signingSecret, rotated: false });
    } else {
      status(form, `${destination.name} added. Discord webhooks are not signed: keep the URL to yourself.`);
    }
  }));
}
