// Alerts: which events reach which channel, the Slack connection, test alerts, the
// history (alert_history.js) and a live feed over graphql-transport-ws.

import { gql, isMissingApi } from "../graphql.js";
import { LiveSubscription } from "../live.js";
import { leaveFor, redirectUri, token } from "../session.js";
import { $, action, busy, clearErrors, h, humanize, showErrors, status, submitter, time } from "../ui.js";
import { added, clearHistory, eventFields, loadHistory, newestId, wireHistory } from "./alert_history.js";

const SETTINGS = `query AlertSettings {
  viewer {
    alertSubscriptions { id event channel enabled }
    slackIntegration { teamName channelName connectedAt }
  }
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
// Functions of the event's fields, which depend on what this server has (eventFields).
const testAlert = (fields) => `mutation SendTestAlert($input: SendTestAlertInput!) {
  sendTestAlert(input: $input) { alertEvent { ${fields} } errors { field message code } }
}`;
const feedQuery = (fields) => `subscription AlertFeed($after: ID) { alertEvents(after: $after) { ${fields} } }`;

const EVENTS = [
  ["RUN_FINISHED", "A run finishes"],
  ["RUN_CRASHED", "A run crashes"],
  ["SCRIPTABLE", "A run calls wandb.alert()"],
];
const CHANNELS = [
  ["EMAIL", "Email"],
  ["SLACK", "Slack"],
];

const state = {
  feed: null,
  lastSeenId: null,
  wired: false,
};

export async function load(root, page) {
  const { viewer } = await gql(SETTINGS);
  renderSlack(root, viewer.slackIntegration, page);
  renderMatrix(root, viewer.alertSubscriptions, Boolean(viewer.slackIntegration));
  await loadHistory(root);
  if (!state.lastSeenId) state.lastSeenId = newestId();
  if (!state.wired) {
    state.wired = true;
    wire(root, page);
  }
  if (!state.feed) startFeed(root);
}

/** Signed out: close the feed and forget this user's alerts. */
export function stop() {
  state.feed?.stop("Signed out.");
  Object.assign(state, { feed: null, lastSeenId: null });
  clearHistory();
  document.getElementById("live-feed").replaceChildren();
}

function renderSlack(root, slack, page) {
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
        if (result.errors.length) {
          showErrors(block, result.errors);
          return;
        }
        await load(root, page);
        page.changed("slack"); // Slack is no longer a destination
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
    query: feedQuery(eventFields()),
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
      // An older event comes again when its deliveries change: resume after the newest.
      if (!state.lastSeenId || Number(event.id) > Number(state.lastSeenId)) state.lastSeenId = event.id;
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
      gql(testAlert(eventFields()), { input: { channel } }),
    );
    if (result.errors.length) {
      showErrors(form, result.errors);
      return;
    }
    added(root, result.alertEvent);
    status(form, "Test alert sent.");
  }));
  wireHistory(root);
}
