// The deliveries of one alert in the history: where each went, its status, its attempts
// behind a disclosure, and Redeliver on a finished one. The history is drawn anew on
// every change, so what the reader opened, and the outcome of a redelivery, are kept
// here by delivery id and drawn again.

import { h, humanize } from "../ui.js";

/** Statuses after which a delivery can be sent again. */
const FINISHED = new Set(["DELIVERED", "FAILED", "SUPPRESSED"]);
const SECONDS = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

const opened = new Set(); // ids of the deliveries whose attempts are shown
const notes = new Map(); // delivery id → { error } or { resent: true }, the last redelivery's outcome

/** Signed out: forget what this user opened and sent again. */
export function forget() {
  opened.clear();
  notes.clear();
}

/** Records the outcome of a redelivery of `delivery`, drawn with it from now on. */
export function noted(delivery, note) {
  notes.set(delivery.id, note);
}

/** Where a delivery went, in words: its destination's name, or the channel's. */
export function destinationName(delivery) {
  return delivery.destination?.name || humanize(delivery.channel);
}

/**
 * The deliveries of `event` as a list; `redeliver(delivery, button)` runs on a
 * Redeliver button.
 */
export function deliveryList(event, redeliver) {
  const list = event.deliveries;
  if (!list.length) return h("span", { class: "muted", text: "No channel" });
  return h("ul", { class: "deliveries" }, list.map((delivery) => item(event, delivery, redeliver)));
}

function item(event, d, redeliver) {
  const name = destinationName(d);
  const attempts = d.attempts > 1 && (d.status === "DELIVERED" || d.status === "FAILED")
    ? ` after ${d.attempts} attempts` : "";
  return h("li", { "data-delivery-id": d.id, "data-channel": d.channel, "data-status": d.status },
    h("span", { class: "channel", text: name }), " ",
    h("span", { class: `badge status-${d.status.toLowerCase()}`, text: humanize(d.status) }),
    attempts,
    d.lastError ? h("div", { class: "muted delivery-error", text: d.lastError }) : null,
    attemptLog(d),
    d.id && FINISHED.has(d.status)
      ? h("button", {
        type: "button",
        class: "small-button",
        text: "Redeliver",
        // The visible word first, as speech input says it.
        "aria-label": `Redeliver “${event.title}” to ${name}`,
        "data-focus-key": `redeliver-${d.id}`,
        onclick: (click) => redeliver(d, click.currentTarget),
      })
      : null,
    note(d),
  );
}

function note(d) {
  const found = notes.get(d.id);
  if (!found) return null;
  const props = { class: found.error ? "field-error delivery-note" : "delivery-note",
    tabindex: "-1", "data-focus-key": `note-${d.id}` };
  if (found.error) return h("p", { ...props, text: found.error });
  const text = d.status === "PENDING" ? "Sending again…" : `Sent again: ${humanize(d.status).toLowerCase()}.`;
  return h("p", { ...props, text });
}

function attemptLog(d) {
  if (!d.attemptLog?.length) return null; // none yet, or a server without attempt logs
  const details = h("details", { class: "attempts", open: opened.has(d.id) },
    h("summary", { "data-focus-key": `attempts-${d.id}`, text: `Attempts (${d.attemptLog.length})` }),
    h("ol", { class: "attempt-log" }, d.attemptLog.map((attempt) => attemptItem(attempt, d.channel))));
  details.addEventListener("toggle", () => {
    if (details.open) opened.add(d.id);
    else opened.delete(d.id);
  });
  return details;
}

function attemptItem(attempt, channel) {
  const protocol = channel === "EMAIL" ? "SMTP" : "HTTP";
  const answer = attempt.statusCode === null ? "No answer" : `${protocol} ${attempt.statusCode}`;
  return h("li", {},
    h("time", { datetime: attempt.at, text: SECONDS.format(new Date(attempt.at)) }),
    h("span", { class: "attempt-code", text: answer }),
    h("span", { class: "attempt-duration", text: `${attempt.durationMs} ms` }),
    attempt.error ? h("span", { class: "attempt-error", text: attempt.error }) : null);
}
