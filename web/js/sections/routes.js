// Routes: which alerts go to which destinations, each said in words, with Edit and
// Delete. The viewer's own in this section: without any route the switches of Alerts
// decide, with one the routes do. A team's in its card under Teams (team_alerts.js):
// they take the alerts of its runs, whoever reports them, to the team's webhooks.

import { gql } from "../graphql.js";
import { $, action, busy, clearErrors, formError, h, showErrors, status } from "../ui.js";
import { VIEWER } from "./owner.js";
import { routeForm } from "./route_form.js";

export const ROUTE = `id entityName projectPattern events minSeverity destinations { id name kind }`;
const QUERY = `query AlertRoutes {
  viewer {
    alertRoutes { ${ROUTE} }
    destinations { id kind name target enabled }
    availableEntities { name isTeam }
  }
}`;
const DELETE = `mutation DeleteAlertRoute($input: AlertRouteIdInput!) {
  deleteAlertRoute(input: $input) { success errors { field message code } }
}`;

/** The destinations and entities a route can name change with these. */
export const reloadOn = ["destinations", "slack", "teams"];

const EVENT_WORDS = { RUN_CRASHED: "crashes", RUN_FINISHED: "finished runs", SCRIPTABLE: "run alerts" };
const SEVERITY_WORDS = { INFO: "any severity", WARN: "WARN and above", ERROR: "ERROR only" };

let part = null;

/** "a", "a and b", "a, b and c". */
function sentence(words) {
  if (words.length < 2) return words.join("");
  return `${words.slice(0, -1).join(", ")} and ${words.at(-1)}`;
}

/** "Crashes and run alerts from train-* in any entity, WARN and above → Ops hook, Email". */
export function describe(route) {
  const events = sentence(route.events.map((e) => EVENT_WORDS[e] || e.toLowerCase()));
  const project = route.projectPattern ? `from ${route.projectPattern}` : "from every project";
  const entity = route.entityName ? `in ${route.entityName}` : "in any entity";
  const to = route.destinations.length
    ? route.destinations.map((d) => d.name).join(", ")
    : "nowhere: its destinations were deleted";
  const words = `${events} ${project} ${entity}, ${SEVERITY_WORDS[route.minSeverity] || route.minSeverity} → ${to}`;
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export async function load(root) {
  if (!part) {
    part = routesPart(VIEWER, () => load(root));
    $(".body", root).append(part.element);
  }
  const { viewer } = await gql(QUERY);
  part.render({ routes: viewer.alertRoutes, destinations: viewer.destinations, entities: viewer.availableEntities });
}

/** What the line above the list says; null: nothing. */
function mode(owner, count) {
  if (owner.teamName) return count ? null : "No team routes yet.";
  if (!count) return "No routes yet: the switches of Alerts decide.";
  return `${count === 1 ? "One route decides" : `${count} routes decide`} now.`;
}

/**
 * The routes of `owner` (owner.js) with the form that adds or changes one;
 * `render({ routes, destinations, entities })` draws them. `reload()` fetches them
 * anew and renders them, once one was saved or deleted.
 */
export function routesPart(owner, reload) {
  const { id } = owner;
  const modeLine = h("p", { id: id("routes-mode"), class: "routes-mode" });
  const list = h("ul", { id: id("route-list"), class: "route-list",
    "aria-label": owner.teamName ? `Routes of ${owner.teamName}` : "Your routes" });
  const block = h("div", { id: id("route-list-block") }, list, formError());
  const line = h("p", { class: "status", id: id("routes-status"), role: "status", "aria-live": "polite" });
  const form = routeForm(owner, async (changed) => {
    await reload();
    say(changed ? "Route saved." : "Route added.");
  });
  const intro = owner.teamName && [
    h(owner.heading, { id: id("routes-title"), text: "Team routes" }),
    h("p", { class: "hint", text: `These routes take the alerts of ${owner.teamName}'s runs, whoever reports `
      + "them (a member or a service account), to the team's webhooks, besides where the reporter's own "
      + "settings send them." }),
  ];
  const element = h("div", { class: "routes-part" }, intro, modeLine, block, line, form.element);
  const say = (text) => status(element, text); // its first status line: `line`
  const render = ({ routes, destinations, entities }) => {
    form.fill({ entities, destinations });
    list.replaceChildren(...routes.map((route) => item(route, { block, form, reload, say })));
    list.hidden = routes.length === 0;
    const words = mode(owner, routes.length);
    modeLine.hidden = !words;
    modeLine.replaceChildren(h("strong", { text: words || "" }));
  };
  return { element, render };
}

function item(route, { block, form, reload, say }) {
  const words = describe(route);
  const li = h("li", { class: "route", "data-route-id": route.id });
  const actions = h("div", { class: "actions" });
  const idle = () => actions.replaceChildren(
    h("button", { type: "button", text: "Edit", "aria-label": `Edit route: ${words}`, "data-action": "edit",
      onclick: () => form.edit(route) }),
    h("button", { type: "button", text: "Delete", "aria-label": `Delete route: ${words}`, "data-action": "delete",
      onclick: () => confirming() }),
  );
  const remove = action(block, async (event) => {
    clearErrors(block);
    const { deleteAlertRoute: result } = await busy(event.currentTarget, () =>
      gql(DELETE, { input: { id: route.id } }));
    if (result.errors.length) {
      showErrors(block, result.errors);
      return;
    }
    if (form.editing() === route.id) form.reset();
    const next = li.nextElementSibling || li.previousElementSibling;
    await reload();
    say("Route deleted.");
    const again = next && $(`[data-route-id="${CSS.escape(next.dataset.routeId)}"] button`, block);
    (again || form.first).focus();
  });
  const confirming = () => {
    const yes = h("button", { type: "button", class: "danger-button", text: "Delete for good",
      // The visible words first, as speech input says them.
      "aria-label": `Delete for good: ${words}`, onclick: remove });
    actions.replaceChildren(yes, h("button", { type: "button", text: "Cancel", onclick: () => {
      idle();
      $('[data-action="delete"]', actions).focus();
    } }));
    yes.focus();
  };
  idle();
  li.append(h("p", { class: "route-words", text: words }), actions);
  return li;
}
