// Whose destinations and routes a part of the page manages: the viewer's own (the
// Destinations and Routes sections) or a team's (its card under Teams, for its admins).
// The page may hold a part for each team, so a team's ids are prefixed with its own.

/** The viewer's own: the ids the page has always had, headings under the sections'. */
export const VIEWER = {
  teamName: null,
  key: "viewer",
  heading: "h3",
  id: (name) => name,
};

/** `team`'s ({ id, name }), as `viewer` (a username) manages it. */
export function teamOwner(team, viewer) {
  return {
    teamName: team.name,
    key: `${viewer}/${team.id}`,
    heading: "h5", // under the card's h3 and its "Team alerts" h4
    id: (name) => `team-${team.id}-${name}`,
  };
}
