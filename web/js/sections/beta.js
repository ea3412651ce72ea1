// Beta features: one switch per feature of the catalog, saved as it is flipped.

import { gql } from "../graphql.js";
import { $, action, busy, clearErrors, h, showErrors } from "../ui.js";

const QUERY = `query BetaFeatures { betaFeatures { key name description enabled } }`;
const SET = `mutation SetBetaFeature($input: SetBetaFeatureInput!) {
  setBetaFeature(input: $input) { betaFeature { key enabled } errors { field message code } }
}`;

export async function load(root) {
  const { betaFeatures } = await gql(QUERY);
  const list = $("#beta-list", root);
  if (!betaFeatures.length) {
    list.replaceChildren(h("li", { class: "muted", text: "No beta features are on offer right now." }));
    return;
  }
  list.replaceChildren(...betaFeatures.map((feature) => item(root, feature)));
}

function item(root, feature) {
  const id = `beta-${feature.key}`;
  const toggle = h("input", {
    id,
    type: "checkbox",
    role: "switch",
    checked: feature.enabled,
    "aria-describedby": `${id}-description`,
    "data-key": feature.key,
  });
  toggle.addEventListener(
    "change",
    action(root, async () => {
      clearErrors(root);
      const wanted = toggle.checked;
      const input = { key: feature.key, enabled: wanted };
      let result;
      try {
        result = (await busy(toggle, () => gql(SET, { input }))).setBetaFeature;
      } catch (error) {
        toggle.checked = !wanted;
        throw error;
      }
      if (result.errors.length) {
        toggle.checked = !wanted;
        showErrors(root, result.errors);
        return;
      }
      toggle.checked = result.betaFeature.enabled;
    }),
  );
  return h(
    "li",
    { class: "switch-field" },
    toggle,
    h("label", { for: id, text: feature.name }),
    h("p", { class: "hint", id: `${id}-description`, text: feature.description }),
  );
}
