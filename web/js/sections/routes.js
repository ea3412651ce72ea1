// Routes: which alerts go to which destinations, each said in words, with Edit and
// Delete. Without any route the switches of Alerts decide; with one, the routes do.

import { gql } from "../graphql.js";
import { $, action, busy, clearErrors, h, showErrors, status } from "../ui.js";
import { editRoute, fillForm, resetForm, wireRouteForm } from "./route_form.js";

const ROUTE = `id entityName projectPattern events minSeverity destinations { id name kind }`;
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

let wired = false;

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
  const { viewer } = await gql(QUERY);
  const form = $("#route-form", root);
  fillForm(form, { entities: viewer.availableEntities, destinations: viewer.destinations });
  render(root, viewer.alertRoutes);
  if (wired) return;
  wired = true;
  wireRouteForm(form, async (changed) => {
    await load(root);
    status(root, changed ? "Route saved." : "Route added.");
  });
}

function render(root, routes) {
  const block = $("#route-list-block", root);
  $("#route-list", root).replaceChildren(...routes.map((route) => item(root, block, route)));
  $("#route-list", root).hidden = routes.length === 0;
  $("#routes-mode", root).replaceChildren(routes.length
    ? h("strong", { text: `${routes.length === 1 ? "One route decides" : `${routes.length} routes decide`} now.` })
    : h("strong", { text: "No routes yet: the switches of Alerts decide." }));
}

function item(root, block, route) {
  const words = describe(route);
  const li = h("li", { class: "route", "data-route-id": route.id });
  const actions = h("div", { class: "actions" });
  const idle = () => actions.replaceChildren(
    h("button", { type: "button", text: "Edit", "aria-label": `Edit route: ${words}`, "data-action": "edit",
      onclick: () => editRoute($("#route-form", root), route) }),
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
    const form = $("#route-form", root);
    if (form.dataset.routeId === route.id) resetForm(form);
    const next = li.nextElementSibling || li.previousElementSibling;
    await load(root);
    status(root, "Route deleted.");
    const again = next && $(`[data-route-id="${CSS.escape(next.dataset.routeId)}"] button`, root);
    (again || $("#route-entity", root)).focus();
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
