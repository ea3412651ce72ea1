"""Destinations, routes and delivery attempts: where alerts go, and how each try went."""

from __future__ import annotations

from datetime import datetime

import strawberry

import schema.alert_enums  # noqa: F401 # the enums, named before any type uses them
from models import alert as alert_models
from models import destination as models
from models import user as user_models
from models.integration import SlackIntegration
from resolvers.context import Info
from schema.common import UserError
from schema.reading import reader

#: The ids of the account's email and Slack, whether or not they have a row yet.
BUILT_IN_IDS = {channel: channel.value.lower() for channel in models.BUILT_IN}
#: Destinations an account can have: its email and Slack, and this many more.
MAX_DESTINATIONS = 20
DESTINATIONS_BOUND = len(models.BUILT_IN) + MAX_DESTINATIONS
#: Routes an account can have.
MAX_ROUTES = 50


@strawberry.type(description="Where alerts can be sent: email, Slack, a signed webhook, Discord.")
class Destination:
    id: strawberry.ID
    kind: alert_models.AlertChannel
    name: str
    target: str = strawberry.field(
        description="Where it points, without secrets: an address, a Slack channel, a URL's host."
    )
    enabled: bool
    disabled_reason: str | None = strawberry.field(
        description="Why the server turned it off (too many failures, the receiver said gone)."
    )
    muted_until: datetime | None
    digest_minutes: int | None = strawberry.field(
        description="Alerts of this many minutes are gathered into one message; null: each alone."
    )
    created_at: datetime

    @classmethod
    def from_model(cls, row: models.Destination) -> Destination:
        """A webhook's or Discord's destination."""
        return _read_destination(row, strawberry.ID(str(row.id)))

    @classmethod
    def built_in(
        cls,
        kind: alert_models.AlertChannel,
        account: user_models.User,
        slack: SlackIntegration | None,
        row: models.Destination | None,
    ) -> Destination:
        """The account's email or Slack, with its row's settings if it has one."""
        if kind == alert_models.AlertChannel.EMAIL:
            name, target, since = "Email", account.email, account.created_at
        elif slack is not None:
            name, target = "Slack", f"{slack.channel_name} in {slack.team_name}"
            since = slack.connected_at
        else:  # routed to while connected, and disconnected since
            name, target, since = "Slack", "not connected", account.created_at
        return cls(
            id=strawberry.ID(BUILT_IN_IDS[kind]),
            kind=kind,
            name=name,
            target=target,
            enabled=row.enabled if row else True,
            disabled_reason=None,
            muted_until=row.muted_until if row else None,
            digest_minutes=row.digest_minutes if row else None,
            created_at=since,
        )


_read_destination = reader(Destination, "id")


@strawberry.type(description="Which alerts go where.")
class AlertRoute:
    id: strawberry.ID
    entity_name: str | None = strawberry.field(
        description=(
            "Alerts of runs of this entity; null: every entity the owner's alerts come from."
        )
    )
    project_pattern: str | None = strawberry.field(
        description="A project name or a glob such as 'train-*'; null: every project."
    )
    events: list[alert_models.AlertEventType]
    min_severity: alert_models.AlertSeverity
    route: strawberry.Private[models.AlertRoute]

    @strawberry.field(metadata={"bound": DESTINATIONS_BOUND})  # type: ignore[untyped-decorator]
    async def destinations(self, info: Info) -> list[Destination]:
        rows = sorted(self.route.destinations, key=lambda d: d.id)
        if self.route.user_id is None:  # a team's: its webhooks alone
            return [Destination.from_model(row) for row in rows]
        views = {d.id: d for d in await load_destinations(info, self.route.user_id)}
        return [views[i] for i in (destination_id(d) for d in rows) if i in views]

    @classmethod
    def from_model(cls, row: models.AlertRoute) -> AlertRoute:
        events = [e for e in alert_models.AlertEventType if e in row.event_types]
        return cls(
            id=strawberry.ID(str(row.id)),
            entity_name=row.entity_name,
            project_pattern=row.project_pattern,
            events=events,
            min_severity=row.min_severity,
            route=row,
        )


@strawberry.type(description="One try at sending a delivery.")
class DeliveryAttempt:
    at: datetime
    status_code: int | None = strawberry.field(
        description=(
            "The receiver's HTTP status, or 250/4xx/5xx SMTP reply; null when no answer came."
        )
    )
    duration_ms: int
    error: str | None

    @classmethod
    def from_model(cls, row: alert_models.DeliveryAttempt) -> DeliveryAttempt:
        return _read_attempt(row)


_read_attempt = reader(DeliveryAttempt)


def destination_id(row: models.Destination) -> strawberry.ID:
    """The id the API shows: the kind's name for the account's email and Slack."""
    if row.built_in is not None:
        return strawberry.ID(BUILT_IN_IDS[row.built_in])
    return strawberry.ID(str(row.id))


async def load_destinations(info: Info, user_id: int) -> list[Destination]:
    """The account's email (if it has an address) and Slack (while connected), then its
    webhooks and Discord webhooks, oldest first."""
    loaders = info.context.loaders
    account = await loaders.user_by_id.load(user_id)
    if account is None:
        return []
    rows = await loaders.destinations_by_user_id.load(user_id)
    own = {row.built_in: row for row in rows if row.built_in is not None}
    slack = await loaders.slack_integration_by_user_id.load(user_id)
    views = []
    if account.email:
        email = alert_models.AlertChannel.EMAIL
        views.append(Destination.built_in(email, account, slack, own.get(email)))
    if slack is not None:
        kind = alert_models.AlertChannel.SLACK
        views.append(Destination.built_in(kind, account, slack, own.get(kind)))
    return views + [Destination.from_model(row) for row in rows if row.built_in is None]


async def view_of(row: models.Destination, account: user_models.User) -> Destination:
    """A destination as a mutation answers it, read afresh."""
    if row.built_in is None:
        return Destination.from_model(row)
    slack = await SlackIntegration.filter(user_id=account.id).first()
    return Destination.built_in(row.built_in, account, slack, row)


async def load_delivery_destination(
    info: Info, row: alert_models.AlertDelivery
) -> Destination | None:
    if row.destination_id is None:
        return None
    found = await info.context.loaders.destination_by_id.load(row.destination_id)
    if found is not None and found.team_id is not None:  # a team's, routed to by the team
        return Destination.from_model(found)
    views = await load_destinations(info, row.user_id)
    wanted = None if found is None else destination_id(found)
    return next((view for view in views if view.id == wanted), None)


@strawberry.input
class CreateWebhookDestinationInput:
    name: str
    url: str
    team_name: str | None = strawberry.field(
        default=None, description="A destination of this team (its admins'); absent: the viewer's."
    )
    kind: alert_models.AlertChannel | None = strawberry.field(
        default=alert_models.AlertChannel.WEBHOOK, description="WEBHOOK or DISCORD."
    )


@strawberry.type
class DestinationSecretPayload:
    destination: Destination | None = None
    signing_secret: str | None = strawberry.field(
        default=None, description="The signing secret (whsec_...): returned once, here."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class DestinationIdInput:
    id: strawberry.ID


@strawberry.input
class UpdateDestinationInput:
    id: strawberry.ID
    name: str | None = None
    enabled: bool | None = None
    muted_until: datetime | None = strawberry.field(
        default=strawberry.UNSET, description="Mute until then; null unmutes."
    )
    digest_minutes: int | None = strawberry.field(
        default=strawberry.UNSET,
        description=(
            "Gather alerts of this many minutes (1 to 1440) into one message; null: each alone."
        ),
    )


@strawberry.type
class DestinationPayload:
    destination: Destination | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class SetAlertRouteInput:
    id: strawberry.ID | None = strawberry.field(
        default=None, description="Updates this route; a new route when absent."
    )
    team_name: str | None = strawberry.field(
        default=None,
        description=(
            "A route of this team (its admins'), for the alerts of its runs whoever reports "
            "them, to the team's destinations; absent: the viewer's own."
        ),
    )
    entity_name: str | None = None
    project_pattern: str | None = None
    events: list[alert_models.AlertEventType]
    min_severity: alert_models.AlertSeverity | None = alert_models.AlertSeverity.INFO
    destination_ids: list[strawberry.ID]


@strawberry.type
class AlertRoutePayload:
    alert_route: AlertRoute | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class AlertRouteIdInput:
    id: strawberry.ID


@strawberry.input
class RedeliverAlertInput:
    delivery_id: strawberry.ID
