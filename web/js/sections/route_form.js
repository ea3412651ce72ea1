// The form that adds a route or, given one, changes it: entity, project pattern, the
// alerts it takes, their minimum severity and the destinations they go to.

import { gql } from "../graphql.js";
import { $, $$, action, busy, clearErrors, h, showErrors, submitter } from "../ui.js";
import { KINDS } from "./destination_forms.js";

const SET = `mutation SetAlertRoute($input: SetAlertRouteInput!) {
  setAlertRoute(input: $input) { alertRoute { id } errors { field message code } }
}`;

/** The destinations' checkboxes, with the ones checked before still checked. */
function fillDestinations(form, destinations) {
  const box = $("#route-destinations", form);
  const checked = new Set($$("input:checked", box).map((input) => input.value));
  if (!destinations.length) {
    box.replaceChildren(h("p", { class: "muted", text: "No destinations yet: add a webhook under Destinations." }));
    return;
  }
  box.replaceChildren(...destinations.map((d) => {
    const id = `route-destination-${d.id}`;
    const off = d.enabled ? "" : " (turned off)";
    return h("div", { class: "check-field" },
      h("input", { id, type: "checkbox", name: "destinationIds", value: d.id, checked: checked.has(d.id),
        "aria-describedby": "route-destinations-error" }),
      h("label", { for: id, text: `${d.name}${off}` }),
      h("p", { class: "hint", text: `${KINDS[d.kind] || d.kind}: ${d.target}` }));
  }));
}

/** The choices of the form: `entities` (availableEntities) and `destinations`. */
export function fillForm(form, { entities, destinations }) {
  const select = $("#route-entity", form);
  const chosen = select.value;
  select.replaceChildren(
    h("option", { value: "" }, "Any entity"),
    ...entities.map((e) => h("option", { value: e.name }, e.isTeam ? `${e.name} (team)` : `${e.name} (you)`)),
  );
  select.value = [...select.options].some((o) => o.value === chosen) ? chosen : "";
  fillDestinations(form, destinations);
}

/** Back to "Add a route", empty. */
export function resetForm(form) {
  form.reset();
  delete form.dataset.routeId;
  for (const box of $$('input[type="checkbox"]', form)) box.checked = false;
  clearErrors(form);
  $("#route-form-title", form).textContent = "Add a route";
  $("#route-submit", form).textContent = "Add route";
  $("#route-cancel", form).hidden = true;
}

/** Fills the form with `route` to change it, and focuses its first field. */
export function editRoute(form, route) {
  resetForm(form);
  form.dataset.routeId = route.id;
  const entity = $("#route-entity", form);
  if (route.entityName && ![...entity.options].some((o) => o.value === route.entityName)) {
    entity.append(h("option", { value: route.entityName }, route.entityName)); // a team left since
  }
  entity.value = route.entityName || "";
  $("#route-project", form).value = route.projectPattern || "";
  $("#route-severity", form).value = route.minSeverity;
  const events = new Set(route.events);
  for (const box of $$('input[name="events"]', form)) box.checked = events.has(box.value);
  const destinations = new Set(route.destinations.map((d) => d.id));
  for (const box of $$('input[name="destinationIds"]', form)) box.checked = destinations.has(box.value);
  $("#route-form-title", form).textContent = "Change the route";
  $("#route-submit", form).textContent = "Save route";
  $("#route-cancel", form).hidden = false;
  form.scrollIntoView({ block: "nearest" });
  entity.focus();
}

function readInput(form) {
  const checked = (name) => $$(`input[name="${name}"]:checked`, form).map((box) => box.value);
  const input = {
    entityName: $("#route-entity", form).value || null,
    projectPattern: $("#route-project", form).value.trim() || null,
    events: checked("events"),
    minSeverity: $("#route-severity", form).value,
    destinationIds: checked("destinationIds"),
  };
  if (form.dataset.routeId) input.id = form.dataset.routeId;
  return input;
}

/** Wires the form; `saved(changed)` runs once the server stored the route. */
export function wireRouteForm(form, saved) {
  form.addEventListener("submit", (event) => event.preventDefault());
  form.addEventListener("submit", action(form, async (event) => {
    const input = readInput(form);
    clearErrors(form);
    const { setAlertRoute: result } = await busy(submitter(event), () => gql(SET, { input }));
    if (result.errors.length) {
      showErrors(form, result.errors);
      return;
    }
    resetForm(form);
    await saved(Boolean(input.id));
  }));
  $("#route-cancel", form).addEventListener("click", () => {
    resetForm(form);
    $("#route-entity", form).focus();
  });
}
