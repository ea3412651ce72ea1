// Personal GitHub integration: connect through GitHub's OAuth flow, see the
// organizations granted, disconnect.

import { gql } from "../graphql.js";
import { leaveFor, redirectUri } from "../session.js";
import { $, action, busy, clearErrors, h, showErrors, time } from "../ui.js";

const QUERY = `query GithubIntegration {
  viewer { githubIntegration { login avatarUrl organizations scopes connectedAt } }
}`;
const START = `mutation StartGithubConnect($input: StartConnectInput!) {
  startGithubConnect(input: $input) { authorizeUrl errors { field message code } }
}`;
const DISCONNECT = `mutation DisconnectGithub {
  disconnectGithub(input: {}) { success errors { field message code } }
}`;

export async function load(root) {
  const { viewer } = await gql(QUERY);
  render(root, viewer.githubIntegration);
}

function render(root, github) {
  const box = $("#github-status", root);
  if (!github) {
    box.replaceChildren(
      h("p", { text: "Not connected." }),
      h("button", { type: "button", class: "primary", text: "Connect GitHub", onclick: action(root, connect) }),
    );
    return;
  }
  const organizations = github.organizations.length
    ? h("ul", { class: "chips", "aria-label": "Organizations granted" },
        github.organizations.map((login) => h("li", { text: login })))
    : h("p", { class: "muted", text: "No organizations granted." });
  box.replaceChildren(
    h("div", { class: "github-account" },
      github.avatarUrl ? h("img", { class: "avatar avatar-small", src: github.avatarUrl, alt: "" }) : null,
      h("p", {}, "Connected as ", h("strong", { text: github.login }), " since ", time(github.connectedAt, false), ".")),
    h("h3", { text: "Organizations" }),
    organizations,
    github.scopes.length ? h("p", { class: "muted", text: `Scopes: ${github.scopes.join(", ")}` }) : null,
    h("button", {
      type: "button",
      text: "Disconnect GitHub",
      onclick: action(root, async (event) => {
        clearErrors(root);
        const { disconnectGithub: result } = await busy(event.currentTarget, () => gql(DISCONNECT));
        if (result.errors.length) showErrors(root, result.errors);
        else await load(root);
      }),
    }),
  );
}

async function connect(event) {
  const root = event.currentTarget.closest("section");
  clearErrors(root);
  const input = { redirectUri: redirectUri() };
  const { startGithubConnect: result } = await busy(event.currentTarget, () => gql(START, { input }));
  if (result.errors.length) {
    showErrors(root, result.errors);
    return;
  }
  leaveFor("github", result.authorizeUrl);
}
