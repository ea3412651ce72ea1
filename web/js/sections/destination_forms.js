// What a destination's row says of its state, and the two small forms it opens in
// place: Mute (for an hour, a day, a week or until a chosen time) and Digest.

import { action, formatDateTime, h, showErrors } from "../ui.js";

export const KINDS = { EMAIL: "Email", SLACK: "Slack", WEBHOOK: "Webhook", DISCORD: "Discord" };
const MINUTE_MS = 60 * 1000;
const MUTE_FOR = [
  ["60", "1 hour"],
  ["1440", "1 day"],
  ["10080", "1 week"],
  ["until", "Until a time…"],
];
const DIGESTS = [
  ["", "Send each alert alone"],
  ["15", "Every 15 minutes"],
  ["60", "Every hour"],
  ["1440", "Once a day"],
];

/** Whether `destination` is muted now. */
export function muted(destination) {
  return Boolean(destination.mutedUntil) && new Date(destination.mutedUntil).getTime() > Date.now();
}

export function digestWords(minutes) {
  if (minutes === 60) return "Digest every hour";
  if (minutes === 1440) return "Digest once a day";
  return `Digest every ${minutes} minute${minutes === 1 ? "" : "s"}`;
}

/** "On", "Turned off by the server: …", "Muted until …", with its digest, as a line. */
export function stateLine(d) {
  const parts = [];
  let kind = "on";
  if (!d.enabled && d.disabledReason) {
    kind = "stopped";
    parts.push(h("strong", { text: "Turned off by the server: " }), d.disabledReason,
      " Turn it on again once the receiver works.");
  } else if (!d.enabled) {
    kind = "off";
    parts.push(h("strong", { text: "Turned off:" }), " alerts skip it.");
  } else if (muted(d)) {
    kind = "muted";
    parts.push(h("strong", { text: "Muted until " }),
      h("time", { datetime: d.mutedUntil, text: formatDateTime(d.mutedUntil) }),
      ": its alerts are recorded as suppressed.");
  } else {
    parts.push(h("strong", { text: "On" }));
  }
  if (d.digestMinutes) parts.push(h("span", { class: "digest", text: ` · ${digestWords(d.digestMinutes)}` }));
  return h("p", { class: `destination-state state-${kind}`, "data-state": kind }, ...parts);
}

/** A value for <input type="datetime-local">: the reader's local time, to the minute. */
function localMinute(date) {
  const pad = (n) => String(n).padStart(2, "0");
  const day = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  return `${day}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function editor(d, label, fields, button, cancel) {
  const form = h("form", { class: "inline-form", novalidate: true, "aria-label": `${label} ${d.name}` },
    ...fields,
    h("button", { type: "submit", class: "primary", text: button }),
    h("button", { type: "button", text: "Cancel", onclick: cancel }),
    h("p", { class: "field-error", id: `destination-${d.id}-edit-error`,
      "data-error-for": "mutedUntil digestMinutes", hidden: true }),
    h("p", { class: "form-error", "data-error-for": "", role: "alert", hidden: true }),
  );
  form.addEventListener("submit", (event) => event.preventDefault());
  return form;
}

/** The Mute form of `d`: `save(form, mutedUntil)` runs with the ISO time chosen. */
export function muteForm(d, { save, cancel }) {
  const id = `destination-${d.id}`;
  const choice = h("select", { id: `${id}-mute-for`, name: "muteFor" },
    MUTE_FOR.map(([value, text]) => h("option", { value }, text)));
  const until = h("input", { id: `${id}-mute-until`, type: "datetime-local", name: "mutedUntil",
    min: localMinute(new Date()), "aria-describedby": `${id}-edit-error` });
  const untilField = h("div", { class: "field", hidden: true },
    h("label", { for: until.id, text: "Until" }), until);
  choice.addEventListener("change", () => {
    untilField.hidden = choice.value !== "until";
    if (!untilField.hidden && !until.value) until.value = localMinute(new Date(Date.now() + 60 * MINUTE_MS));
  });
  const form = editor(d, "Mute", [
    h("div", { class: "field narrow" }, h("label", { for: choice.id, text: "Mute for" }), choice),
    untilField,
  ], "Mute", cancel);
  form.addEventListener("submit", action(form, async () => {
    // datetime-local holds the reader's local time, which Date reads as such.
    const at = choice.value === "until"
      ? new Date(until.value)
      : new Date(Date.now() + Number(choice.value) * MINUTE_MS);
    if (Number.isNaN(at.getTime()) || at.getTime() <= Date.now()) {
      showErrors(form, [{ field: "mutedUntil", message: "Choose a time in the future." }]);
      return;
    }
    await save(form, at.toISOString());
  }));
  return form;
}

/** The Digest form of `d`: `save(form, minutes)`, null for each alert alone. */
export function digestForm(d, { save, cancel }) {
  const id = `destination-${d.id}`;
  const choices = [...DIGESTS];
  const current = d.digestMinutes ? String(d.digestMinutes) : "";
  if (!choices.some(([value]) => value === current)) choices.push([current, digestWords(d.digestMinutes)]);
  const select = h("select", { id: `${id}-digest`, name: "digestMinutes", "aria-describedby": `${id}-edit-error` },
    choices.map(([value, text]) => h("option", { value, selected: value === current }, text)));
  const form = editor(d, "Digest of", [
    h("div", { class: "field" }, h("label", { for: select.id, text: "Gather alerts" }), select),
  ], "Save", cancel);
  form.addEventListener("submit", action(form, () => save(form, select.value ? Number(select.value) : null)));
  return form;
}
