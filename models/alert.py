from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from models.timestamps import Timestamp

if TYPE_CHECKING:
    from models.destination import Destination
    from models.user import User


class AlertEventType(StrEnum):
    RUN_FINISHED = "RUN_FINISHED"
    RUN_CRASHED = "RUN_CRASHED"
    SCRIPTABLE = "SCRIPTABLE"
    TEST = "TEST"
    INVITE = "INVITE"
    #: The server stopped sending to one of the owner's destinations.
    DELIVERY_STOPPED = "DELIVERY_STOPPED"


#: Sent when they happen, to whom they concern, whatever the subscriptions say.
UNSUBSCRIBABLE = frozenset(
    {AlertEventType.TEST, AlertEventType.INVITE, AlertEventType.DELIVERY_STOPPED}
)


class AlertChannel(StrEnum):
    EMAIL = "EMAIL"
    SLACK = "SLACK"
    WEBHOOK = "WEBHOOK"
    DISCORD = "DISCORD"


class AlertSeverity(StrEnum):
    INFO = "INFO"
    WARN = "WARN"
    ERROR = "ERROR"


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"
    SUPPRESSED = "SUPPRESSED"


class AlertSubscription(Model):
    """Whether one kind of event reaches the user by one channel."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="alert_subscriptions", on_delete=fields.CASCADE
    )
    event = fields.CharEnumField(AlertEventType, max_length=16)
    channel = fields.CharEnumField(AlertChannel, max_length=8)
    enabled = fields.BooleanField(default=False)

    user_id: int

    class Meta:
        table = "alert_subscription"
        unique_together = (("user", "event", "channel"),)


class AlertEvent(Model):
    """An alert raised for a user: a run event, a wandb.alert() or a test."""

    id = fields.BigIntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="alert_events", on_delete=fields.CASCADE
    )
    type = fields.CharEnumField(AlertEventType, max_length=16)
    title = fields.CharField(max_length=64)
    text = fields.TextField()
    severity = fields.CharEnumField(AlertSeverity, default=AlertSeverity.INFO, max_length=8)
    entity_name = fields.CharField(max_length=64)
    project_name = fields.CharField(max_length=128)
    run_name = fields.CharField(max_length=128)
    #: The caller's waitDuration in milliseconds, if it gave one.
    wait_duration_ms = fields.BigIntField(null=True)
    created_at = Timestamp(auto_now_add=True)

    deliveries: fields.ReverseRelation[AlertDelivery]

    user_id: int

    class Meta:
        table = "alert_event"
        indexes = (
            ("user_id", "entity_name", "project_name", "run_name", "title"),
            # Pruning finds the events past retention by age (notifiers/retention.py).
            ("created_at",),
        )


class AlertDelivery(Model):
    """The outbox: one row per channel an event is sent to, claimed by one dispatcher."""

    id = fields.BigIntField(primary_key=True)
    event: fields.ForeignKeyRelation[AlertEvent] = fields.ForeignKeyField(
        "models.AlertEvent", related_name="deliveries", on_delete=fields.CASCADE
    )
    #: Denormalised from the event, so deleting an account finds its rows at once.
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="alert_deliveries", on_delete=fields.CASCADE
    )
    channel = fields.CharEnumField(AlertChannel, max_length=8)
    #: Where it goes, null for the account's email and Slack chosen by its subscriptions.
    destination: fields.ForeignKeyNullableRelation[Destination] = fields.ForeignKeyField(
        "models.Destination", related_name="deliveries", on_delete=fields.SET_NULL, null=True
    )
    #: An email address to send to instead of the account's own: an invitation
    #: mailed to an address that may have no account yet.
    address = fields.CharField(max_length=320, null=True)
    status = fields.CharEnumField(DeliveryStatus, default=DeliveryStatus.PENDING, max_length=16)
    attempts = fields.IntField(default=0)
    #: Claimed while `attempts` is below it: a redelivery raises it by a round of attempts.
    attempt_limit = fields.IntField(default=8, db_default=8)
    last_error = fields.TextField(null=True)
    delivered_at = Timestamp(null=True)
    #: When the dispatcher may next try it.
    next_attempt_at = Timestamp()
    #: A dispatcher's claim runs until here, a claim of a process that died expires.
    lease_until = Timestamp(null=True)

    attempt_log: fields.ReverseRelation[DeliveryAttempt]

    event_id: int
    user_id: int
    destination_id: int | None

    class Meta:
        table = "alert_delivery"
        indexes = (
            ("status", "next_attempt_at"),
            # An event's deliveries, and whether any is still pending: read beside every
            # event shown, and by pruning, which deletes them and the event after them.
            ("event_id", "status"),
        )


class DeliveryAttempt(Model):
    """One try at sending a delivery: when, what the receiver answered, how long it took."""

    id = fields.BigIntField(primary_key=True)
    delivery: fields.ForeignKeyRelation[AlertDelivery] = fields.ForeignKeyField(
        "models.AlertDelivery", related_name="attempt_log", on_delete=fields.CASCADE
    )
    at = Timestamp()
    #: The receiver's HTTP status or SMTP reply code, null when no answer came.
    status_code = fields.IntField(null=True)
    duration_ms = fields.IntField()
    error = fields.TextField(null=True)

    delivery_id: int

    class Meta:
        table = "delivery_attempt"
        indexes = (("delivery_id", "id"),)
