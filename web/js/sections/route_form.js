// The form that adds a route of the viewer's or a team's (owner.js) or, given one,
// changes it: the entity (the viewer's routes only: a team's take its own runs), the
// project pattern, the alerts it takes, their minimum severity and where they go.

import { gql } from "../graphql.js";
import { $$, action, busy, clearErrors, field, formError, h, showErrors, submitter } from "../ui.js";
import { KINDS } from "./destination_forms.js";

const SET = `mutation SetAlertRoute($input: SetAlertRouteInput!) {
  setAlertRoute(input: $input) { alertRoute { id } errors { field message code } }
}`;
const EVENTS = [
  ["crashed", "RUN_CRASHED", "A run crashes"],
  ["finished", "RUN_FINISHED", "A run finishes"],
  ["scriptable", "SCRIPTABLE", "A run calls wandb.alert()"],
];
const SEVERITIES = [["INFO", "Any severity"], ["WARN", "WARN and above"], ["ERROR", "ERROR only"]];
const NO_DESTINATIONS = {
  viewer: "No destinations yet: add a webhook under Destinations.",
  team: "No webhooks of the team yet: add one above.",
};

function check(id, name, value, label, describedBy, hint) {
  return h("div", { class: "check-field" },
    h("input", { id, type: "checkbox", name, value, "aria-describedby": describedBy }),
    h("label", { for: id, text: label }),
    hint ? h("p", { class: "hint", text: hint }) : null);
}

function errorSlot(id, errorFor) {
  return h("p", { class: "field-error", id, "data-error-for": errorFor, hidden: true });
}

function controls(owner) {
  const { id } = owner;
  return {
    entity: owner.teamName ? null : h("select", { id: id("route-entity"), name: "entityName" }),
    project: h("input", { id: id("route-project"), name: "projectPattern", maxlength: "128", autocomplete: "off",
      spellcheck: "false", placeholder: "train-*" }),
    severity: h("select", { id: id("route-severity"), name: "minSeverity" },
      SEVERITIES.map(([value, text]) => h("option", { value }, text))),
    destinations: h("div", { id: id("route-destinations") }),
    title: h(owner.heading, { id: id("route-form-title") }),
    submit: h("button", { type: "submit", class: "primary", id: id("route-submit") }),
    cancel: h("button", { type: "button", id: id("route-cancel"), text: "Cancel", hidden: true }),
  };
}

/**
 * The route form of `owner`: `fill({ entities, destinations })` sets its choices,
 * `edit(route)` changes one, `reset()` goes back to adding; `saved(changed)` runs
 * once the server stored a route.
 */
export function routeForm(owner, saved) {
  const { id } = owner;
  const c = controls(owner);
  const element = h("form", { id: id("route-form"), class: "stack subform", novalidate: true,
    "aria-labelledby": c.title.id },
  c.title,
  c.entity && field("Entity", c.entity, { errorFor: "entityName" }),
  field("Project pattern (optional)", c.project, { errorFor: "projectPattern",
    hint: "A project name, or a pattern where * stands for any characters and ? for one. Empty: every project." }),
  h("fieldset", { class: "scopes" }, h("legend", { text: "Alerts" }),
    EVENTS.map(([key, value, label]) =>
      check(id(`route-event-${key}`), "events", value, label, id("route-events-error"))),
    errorSlot(id("route-events-error"), "events")),
  field("Minimum severity", c.severity, { errorFor: "minSeverity" }),
  h("fieldset", { class: "scopes" }, h("legend", { text: "Send to" }), c.destinations,
    errorSlot(id("route-destinations-error"), "destinationIds")),
  formError(),
  h("div", { class: "actions" },
    c.submit, c.cancel, h("p", { class: "status", role: "status", "aria-live": "polite" })));
  let editing = null; // the id of the route being changed
  const first = c.entity || c.project;
  const checked = (name) => $$(`input[name="${name}"]:checked`, element).map((box) => box.value);

  const reset = () => {
    element.reset();
    editing = null;
    for (const box of $$('input[type="checkbox"]', element)) box.checked = false;
    clearErrors(element);
    c.title.textContent = owner.teamName ? "Add a team route" : "Add a route";
    c.submit.textContent = "Add route";
    c.cancel.hidden = true;
  };
  const fill = ({ entities = [], destinations }) => {
    if (c.entity) {
      const chosen = c.entity.value;
      c.entity.replaceChildren(h("option", { value: "" }, "Any entity"),
        ...entities.map((e) => h("option", { value: e.name }, e.isTeam ? `${e.name} (team)` : `${e.name} (you)`)));
      c.entity.value = [...c.entity.options].some((o) => o.value === chosen) ? chosen : "";
    }
    // The destinations' checkboxes, with the ones checked before still checked.
    const before = new Set(checked("destinationIds"));
    if (!destinations.length) {
      c.destinations.replaceChildren(h("p", { class: "muted",
        text: owner.teamName ? NO_DESTINATIONS.team : NO_DESTINATIONS.viewer }));
      return;
    }
    c.destinations.replaceChildren(...destinations.map((d) => {
      const label = `${d.name}${d.enabled ? "" : " (turned off)"}`;
      const box = check(id(`route-destination-${d.id}`), "destinationIds", d.id, label,
        id("route-destinations-error"), `${KINDS[d.kind] || d.kind}: ${d.target}`);
      box.querySelector("input").checked = before.has(d.id);
      return box;
    }));
  };
  const edit = (route) => {
    reset();
    editing = route.id;
    if (c.entity) {
      if (route.entityName && ![...c.entity.options].some((o) => o.value === route.entityName)) {
        c.entity.append(h("option", { value: route.entityName }, route.entityName)); // a team left since
      }
      c.entity.value = route.entityName || "";
    }
    c.project.value = route.projectPattern || "";
    c.severity.value = route.minSeverity;
    const events = new Set(route.events);
    for (const box of $$('input[name="events"]', element)) box.checked = events.has(box.value);
    const destinations = new Set(route.destinations.map((d) => d.id));
    for (const box of $$('input[name="destinationIds"]', element)) box.checked = destinations.has(box.value);
    c.title.textContent = "Change the route";
    c.submit.textContent = "Save route";
    c.cancel.hidden = false;
    element.scrollIntoView({ block: "nearest" });
    first.focus();
  };

  element.addEventListener("submit", (event) => event.preventDefault());
  element.addEventListener("submit", action(element, async (event) => {
    const input = {
      projectPattern: c.project.value.trim() || null,
      events: checked("events"),
      minSeverity: c.severity.value,
      destinationIds: checked("destinationIds"),
    };
    if (owner.teamName) input.teamName = owner.teamName;
    else input.entityName = c.entity.value || null;
    if (editing) input.id = editing;
    clearErrors(element);
    const { setAlertRoute: result } = await busy(submitter(event), () => gql(SET, { input }));
    if (result.errors.length) {
      showErrors(element, result.errors);
      return;
    }
    reset();
    await saved(Boolean(input.id));
  }));
  c.cancel.addEventListener("click", () => {
    reset();
    first.focus();
  });
  reset();
  return { element, fill, edit, reset, first, editing: () => editing };
}
