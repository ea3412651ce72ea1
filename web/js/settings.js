// The settings page: sign in, then load each section on its own, so a section whose
// API this server lacks shows a note instead of breaking the others.

import { RequestFailed, Unavailable, gql, onRequestFailed } from "./graphql.js";
import { $, busy, h } from "./ui.js";
import { setToken, signOut, takeFlash, takeTokenFromFragment, token } from "./session.js";
import * as profile from "./sections/profile.js";
import * as projectDefaults from "./sections/defaults.js";
import * as teams from "./sections/teams.js";
import * as beta from "./sections/beta.js";
import * as alerts from "./sections/alerts.js";
import * as destinations from "./sections/destinations.js";
import * as routes from "./sections/routes.js";
import * as github from "./sections/github.js";
import * as apiKeys from "./sections/api_keys.js";
import * as storage from "./sections/storage.js";
import * as deleteAccount from "./sections/delete_account.js";

const SECTIONS = {
  profile,
  "project-defaults": projectDefaults,
  teams,
  "beta-features": beta,
  alerts,
  destinations,
  "alert-routes": routes,
  github,
  "api-keys": apiKeys,
  storage,
  "delete-account": deleteAccount,
};

const VIEWER = `query Viewer { viewer { username name email admin photoUrl } }`;

const banner = {
  show(message) {
    $("#banner-text").textContent = message;
    $("#banner").hidden = false;
  },
  hide() {
    $("#banner").hidden = true;
  },
};

/** What every section is handed: the viewer, and ways to talk to the page. */
const page = {
  viewer: null,
  banner,
  /** Loads the sections again whose data `change` touched ("teams", "photo", …). */
  changed(change) {
    for (const [id, section] of Object.entries(SECTIONS)) {
      if (section.reloadOn?.includes(change)) load(id);
    }
    if (change === "photo" || change === "profile") showViewer().catch(() => {});
  },
  signedOut(message) {
    signOut();
    alerts.stop?.();
    $("#sections").hidden = true;
    $("#who").hidden = true;
    $("#sign-in").hidden = false;
    if (message) banner.show(message);
  },
  accountDeleted() {
    signOut();
    alerts.stop?.();
    $("#sections").hidden = true;
    $("#who").hidden = true;
    $("#deleted").hidden = false;
    $("#deleted").focus();
  },
};

function describe(errors) {
  const error = errors[0] || {};
  if (error.extensions?.code === "UNAUTHENTICATED") {
    return `${error.message} Get a new sign-in link (make run prints one) or paste a token.`;
  }
  return errors.map((e) => e.message).join(" ");
}

onRequestFailed((errors) => {
  if (errors[0]?.extensions?.code === "UNAUTHENTICATED") page.signedOut(describe(errors));
  else banner.show(describe(errors));
});

function note(root, text, kind) {
  const line = $(".note", root);
  line.replaceChildren(text);
  line.className = `note ${kind}`;
  line.hidden = false;
  return line;
}

async function load(id) {
  const root = document.getElementById(id);
  root.setAttribute("aria-busy", "true");
  try {
    await SECTIONS[id].load(root, page);
    $(".note", root).hidden = true;
    $(".body", root).hidden = false;
    root.dataset.state = "ready";
  } catch (error) {
    $(".body", root).hidden = true;
    if (error instanceof Unavailable) {
      note(root, "Not available on this server yet.", "unavailable");
      root.dataset.state = "unavailable";
    } else if (error instanceof RequestFailed) {
      const line = note(root, "This section could not be loaded. ", "failed");
      line.append(h("button", { type: "button", class: "link-button", text: "Try again", onclick: () => load(id) }));
      root.dataset.state = "failed";
    } else {
      throw error;
    }
  } finally {
    root.removeAttribute("aria-busy");
  }
}

async function showViewer() {
  const { viewer } = await gql(VIEWER);
  page.viewer = viewer;
  if (!viewer) return false;
  const named = viewer.name && viewer.name !== viewer.username;
  $("#who-name").textContent = named ? `${viewer.name} (${viewer.username})` : viewer.username;
  const photo = $("#who-photo");
  photo.hidden = !viewer.photoUrl;
  if (viewer.photoUrl) photo.src = viewer.photoUrl;
  $("#who").hidden = false;
  return true;
}

async function start() {
  $("#sign-in").hidden = true;
  try {
    if (!(await showViewer())) {
      page.signedOut("The token did not sign anyone in.");
      return;
    }
  } catch (error) {
    if (error instanceof RequestFailed) return; // the banner (or the sign-in form) says why
    throw error;
  }
  banner.hide();
  const flash = takeFlash();
  if (flash) {
    $("#flash-text").textContent = flash;
    $("#flash").hidden = false;
  }
  $("#sections").hidden = false;
  await Promise.all(Object.keys(SECTIONS).map(load));
  document.body.dataset.ready = "true";
  // The sections were hidden when the browser looked for the fragment's target.
  const target = location.hash.length > 1 && document.getElementById(location.hash.slice(1));
  if (target) target.scrollIntoView();
}

function wire() {
  $("#banner-close").addEventListener("click", banner.hide);
  $("#flash-close").addEventListener("click", () => {
    $("#flash").hidden = true;
  });
  $("#sign-out").addEventListener("click", () => page.signedOut());
  $("#sign-in-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = $("#sign-in-token").value.trim().replace(/^Bearer\s+/i, "");
    if (!value) return;
    setToken(value);
    $("#sign-in-token").value = "";
    await busy(event.submitter || $("#sign-in-form button"), start);
  });
}

wire();
takeTokenFromFragment();
if (token()) start();
else page.signedOut();
