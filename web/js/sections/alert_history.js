// The alert history: the viewer's alerts newest first with their deliveries
// (deliveries.js), looked at again while one is on its way and updated by the live feed.

import { RequestFailed, Unavailable, gql } from "../graphql.js";
import { token } from "../session.js";
import { $, action, busy, h, humanize, time } from "../ui.js";
import { deliveryList, destinationName, forget, noted } from "./deliveries.js";

const EVENT = `id type title text severity entityName projectName runName createdAt`;
const DELIVERY = `id channel status attempts lastError deliveredAt
  destination { id name kind }
  attemptLog { at statusCode durationMs error }`;
// A server without destinations has deliveries of this much: the history still works.
const BASIC_DELIVERY = `channel status attempts lastError deliveredAt`;
const PAGE_SIZE = 20;
// The page (PAGE_SIZE) is written in the documents: the server counts a query's cost
// on it, and a page of events with their attempt logs is within the limit at this size.
const HISTORY = `query AlertHistory($after: String) {
  viewer { alertEvents(first: 20, after: $after) {
    edges { node { ${EVENT} deliveries { ${DELIVERY} } } }
    pageInfo { hasNextPage endCursor }
  } }
}`;
const BASIC_HISTORY = `query AlertHistoryBasic($after: String) {
  viewer { alertEvents(first: 20, after: $after) {
    edges { node { ${EVENT} deliveries { ${BASIC_DELIVERY} } } }
    pageInfo { hasNextPage endCursor }
  } }
}`;
const REDELIVER = `mutation RedeliverAlert($input: RedeliverAlertInput!) {
  redeliverAlert(input: $input) {
    alertEvent { ${EVENT} deliveries { ${DELIVERY} } }
    errors { field message code }
  }
}`;
const POLL_MS = 3000;
// Polls for delivery updates before giving up until the next change (about two minutes).
const MAX_POLLS = 40;

const state = {
  events: new Map(), // id → AlertEvent, shown newest first
  endCursor: null,
  hasMore: false,
  polls: 0,
  pollTimer: null,
  full: true, // whether this server has deliveries' destinations and attempt logs
};

/** What the page asks of an alert event: with attempt logs where the server has them. */
export function eventFields() {
  return `${EVENT} deliveries { ${state.full ? DELIVERY : BASIC_DELIVERY} }`;
}

/** Reads the newest page again, or with `more` the next older one. */
export async function loadHistory(root, { more = false } = {}) {
  const variables = { after: more ? state.endCursor : null };
  let viewer;
  try {
    ({ viewer } = await gql(state.full ? HISTORY : BASIC_HISTORY, variables));
  } catch (error) {
    if (!(error instanceof Unavailable) || !state.full) throw error;
    state.full = false;
    ({ viewer } = await gql(BASIC_HISTORY, variables));
  }
  const { edges, pageInfo } = viewer.alertEvents;
  // With older pages shown, those stay as they are: deliveries change on the newest.
  const replace = !more && state.events.size <= PAGE_SIZE;
  if (replace) state.events.clear();
  for (const { node } of edges) state.events.set(node.id, node);
  if (more || replace) {
    state.endCursor = pageInfo.endCursor;
    state.hasMore = pageInfo.hasNextPage;
  }
  render(root);
}

/** The newest alert's id, or null. */
export function newestId() {
  return [...state.events.values()].sort(newestFirst)[0]?.id ?? null;
}

/** An alert raised or changed (the live feed, a test alert): shown as it is now. */
export function added(root, event) {
  state.events.set(event.id, event);
  state.polls = 0;
  render(root);
}

/** Signed out: forget this user's alerts. */
export function clearHistory() {
  clearTimeout(state.pollTimer);
  Object.assign(state, { endCursor: null, hasMore: false, polls: 0 });
  state.events.clear();
  forget();
}

export function wireHistory(root) {
  $("#history-more", root).addEventListener("click", action(root, (event) =>
    busy(event.currentTarget, () => loadHistory(root, { more: true }))));
  $("#history-refresh", root).addEventListener("click", action(root, (event) =>
    busy(event.currentTarget, () => loadHistory(root))));
}

function newestFirst(a, b) {
  return b.createdAt.localeCompare(a.createdAt) || Number(b.id) - Number(a.id);
}

function render(root) {
  const events = [...state.events.values()].sort(newestFirst);
  const body = $("#alert-history", root);
  // Drawn anew: the keyboard focus goes back to the control it was on.
  const focused = body.contains(document.activeElement) ? document.activeElement.dataset.focusKey : null;
  body.replaceChildren(...events.map((event) => historyRow(root, event)));
  if (focused) refocus(body, focused);
  $("#history-empty", root).hidden = events.length > 0;
  $(".history", root).hidden = events.length === 0;
  $("#history-more", root).hidden = !state.hasMore;
  schedulePoll(root, events);
}

function refocus(body, key) {
  const target = body.querySelector(`[data-focus-key="${CSS.escape(key)}"]`);
  target?.focus();
  return Boolean(target);
}

function historyRow(root, event) {
  const run = event.runName ? `${event.entityName}/${event.projectName}/${event.runName}` : event.entityName;
  return h("tr", { "data-alert-id": event.id },
    h("td", {}, time(event.createdAt)),
    h("td", {},
      h("span", { class: `severity severity-${event.severity.toLowerCase()}`, text: humanize(event.severity) }),
      " ", h("strong", { text: event.title }),
      h("div", { class: "muted alert-text", text: event.text })),
    h("td", { class: "run", "data-label": "Run", text: run }),
    h("td", {}, deliveryList(event, (delivery, button) => redeliver(root, delivery, button))),
  );
}

async function redeliver(root, delivery, button) {
  const focused = document.activeElement === button;
  const line = $("#history-status", root);
  const name = destinationName(delivery);
  let result;
  try {
    result = (await busy(button, () => gql(REDELIVER, { input: { deliveryId: delivery.id } }))).redeliverAlert;
  } catch (error) {
    if (!(error instanceof RequestFailed)) throw error; // the banner says why
    return;
  }
  if (result.errors.length) {
    const message = result.errors.map((e) => e.message).join(" ");
    noted(delivery, { error: message });
    line.textContent = `${name}: ${message}`;
  } else {
    noted(delivery, { resent: true });
    line.textContent = `Sending the alert to ${name} again.`;
  }
  if (result.alertEvent) added(root, result.alertEvent);
  else render(root);
  // The button is gone while the delivery is on its way: its note takes the focus.
  if (focused) refocus($("#alert-history", root), `redeliver-${delivery.id}`)
    || refocus($("#alert-history", root), `note-${delivery.id}`);
}

// Deliveries are sent after the alert is recorded: while one is pending, look again.
function schedulePoll(root, events) {
  clearTimeout(state.pollTimer);
  const pending = events.some((e) => e.deliveries.some((d) => d.status === "PENDING"));
  if (!pending || state.polls >= MAX_POLLS || !token()) {
    if (!pending) state.polls = 0;
    return;
  }
  state.polls += 1;
  state.pollTimer = setTimeout(() => loadHistory(root).catch(() => {}), POLL_MS);
}
