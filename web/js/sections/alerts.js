// Alerts: which events reach which channel, the Slack connection, test alerts, the
// history with each delivery's status, and a live feed over graphql-transport-ws.

import { gql, isMissingApi } from "../graphql.js";
import { LiveSubscription } from "../live.js";
import { leaveFor, redirectUri, token } from "../session.js";
import { $, action, busy, clearErrors, h, humanize, showErrors, status, submitter, time } from "../ui.js";

const EVENT_FIELDS = `id type title text severity entityName projectName runName createdAt
  deliveries { channel status attempts lastError deliveredAt }`;
const SETTINGS = `query AlertSettings {
  viewer {
    alertSubscriptions { id event channel enabled }
    slackIntegration { teamName channelName connectedAt }
  }
}`;
const HISTORY = `query AlertHistory($first: Int, $after: String) {
  viewer { alertEvents(first: $first, after: $after) {
    edges { cursor node { ${EVENT_FIELDS} } }
    pageInfo { hasNextPage endCursor }
  } }
}`;
const SUBSCRIBE = `mutation SetAlertSubscription($input: SetAlertSubscriptionInput!) {
  setAlertSubscription(input: $input) {
    alertSubscription { event channel enabled } errors { field message code }
  }
}`;
const START_SLACK = `mutation StartSlackConnect($input: StartConnectInput!) {
  startSlackConnect(input: $input) { authorizeUrl errors { field message code } }
}`;
const DISCONNECT_SLACK = `mutation DisconnectSlack {
  disconnectSlack(input: {}) { success errors { field message code } }
}`;
const TEST_ALERT = `mutation SendTestAlert($input: SendTestAlertInput!) {
  sendTestAlert(input: $input) { alertEvent { ${EVENT_FIELDS} } errors { field message code } }
}`;
const FEED = `subscription AlertFeed($after: ID) { alertEvents(after: $after) { ${EVENT_FIELDS} } }`;

const EVENTS = [
  ["RUN_FINISHED", "A run finishes"],
  ["RUN_CRASHED", "A run crashes"],
  ["SCRIPTABLE", "A run calls wandb.alert()"],
];
const CHANNELS = [
  ["EMAIL", "Email"],
  ["SLACK", "Slack"],
];
const PAGE_SIZE = 20;
const POLL_MS = 3000;
// Polls for delivery updates before giving up until the next change (about two minutes).
const MAX_POLLS = 40;

const state = {
  events: new Map(), // id → AlertEvent, shown in the history newest first
  endCursor: null,
  hasMore: false,
  feed: null,
  lastSeenId: null,
  polls: 0,
  pollTimer: null,
  wired: false,
};

export async function load(root, page) {
  const { viewer } = await gql(SETTINGS);
  renderSlack(root, viewer.slackIntegration);
  renderMatrix(root, viewer.alertSubscriptions, Boolean(viewer.slackIntegration));
  await loadHistory(root);
  if (!state.wired) {
    state.wired = true;
    wire(root, page);
  }
  if (!state.feed) startFeed(root);
}

/** Signed out: close the feed and forget this user's alerts. */
export function stop() {
  state.feed?.stop("Signed out.");
  clearTimeout(state.pollTimer);
  Object.assign(state, { feed: null, lastSeenId: null, endCursor: null, hasMore: false, polls: 0 });
  state.events.clear();
  document.getElementById("live-feed").replaceChildren();
}

function renderSlack(root, slack) {
  const block = $("#slack-block", root);
  const box = $("#slack-status", root);
  if (!slack) {
    box.replaceChildren(
      h("p", { text: "Not connected. Connect a Slack channel to get alerts there." }),
      h("button", { type: "button", class: "primary", text: "Connect Slack", onclick: action(block, connect) }),
    );
    return;
  }
  box.replaceChildren(
    h("p", {},
      "Connected to ", h("strong", { text: slack.teamName }),
      slack.channelName ? [", channel ", h("strong", { text: slack.channelName })] : null,
      ", since ", time(slack.connectedAt, false), "."),
    h("button", {
      type: "button",
      text: "Disconnect Slack",
      onclick: action(block, async (event) => {
        clearErrors(block);
        const { disconnectSlack: result } = await busy(event.currentTarget, () => gql(DISCONNECT_SLACK));
        if (result.errors.length) showErrors(block, result.errors);
        else await load(root);
      }),
    }),
  );
}

async function connect(event) {
  const block = event.currentTarget.closest("#slack-block");
  clearErrors(block);
  const input = { redirectUri: redirectUri() };
  const { startSlackConnect: result } = await busy(event.currentTarget, () => gql(START_SLACK, { input }));
  if (result.errors.length) {
    showErrors(block, result.errors);
    return;
  }
  leaveFor("slack", result.authorizeUrl);
}

function renderMatrix(root, subscriptions, slackConnected) {
  const block = $("#alert-matrix-block", root);
  const enabled = new Set(subscriptions.filter((s) => s.enabled).map((s) => `${s.event}/${s.channel}`));
  const rows = EVENTS.map(([event, label]) =>
    h("tr", {},
      h("th", { scope: "row", text: label }),
      CHANNELS.map(([channel, channelLabel]) => {
        const unavailable = channel === "SLACK" && !slackConnected;
        const toggle = h("input", {
          type: "checkbox",
          role: "switch",
          checked: enabled.has(`${event}/${channel}`),
          disabled: unavailable,
          "aria-label": `${channelLabel}: ${label.toLowerCase()}`,
          title: unavailable ? "Connect Slack first" : null,
          "data-event": event,
          "data-channel": channel,
        });
        toggle.addEventListener("change", action(block, () => setSubscription(block, toggle, event, channel)));
        return h("td", {}, toggle);
      }),
    ),
  );
  $("#alert-matrix", root).replaceChildren(...rows);
}

async function setSubscription(block, toggle, event, channel) {
  clearErrors(block);
  const wanted = toggle.checked;
  const input = { event, channel, enabled: wanted };
  let result;
  try {
    result = (await busy(toggle, () => gql(SUBSCRIBE, { input }))).setAlertSubscription;
  } catch (error) {
    toggle.checked = !wanted;
    throw error;
  }
  if (result.errors.length) {
    toggle.checked = !wanted;
    showErrors(block, result.errors);
    return;
  }
  toggle.checked = result.alertSubscription.enabled;
}

async function loadHistory(root, { more = false } = {}) {
  const first = more ? PAGE_SIZE : Math.max(PAGE_SIZE, Math.min(state.events.size, 100));
  const variables = { first, after: more ? state.endCursor : null };
  const { viewer } = await gql(HISTORY, variables);
  const { edges, pageInfo } = viewer.alertEvents;
  if (!more) state.events.clear();
  for (const { node } of edges) state.events.set(node.id, node);
  state.endCursor = pageInfo.endCursor;
  state.hasMore = pageInfo.hasNextPage;
  if (!state.lastSeenId && edges.length) state.lastSeenId = edges[0].node.id;
  renderHistory(root);
}

function newestFirst(a, b) {
  return b.createdAt.localeCompare(a.createdAt) || Number(b.id) - Number(a.id);
}

function renderHistory(root) {
  const events = [...state.events.values()].sort(newestFirst);
  $("#alert-history", root).replaceChildren(...events.map(historyRow));
  $("#history-empty", root).hidden = events.length > 0;
  $(".history", root).hidden = events.length === 0;
  $("#history-more", root).hidden = !state.hasMore;
  schedulePoll(root, events);
}

function historyRow(event) {
  const run = event.runName ? `${event.entityName}/${event.projectName}/${event.runName}` : event.entityName;
  return h("tr", { "data-alert-id": event.id },
    h("td", {}, time(event.createdAt)),
    h("td", {},
      h("span", { class: `severity severity-${event.severity.toLowerCase()}`, text: humanize(event.severity) }),
      " ", h("strong", { text: event.title }),
      h("div", { class: "muted alert-text", text: event.text })),
    h("td", { class: "run", "data-label": "Run", text: run }),
    h("td", {}, deliveries(event.deliveries)),
  );
}

function deliveries(list) {
  if (!list.length) return h("span", { class: "muted", text: "No channel" });
  return h("ul", { class: "deliveries" }, list.map((d) => {
    const attempts = d.attempts > 1 ? ` after ${d.attempts} attempts` : "";
    return h("li", { "data-channel": d.channel, "data-status": d.status },
      h("span", { class: "channel", text: humanize(d.channel) }), " ",
      h("span", { class: `badge status-${d.status.toLowerCase()}`, text: humanize(d.status) }),
      d.status === "DELIVERED" || d.status === "FAILED" ? attempts : "",
      d.lastError ? h("div", { class: "muted delivery-error", text: d.lastError }) : null);
  }));
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

function added(root, event) {
  state.events.set(event.id, event);
  state.polls = 0;
  renderHistory(root);
}

function feedItem(event) {
  const run = event.runName ? ` · ${event.entityName}/${event.projectName}/${event.runName}` : "";
  return h("li", { "data-alert-id": event.id },
    time(event.createdAt), " ",
    h("span", { class: `severity severity-${event.severity.toLowerCase()}`, text: humanize(event.severity) }),
    " ", h("strong", { class: "feed-title", text: event.title }),
    h("span", { class: "muted", text: run }),
    h("div", { class: "alert-text", text: event.text }));
}

const LIVE_STATUS = {
  connecting: () => "Connecting…",
  live: () => "Live: new alerts appear here as they are raised.",
  retrying: (seconds) => `Connection lost; reconnecting in ${seconds} s…`,
  unavailable: () => "Live updates are not available on this server yet.",
  stopped: (why) => `Not connected. ${why || ""}`,
};

function startFeed(root) {
  const line = $("#live-status", root);
  const feed = $("#live-feed", root);
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  state.feed = new LiveSubscription({
    url: `${scheme}//${location.host}/graphql`,
    query: FEED,
    variables: () => ({ after: state.lastSeenId }),
    authorization: () => ({ Authorization: `Bearer ${token()}` }),
    isMissingApi,
    onStatus(kind, detail) {
      line.textContent = LIVE_STATUS[kind](detail);
      line.dataset.state = kind;
      // Where the feed resumed from, for whoever debugs a gap (and for the tests).
      if (kind === "live") line.dataset.after = detail.after ?? "";
    },
    onNext(data) {
      const event = data.alertEvents;
      state.lastSeenId = event.id;
      if (!feed.querySelector(`[data-alert-id="${CSS.escape(event.id)}"]`)) {
        feed.prepend(feedItem(event));
      }
      added(root, event);
    },
  });
  state.feed.start();
}

function wire(root) {
  const form = $("#test-alert-form", root);
  form.addEventListener("submit", (event) => event.preventDefault());
  form.addEventListener("submit", action(form, async (event) => {
    const channel = $("#test-alert-channel", form).value || null;
    clearErrors(form);
    const { sendTestAlert: result } = await busy(submitter(event), () =>
      gql(TEST_ALERT, { input: { channel } }),
    );
    if (result.errors.length) {
      showErrors(form, result.errors);
      return;
    }
    added(root, result.alertEvent);
    status(form, "Test alert sent.");
  }));
  $("#history-more", root).addEventListener("click", action(root, (event) =>
    busy(event.currentTarget, () => loadHistory(root, { more: true }))));
  $("#history-refresh", root).addEventListener("click", action(root, (event) =>
    busy(event.currentTarget, () => loadHistory(root))));
}
