"""Which destinations an alert goes to: the account's routes, or with none its
subscriptions (email and Slack), as before routes existed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatchcase

from models.alert import AlertChannel, AlertEventType, AlertSeverity, AlertSubscription
from models.destination import BUILT_IN, AlertRoute, Destination
from models.integration import SlackIntegration
from models.prepared import Prepared, PreparedValues

# Built once (models/prepared.py): they run for every alert raised.
USER_ROUTES = Prepared(lambda user_ids: AlertRoute.filter(user_id__in=user_ids).order_by("id"))
TEAM_ROUTES = Prepared(lambda team_ids: AlertRoute.filter(team_id__in=team_ids).order_by("id"))
#: (route id, destination id) of each of the routes' destinations.
ROUTE_LINKS = PreparedValues(
    lambda route_ids: AlertRoute.filter(id__in=route_ids).values_list("id", "destinations__id")
)
DESTINATIONS = Prepared(lambda ids: Destination.filter(id__in=ids).order_by("id"))

#: Severities in rising order: a route takes alerts at or above its minimum.
SEVERITY_ORDER = {severity: rank for rank, severity in enumerate(AlertSeverity)}


@dataclass(frozen=True)
class Target:
    """One delivery to make: by `channel`, to `destination` (None: the account's
    email or Slack chosen by its subscriptions)."""

    channel: AlertChannel
    destination: Destination | None
    #: The destination's row that decides muting, for a subscription's email or Slack too.
    settings: Destination | None = None

    @property
    def muted_until(self) -> datetime | None:
        return self.settings.muted_until if self.settings is not None else None

    def muted(self, now: datetime) -> bool:
        until = self.muted_until
        return until is not None and until > now


def route_matches(
    route: AlertRoute,
    type: AlertEventType,
    severity: AlertSeverity,
    entity_name: str | None,
    project_name: str,
) -> bool:
    """Whether `route` takes this alert; `entity_name` None: the route's entity is known
    to match (a team's route, asked of the team's runs)."""
    if type not in route.event_types:
        return False
    if SEVERITY_ORDER[severity] < SEVERITY_ORDER[route.min_severity]:
        return False
    if (
        entity_name is not None
        and route.entity_name is not None
        and route.entity_name.lower() != entity_name.lower()
    ):
        return False
    pattern = route.project_pattern
    return pattern is None or fnmatchcase(project_name, pattern)


async def targets(
    user_id: int,
    type: AlertEventType,
    severity: AlertSeverity,
    entity_name: str,
    project_name: str,
) -> list[Target]:
    """Where an alert of `user_id` goes, each destination once, turned-off ones left out."""
    routes = await USER_ROUTES([user_id])
    if not routes:
        return await _subscribed(user_id, type)
    found = await _routed(routes, type, severity, entity_name, project_name)
    if any(d.built_in == AlertChannel.SLACK for d in found) and not await _slack(user_id):
        found = [d for d in found if d.built_in != AlertChannel.SLACK]
    return [Target(d.kind, d, d) for d in found]


async def team_targets(
    team_id: int, type: AlertEventType, severity: AlertSeverity, project_name: str
) -> list[Target]:
    """Where the team's routes send an alert of one of its runs (none without routes)."""
    routes = await TEAM_ROUTES([team_id])
    found = await _routed(routes, type, severity, None, project_name)
    return [Target(d.kind, d, d) for d in found]


async def _routed(
    routes: list[AlertRoute],
    type: AlertEventType,
    severity: AlertSeverity,
    entity_name: str | None,
    project_name: str,
) -> list[Destination]:
    """The enabled destinations of the routes matching, each once, in the order made."""
    matching = [r.id for r in routes if route_matches(r, type, severity, entity_name, project_name)]
    if not matching:
        return []
    links = await ROUTE_LINKS(matching)
    ids = {destination_id for _, destination_id in links if destination_id is not None}
    if not ids:  # routes whose destinations were all deleted
        return []
    found = await DESTINATIONS(sorted(ids))
    return [d for d in found if d.enabled]


async def _subscribed(user_id: int, type: AlertEventType) -> list[Target]:
    """The account's email and Slack as its subscriptions to `type` say, Slack only
    while connected; their own rows (once muted or turned off) have the last word."""
    rows = await AlertSubscription.filter(user_id=user_id, event=type, enabled=True)
    enabled = {row.channel for row in rows}
    if AlertChannel.SLACK in enabled and not await _slack(user_id):
        enabled.discard(AlertChannel.SLACK)
    if not enabled:
        return []
    own = await Destination.filter(user_id=user_id, built_in__in=list(enabled))
    settings = {d.built_in: d for d in own}
    chosen = [Target(c, None, settings.get(c)) for c in BUILT_IN if c in enabled]
    return [t for t in chosen if t.settings is None or t.settings.enabled]


async def _slack(user_id: int) -> bool:
    return await SlackIntegration.exists(user_id=user_id)
