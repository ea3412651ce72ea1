"""Where alerts go: an account's destinations, and the routes that pick them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from models.alert import AlertChannel, AlertEventType, AlertSeverity
from models.timestamps import Timestamp

if TYPE_CHECKING:
    from models.alert import AlertDelivery
    from models.team import Team
    from models.user import User

#: The kinds an account has one of, made from its profile and its Slack connection.
BUILT_IN = (AlertChannel.EMAIL, AlertChannel.SLACK)


class Destination(Model):
    """Where alerts can be sent: the account's email or Slack, a signed webhook or a
    Discord webhook. An account's, or a team's (its admins manage it)."""

    id = fields.IntField(primary_key=True)
    #: The account it belongs to, null for a team's.
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="destinations", on_delete=fields.CASCADE, null=True
    )
    #: The team it belongs to, null for an account's.
    team: fields.ForeignKeyNullableRelation[Team] = fields.ForeignKeyField(
        "models.Team", related_name="destinations", on_delete=fields.CASCADE, null=True
    )
    kind = fields.CharEnumField(AlertChannel, max_length=8)
    #: The kind again for the account's email and Slack, null for the others: one row
    #: of each built-in kind an account, made when first muted or routed to.
    built_in = fields.CharEnumField(AlertChannel, max_length=8, null=True)
    name = fields.CharField(max_length=64)
    #: The URL, sealed with SECRET_KEY: a Discord webhook's path is its secret.
    url_sealed = fields.TextField(null=True)
    #: What the owner is shown of the URL: its host.
    target = fields.CharField(max_length=255, default="")
    #: The Standard Webhooks signing secret (whsec_...), sealed.
    secret_sealed = fields.TextField(null=True)
    #: The secret before the last rotation, which signs beside the new one until then.
    previous_secret_sealed = fields.TextField(null=True)
    previous_secret_until = Timestamp(null=True)
    enabled = fields.BooleanField(default=True)
    #: Why the server turned it off: the receiver said gone, or kept failing.
    disabled_reason = fields.TextField(null=True)
    muted_until = Timestamp(null=True)
    #: Alerts of this many minutes are gathered into one message, null sends each alone.
    digest_minutes = fields.IntField(null=True)
    #: Attempts that failed in a row, past a threshold the destination is disabled.
    failures = fields.IntField(default=0)
    created_at = Timestamp(auto_now_add=True)

    routes: fields.ManyToManyRelation[AlertRoute]
    deliveries: fields.ReverseRelation[AlertDelivery]

    user_id: int | None
    team_id: int | None

    class Meta:
        table = "alert_destination"
        unique_together = (("user", "built_in"),)


class AlertRoute(Model):
    """Which alerts go to which destinations: an account's own alerts, or a team's
    (alerts of its runs, whoever reports them) to the team's destinations."""

    id = fields.IntField(primary_key=True)
    #: The account it belongs to, null for a team's.
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="alert_routes", on_delete=fields.CASCADE, null=True
    )
    #: The team it belongs to, null for an account's.
    team: fields.ForeignKeyNullableRelation[Team] = fields.ForeignKeyField(
        "models.Team", related_name="alert_routes", on_delete=fields.CASCADE, null=True
    )
    #: Alerts of runs of this entity (its name as registered), null for every entity.
    entity_name = fields.CharField(max_length=64, null=True)
    #: A project name or a glob such as train-*, null for every project.
    project_pattern = fields.CharField(max_length=128, null=True)
    #: Comma list of event types (encode_events).
    events = fields.CharField(max_length=128)
    min_severity = fields.CharEnumField(AlertSeverity, max_length=8, default=AlertSeverity.INFO)
    destinations: fields.ManyToManyRelation[Destination] = fields.ManyToManyField(
        "models.Destination", related_name="routes", through="alert_route_destination"
    )
    created_at = Timestamp(auto_now_add=True)

    user_id: int | None
    team_id: int | None

    class Meta:
        table = "alert_route"

    @property
    def event_types(self) -> frozenset[AlertEventType]:
        return decode_events(self.events)


def encode_events(events: Iterable[AlertEventType]) -> str:
    """The column's text: the types' names, in the enum's order, comma-separated."""
    held = set(events)
    return ",".join(event.value for event in AlertEventType if event in held)


def decode_events(text: str) -> frozenset[AlertEventType]:
    return frozenset(AlertEventType(name) for name in text.split(",") if name)


class Pace(Model):
    """When a receiver may next be sent to (Slack takes about a message a second a
    channel), shared by every process."""

    key = fields.CharField(max_length=64, primary_key=True)
    #: Seconds since the epoch: a number, so that SQL on either backend can add to it.
    free_at = fields.FloatField()

    class Meta:
        table = "delivery_pace"
