// A team's alerts, in its card under Teams, for its admins: the team's webhooks and
// Discord webhooks and its routes, drawn by the same parts as the viewer's own
// (destinations.js, routes.js) on the team's ids (owner.js).

import { RequestFailed, Unavailable, gql } from "../graphql.js";
import { h } from "../ui.js";
import { DESTINATION } from "./destination_row.js";
import { destinationsPart } from "./destinations.js";
import { teamOwner } from "./owner.js";
import { ROUTE, routesPart } from "./routes.js";

// A query of its own, a team at a time: with the teams' other fields, a page of teams
// would cost more than the server's query cost limit allows.
const QUERY = `query TeamAlerts($name: String!) {
  team(name: $name) { id destinations { ${DESTINATION} } alertRoutes { ${ROUTE} } }
}`;

/**
 * The "Team alerts" part of `team`'s card, as `viewer` (a username) manages it;
 * `loaded` settles once it is drawn, or says why it could not be.
 */
export function teamAlerts(team, viewer) {
  const owner = teamOwner(team, viewer);
  const titleId = owner.id("alerts-title");
  const note = h("p", { class: "note", hidden: true });
  const reload = async () => {
    const { team: answered } = await gql(QUERY, { name: team.name });
    const found = answered || { destinations: [], alertRoutes: [] }; // deleted since
    destinations.render(found.destinations);
    routes.render({ routes: found.alertRoutes, destinations: found.destinations });
  };
  const destinations = destinationsPart(owner, reload);
  const routes = routesPart(owner, reload);
  const body = h("div", { hidden: true }, destinations.element, routes.element);
  const element = h("section", { class: "team-alerts", "aria-labelledby": titleId },
    h("h4", { id: titleId, text: "Team alerts" }),
    h("p", { class: "hint",
      text: "The team's webhooks and Discord webhooks, and the routes that send the alerts of its runs to them." }),
    note,
    body,
  );
  const drawn = (ok) => {
    body.hidden = !ok;
    note.hidden = ok;
  };
  const attempt = () => reload().then(() => drawn(true), (error) => {
    if (error instanceof Unavailable) {
      note.className = "note unavailable";
      note.replaceChildren("Team alerts are not available on this server yet.");
    } else if (error instanceof RequestFailed) {
      note.className = "note failed";
      note.replaceChildren("Team alerts could not be loaded. ",
        h("button", { type: "button", class: "link-button", text: "Try again", onclick: attempt }));
    } else {
      throw error;
    }
    drawn(false); // the rest of the card works without it
  });
  return { element, loaded: attempt() };
}
