// Destinations: where alerts can be sent. The viewer's own in this section (the
// account's email and Slack, webhooks and Discord webhooks); a team's webhooks in its
// card under Teams (team_alerts.js). One part serves both: the list of rows
// (destination_row.js), the secret box and the form that adds one (webhook_form.js).

import { gql } from "../graphql.js";
import { $, h, status } from "../ui.js";
import { DESTINATION, destinationRow } from "./destination_row.js";
import { VIEWER } from "./owner.js";
import { secretBox, webhookForm } from "./webhook_form.js";

const QUERY = `query Destinations { viewer { destinations { ${DESTINATION} } } }`;
const EMPTY = {
  viewer: "No destinations yet: your account has no email address, and Slack is not connected. Add a webhook below.",
  team: "No webhooks yet: add one below.",
};

/** Connecting or disconnecting Slack adds or takes away a destination. */
export const reloadOn = ["slack"];

let part = null;

export async function load(root, page) {
  if (!part) {
    part = destinationsPart(VIEWER, async () => {
      await load(root, page);
      page.changed("destinations");
    });
    $(".body", root).append(part.element);
  }
  const { viewer } = await gql(QUERY);
  part.render(viewer.destinations);
}

/** Which row's control has the focus, to give it back once the list is drawn anew. */
function focused(list) {
  const row = document.activeElement?.closest("li[data-destination-id]");
  if (!row || !list.contains(row)) return null;
  return { id: row.dataset.destinationId, action: document.activeElement.dataset.action };
}

function refocus(list, had) {
  const row = had && $(`li[data-destination-id="${CSS.escape(had.id)}"]`, list);
  if (row) ($(`[data-action="${had.action}"]`, row) || $("button", row)).focus();
}

/**
 * The destinations of `owner` (owner.js) with the secret box and the add form;
 * `render(destinations)` draws the list. `changed()` runs once one was added or
 * deleted, and must draw the list anew (with what depends on it).
 */
export function destinationsPart(owner, changed) {
  const { id } = owner;
  const list = h("ul", { id: id("destination-list"), class: "destination-list",
    "aria-label": owner.teamName ? `Webhooks of ${owner.teamName}` : "Your destinations" });
  const empty = h("p", { id: id("destinations-empty"), class: "muted", hidden: true,
    text: owner.teamName ? EMPTY.team : EMPTY.viewer });
  const line = h("p", { class: "status", id: id("destinations-status"), role: "status", "aria-live": "polite" });
  const secret = secretBox(owner, () => form.first);
  const form = webhookForm(owner, secret, changed);
  const element = h("div", { class: "destinations-part" }, secret.element, list, empty, line, form.element);
  const showEmpty = () => {
    empty.hidden = list.children.length > 0;
    list.hidden = !empty.hidden;
  };
  const say = (text) => status(element, text); // its first status line: `line`
  const row = (d) => destinationRow(d, {
    heading: owner.heading,
    secret,
    say,
    async deleted(li, gone) {
      const next = li.nextElementSibling || li.previousElementSibling;
      li.remove();
      showEmpty();
      say(`${gone.name} deleted.`);
      ((next && $("button", next)) || form.first).focus();
      await changed();
    },
  });
  const render = (destinations) => {
    const had = focused(list);
    list.replaceChildren(...destinations.map(row));
    showEmpty();
    refocus(list, had);
  };
  return { element, render };
}
