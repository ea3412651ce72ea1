"""Alerts: subscriptions, events with their deliveries, the Slack connection, ingestion."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from enum import Enum

import strawberry

import config
import schema.alert_enums  # noqa: F401 # the enums, named before any type uses them
from errors import BadUserInput
from models import alert as models
from models.integration import SlackIntegration as SlackIntegrationModel
from resolvers.context import Info
from schema.common import UserError
from schema.connection import PageInfo
from schema.destination import (
    DESTINATIONS_BOUND,
    DeliveryAttempt,
    Destination,
    load_delivery_destination,
)
from schema.reading import reader
from schema.scalars import Duration


@strawberry.enum
class RunState(Enum):
    FINISHED = "FINISHED"
    CRASHED = "CRASHED"


MAX_PAGE = 100
#: A delivery's attempts: a round of them, and a round again for each redelivery.
MAX_REDELIVERIES = 5
ATTEMPT_LOG_BOUND = config.DELIVERY_MAX_ATTEMPTS * (1 + MAX_REDELIVERIES)
_CURSOR_PREFIX = "AlertEvent:"


@strawberry.type
class AlertSubscription:
    id: strawberry.ID
    event: models.AlertEventType
    channel: models.AlertChannel
    enabled: bool

    @classmethod
    def from_model(cls, row: models.AlertSubscription) -> AlertSubscription:
        return _read_subscription(row, strawberry.ID(str(row.id)))


_read_subscription = reader(AlertSubscription, "id")


@strawberry.type
class AlertDelivery:
    id: strawberry.ID
    channel: models.AlertChannel
    status: models.DeliveryStatus
    attempts: int
    last_error: str | None
    delivered_at: datetime | None
    row: strawberry.Private[models.AlertDelivery]

    @classmethod
    def from_model(cls, row: models.AlertDelivery) -> AlertDelivery:
        return _read_delivery(row, strawberry.ID(str(row.id)), row)

    @strawberry.field(
        description="Where it went; null for the default email and Slack of alertSubscriptions."
    )  # type: ignore[untyped-decorator]
    async def destination(self, info: Info) -> Destination | None:
        return await load_delivery_destination(info, self.row)

    @strawberry.field(
        description="Every attempt, oldest first.", metadata={"bound": ATTEMPT_LOG_BOUND}
    )  # type: ignore[untyped-decorator]
    async def attempt_log(self, info: Info) -> list[DeliveryAttempt]:
        rows = await info.context.loaders.attempts_by_delivery_id.load(self.row.id)
        return [DeliveryAttempt.from_model(a) for a in rows]


_read_delivery = reader(AlertDelivery, "id", "row")


@strawberry.type
class AlertEvent:
    id: strawberry.ID
    type: models.AlertEventType
    title: str
    text: str
    severity: models.AlertSeverity
    entity_name: str
    project_name: str
    run_name: str
    created_at: datetime
    event_id: strawberry.Private[int]
    #: Deliveries read together with the event (live subscriptions), so that no
    #: loader outlives the event it was made for.
    preloaded_deliveries: strawberry.Private[list[models.AlertDelivery] | None] = None

    @classmethod
    def from_model(
        cls, row: models.AlertEvent, deliveries: list[models.AlertDelivery] | None = None
    ) -> AlertEvent:
        return _read_event(row, strawberry.ID(str(row.id)), row.id, deliveries)

    @strawberry.field(metadata={"bound": DESTINATIONS_BOUND})  # type: ignore[untyped-decorator] # one a destination
    def deliveries(self, info: Info) -> list[AlertDelivery]:
        # Synchronous when the deliveries came with the event: a live alert is sent
        # to every subscriber, and an awaitable per subscriber is measurable there.
        if self.preloaded_deliveries is not None:
            return [AlertDelivery.from_model(d) for d in self.preloaded_deliveries]
        return self._load_deliveries(info)  # type: ignore[return-value]

    async def _load_deliveries(self, info: Info) -> list[AlertDelivery]:
        rows = await info.context.loaders.alert_deliveries_by_event_id.load(self.event_id)
        return [AlertDelivery.from_model(d) for d in rows]


_read_event = reader(AlertEvent, "id", "event_id", "preloaded_deliveries")


@strawberry.type
class AlertEventEdge:
    cursor: str
    node: AlertEvent


@strawberry.type
class AlertEventConnection:
    edges: list[AlertEventEdge]
    page_info: PageInfo


def encode_cursor(event_id: int) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{event_id}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    try:
        decoded = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeError, ValueError):
        decoded = ""
    number = decoded.removeprefix(_CURSOR_PREFIX)
    if (
        not decoded.startswith(_CURSOR_PREFIX)
        or not (number.isascii() and number.isdigit())
        or len(number) > 18
    ):
        raise BadUserInput("`after` is not a cursor this server gave out.")
    return int(number)


async def load_alert_events(
    info: Info, user_id: int, first: int, after: str | None
) -> AlertEventConnection:
    if not 0 <= first <= MAX_PAGE:
        raise BadUserInput(f"`first` must be between 0 and {MAX_PAGE}.")
    before_id = decode_cursor(after) if after is not None else None
    rows, more = await info.context.loaders.alert_event_page.load((user_id, first, before_id))
    edges = [
        AlertEventEdge(cursor=encode_cursor(r.id), node=AlertEvent.from_model(r)) for r in rows
    ]
    end_cursor = edges[-1].cursor if edges else None
    return AlertEventConnection(
        edges=edges, page_info=PageInfo(has_next_page=more, end_cursor=end_cursor)
    )


@strawberry.type
class SlackIntegration:
    team_name: str
    channel_name: str
    connected_at: datetime

    @classmethod
    def from_model(cls, row: SlackIntegrationModel) -> SlackIntegration:
        return _read_slack(row)


_read_slack = reader(SlackIntegration)


@strawberry.input
class SetAlertSubscriptionInput:
    event: models.AlertEventType
    channel: models.AlertChannel
    enabled: bool


@strawberry.type
class SetAlertSubscriptionPayload:
    alert_subscription: AlertSubscription | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ConnectSlackPayload:
    slack_integration: SlackIntegration | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class SendTestAlertInput:
    channel: models.AlertChannel | None = strawberry.field(
        default=None, description="One channel, or every connected channel when absent."
    )


@strawberry.type
class AlertEventPayload:
    alert_event: AlertEvent | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class NotifyScriptableRunAlertInput:
    entity_name: str
    project_name: str
    run_name: str
    title: str
    text: str
    severity: models.AlertSeverity | None = models.AlertSeverity.INFO
    wait_duration: Duration | None = strawberry.field(
        default=None,
        description=(
            "Another alert with the same title for the same run is not sent again "
            "within this many milliseconds."
        ),
    )
    client_mutation_id: str | None = None


@strawberry.type
class NotifyScriptableRunAlertPayload:
    success: bool = False
    client_mutation_id: str | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ReportRunStateInput:
    entity_name: str
    project_name: str
    run_name: str
    state: RunState
    client_mutation_id: str | None = None
