// /settings/connected: where Slack and GitHub send the browser back with `code` and
// `state`. Completes the flow the settings page started, then returns to it.

import { Unavailable, gql } from "./graphql.js";
import { setFlash, takeProvider, token } from "./session.js";

const PROVIDERS = {
  slack: {
    label: "Slack",
    section: "alerts",
    mutation: `mutation ConnectSlack($input: CompleteConnectInput!) {
      connectSlack(input: $input) { slackIntegration { teamName channelName } errors { field message code } }
    }`,
    done: (payload) => `Slack is connected to ${payload.slackIntegration.teamName}.`,
  },
  github: {
    label: "GitHub",
    section: "github",
    mutation: `mutation ConnectGithub($input: CompleteConnectInput!) {
      connectGithub(input: $input) { githubIntegration { login } errors { field message code } }
    }`,
    done: (payload) => `GitHub is connected as ${payload.githubIntegration.login}.`,
  },
};

const title = document.getElementById("connected-title");
const message = document.getElementById("connected-message");

function fail(text, section = "") {
  title.textContent = "The connection was not made";
  message.textContent = text;
  message.setAttribute("role", "alert");
  document.getElementById("connected-back").href = `/settings${section ? `#${section}` : ""}`;
  document.body.dataset.done = "failed";
}

async function finish() {
  const params = new URLSearchParams(location.search);
  // The code is single-use: keep it out of the address bar, history and a reload.
  history.replaceState(null, "", location.pathname);
  const provider = PROVIDERS[takeProvider()];
  if (!provider) {
    fail("This page did not start a connection. Start again from the settings page.");
    return;
  }
  if (params.get("error")) {
    fail(`${provider.label} did not grant access (${params.get("error")}).`, provider.section);
    return;
  }
  const code = params.get("code");
  const state = params.get("state");
  if (!code || !state) {
    fail(`${provider.label} sent no code back. Start again from the settings page.`, provider.section);
    return;
  }
  if (!token()) {
    fail("You are not signed in in this tab. Sign in, then connect again.", provider.section);
    return;
  }
  title.textContent = `Connecting ${provider.label}…`;
  let payload;
  try {
    const data = await gql(provider.mutation, { input: { code, state } });
    payload = Object.values(data)[0];
  } catch (error) {
    const why = error instanceof Unavailable ? "This server cannot connect it yet." : error.message;
    fail(why, provider.section);
    return;
  }
  if (payload.errors.length) {
    fail(payload.errors.map((e) => e.message).join(" "), provider.section);
    return;
  }
  setFlash(provider.done(payload));
  location.replace(`/settings#${provider.section}`);
}

finish();
