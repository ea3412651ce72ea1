// One destination's row: its kind, target and state, with Test, Mute, Turn off, Digest,
// Rotate secret (webhooks) and Delete (not the account's email or Slack), the same for
// the viewer's destinations and a team's.

import { gql } from "../graphql.js";
import { $, action, busy, clearErrors, h, showErrors } from "../ui.js";
import { KINDS, digestForm, muteForm, muted, stateLine } from "./destination_forms.js";

export const DESTINATION = `id kind name target enabled disabledReason mutedUntil digestMinutes createdAt`;
const ERRORS = `errors { field message code }`;
const UPDATE = `mutation UpdateDestination($input: UpdateDestinationInput!) {
  updateDestination(input: $input) { destination { ${DESTINATION} } ${ERRORS} }
}`;
const ROTATE = `mutation RotateWebhookSecret($input: DestinationIdInput!) {
  rotateWebhookSecret(input: $input) { destination { ${DESTINATION} } signingSecret ${ERRORS} }
}`;
const DELETE = `mutation DeleteDestination($input: DestinationIdInput!) {
  deleteDestination(input: $input) { success ${ERRORS} }
}`;
const TEST = `mutation TestDestination($input: DestinationIdInput!) {
  testDestination(input: $input) { alertEvent { id } ${ERRORS} }
}`;

/** The account's email and Slack: they can be turned off and muted, not deleted. */
function builtIn(d) {
  return d.kind === "EMAIL" || d.kind === "SLACK";
}

/**
 * The row of `d`. `part` is where it lives: `heading` (its name's tag), `say(text)` for
 * its status line, `secret` (a secretBox) and `deleted(li, d)` once the server deleted it.
 */
export function destinationRow(d, part) {
  const li = h("li", { class: "destination", "data-destination-id": d.id, "data-kind": d.kind });
  const actions = h("div", { class: "actions destination-actions" });
  const editing = h("div", { class: "destination-editor" });
  const errors = h("p", { class: "form-error", "data-error-for": "", role: "alert", hidden: true });
  li.append(
    h(part.heading, { class: "destination-name", text: d.name }),
    h("p", { class: "destination-target" },
      h("span", { class: `badge kind-${d.kind.toLowerCase()}`, text: KINDS[d.kind] || d.kind }), " ",
      h("span", { class: "muted", text: d.target })),
    stateLine(d),
    actions,
    editing,
    errors,
  );
  /** Draws `next` in this row's place, the focus on the control that had it. */
  const redraw = (next, key) => {
    const fresh = destinationRow(next, part);
    li.replaceWith(fresh);
    const target = $(`[data-action="${key}"]`, fresh) || $("button", fresh);
    target?.focus();
  };
  /** updateDestination with `input`; errors go beside the fields of `where`. */
  const update = async (input, control, where, key, said) => {
    clearErrors(li);
    const { updateDestination: result } = await busy(control, () => gql(UPDATE, { input: { id: d.id, ...input } }));
    if (result.errors.length) {
      showErrors(where, result.errors);
      return;
    }
    redraw(result.destination, key);
    part.say(said(result.destination));
  };
  const button = (key, text, label, onclick) =>
    h("button", { type: "button", text, "aria-label": label, "data-action": key, onclick: action(li, onclick) });
  const open = (form) => {
    actions.hidden = true;
    editing.replaceChildren(form);
    $("select, input", form)?.focus();
  };
  const close = (key) => {
    editing.replaceChildren();
    clearErrors(li);
    actions.hidden = false;
    $(`[data-action="${key}"]`, actions)?.focus();
  };
  const idle = () => actions.replaceChildren(...[
    button("test", "Test", `Test ${d.name}`, async (event) => {
      clearErrors(li);
      const { testDestination: result } = await busy(event.currentTarget, () => gql(TEST, { input: { id: d.id } }));
      if (result.errors.length) showErrors(li, result.errors);
      else part.say(`Test alert sent to ${d.name}: see how it went in the history of Alerts.`);
    }),
    muted(d)
      ? button("mute", "Unmute", `Unmute ${d.name}`, (event) =>
        update({ mutedUntil: null }, event.currentTarget, li, "mute", (n) => `${n.name} is no longer muted.`))
      : button("mute", "Mute…", `Mute ${d.name}`, () => open(muteForm(d, {
        cancel: () => close("mute"),
        save: (form, mutedUntil) => update({ mutedUntil }, $('[type="submit"]', form), form, "mute",
          (n) => `${n.name} is muted.`),
      }))),
    button("power", d.enabled ? "Turn off" : "Turn on", `${d.enabled ? "Turn off" : "Turn on"} ${d.name}`, (event) =>
      update({ enabled: !d.enabled }, event.currentTarget, li, "power",
        (n) => `${n.name} is ${n.enabled ? "on" : "off"}.`)),
    button("digest", "Digest…", `Digest of ${d.name}`, () => open(digestForm(d, {
      cancel: () => close("digest"),
      save: (form, digestMinutes) => update({ digestMinutes }, $('[type="submit"]', form), form, "digest",
        (n) => (n.digestMinutes ? `${n.name} gathers its alerts.` : `${n.name} sends each alert alone.`)),
    }))),
    d.kind === "WEBHOOK"
      ? button("rotate", "Rotate secret", `Rotate secret of ${d.name}`, async (event) => {
        clearErrors(li);
        const { rotateWebhookSecret: result } = await busy(event.currentTarget, () =>
          gql(ROTATE, { input: { id: d.id } }));
        if (result.errors.length) {
          showErrors(li, result.errors);
          return;
        }
        redraw(result.destination, "rotate");
        part.secret.show({ name: d.name, secret: result.signingSecret, rotated: true });
      })
      : null,
    builtIn(d) ? null : button("delete", "Delete", `Delete ${d.name}`, () => confirming()),
  ].filter(Boolean));
  const confirming = () => {
    const yes = h("button", {
      type: "button",
      class: "danger-button",
      text: "Delete for good",
      // The visible words first, as speech input says them.
      "aria-label": `Delete for good: ${d.name}`,
      onclick: action(li, async (event) => {
        clearErrors(li);
        const { deleteDestination: result } = await busy(event.currentTarget, () =>
          gql(DELETE, { input: { id: d.id } }));
        if (result.errors.length) showErrors(li, result.errors);
        else await part.deleted(li, d);
      }),
    });
    actions.replaceChildren(
      h("span", { class: "confirm-text", text: "Its routes lose it, and alerts on their way to it are not sent." }),
      yes,
      h("button", { type: "button", text: "Cancel", "data-action": "delete", onclick: () => {
        idle();
        $('[data-action="delete"]', actions).focus();
      } }),
    );
    yes.focus();
  };
  idle();
  return li;
}
