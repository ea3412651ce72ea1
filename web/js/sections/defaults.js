// Project defaults: the entity new projects go to, their privacy, and code saving.

import { gql } from "../graphql.js";
import { $, action, busy, clearErrors, h, showErrors, status, submitter } from "../ui.js";

const DEFAULTS = `entity { name isTeam } privacy codeSavingEnabled`;
const QUERY = `query ProjectDefaults {
  viewer { availableEntities { name isTeam } projectDefaults { ${DEFAULTS} } }
}`;
const UPDATE = `mutation UpdateProjectDefaults($input: UpdateProjectDefaultsInput!) {
  updateProjectDefaults(input: $input) {
    projectDefaults { ${DEFAULTS} }
    errors { field message code }
  }
}`;

/** Reloaded when teams change: a new team is a new place for projects. */
export const reloadOn = ["teams"];

let wired = false;

function fill(form, entities, defaults) {
  const select = $("#defaults-entity", form);
  select.replaceChildren(
    ...entities.map((entity) =>
      h("option", { value: entity.name }, entity.isTeam ? `${entity.name} (team)` : `${entity.name} (you)`),
    ),
  );
  select.value = defaults.entity.name;
  $("#defaults-privacy", form).value = defaults.privacy;
  $("#defaults-code-saving", form).checked = defaults.codeSavingEnabled;
}

export async function load(root) {
  const { viewer } = await gql(QUERY);
  const form = $("#defaults-form", root);
  form.entities = viewer.availableEntities;
  fill(form, viewer.availableEntities, viewer.projectDefaults);
  if (wired) return;
  wired = true;
  form.addEventListener("submit", (event) => event.preventDefault());
  form.addEventListener(
    "submit",
    action(form, async (event) => {
      const input = {
        entityName: $("#defaults-entity", form).value,
        privacy: $("#defaults-privacy", form).value,
        codeSavingEnabled: $("#defaults-code-saving", form).checked,
      };
      clearErrors(form);
      const { updateProjectDefaults: result } = await busy(submitter(event), () =>
        gql(UPDATE, { input }),
      );
      if (result.errors.length) {
        showErrors(form, result.errors);
        return;
      }
      fill(form, form.entities, result.projectDefaults);
      status(form, "Defaults saved.");
    }),
  );
}
