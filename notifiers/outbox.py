"""The outbox's writing side: an alert event and its delivery rows, in one transaction.

The caller returns as soon as the rows are committed; the dispatcher sends them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from models.alert import (
    AlertChannel,
    AlertDelivery,
    AlertEvent,
    AlertEventType,
    AlertSeverity,
    AlertSubscription,
    DeliveryStatus,
)
from models.integration import SlackIntegration
from models.user import User
from notifiers import dispatcher
from notifiers.hooks import AlertChange, ChangeKind, after_commit

#: Longer waits are treated as this one (a Duration can be up to 2^63 ms).
MAX_WAIT = timedelta(days=3650)
#: Deliveries that count as "sent" for the waitDuration rule: on their way, or arrived.
_SENT = (DeliveryStatus.PENDING, DeliveryStatus.DELIVERED)


async def raise_alert(user: User, **alert: Any) -> AlertEvent:
    """Record an alert for `user` and queue its deliveries (`record_alert`), in a
    transaction of its own, and announce it once committed."""
    async with in_transaction():
        recorded = await record_alert(user, **alert)
    announce(recorded)
    return recorded.event


@dataclass(frozen=True)
class Recorded:
    """An alert written in a transaction not yet committed, to `announce` after it."""

    event: AlertEvent
    queued: bool


async def record_alert(
    user: User,
    *,
    type: AlertEventType,
    title: str,
    text: str,
    severity: AlertSeverity,
    entity_name: str = "",
    project_name: str = "",
    run_name: str = "",
    wait_duration_ms: int | None = None,
    channels: Sequence[AlertChannel] | None = None,
    address: str | None = None,
) -> Recorded:
    """Write an alert for `user` and its deliveries, within the caller's transaction.

    `channels` None sends by the user's enabled subscriptions to `type`; a test
    alert names its channels, an invitation its `address` too. Within
    `wait_duration_ms` of an alert with the same title for the same run that was
    sent, the deliveries are SUPPRESSED.
    """
    if wait_duration_ms:
        # Alerts of one user that may suppress each other are written one at a
        # time (a row lock on PostgreSQL, SQLite writes one at a time anyway): two
        # copies of one alert arriving together must not both be sent.
        await User.filter(id=user.id).select_for_update().first()
    now = datetime.now(UTC)
    if channels is None:
        channels = await subscribed_channels(user.id, type)
    suppressed = bool(channels) and await _sent_within(
        user.id, type, title, entity_name, project_name, run_name, wait_duration_ms, now
    )
    event = await AlertEvent.create(
        user_id=user.id,
        type=type,
        title=title,
        text=text,
        severity=severity,
        entity_name=entity_name,
        project_name=project_name,
        run_name=run_name,
        wait_duration_ms=wait_duration_ms,
    )
    status = DeliveryStatus.SUPPRESSED if suppressed else DeliveryStatus.PENDING
    await AlertDelivery.bulk_create(
        AlertDelivery(
            event_id=event.id,
            user_id=user.id,
            channel=channel,
            address=address,
            status=status,
            next_attempt_at=now,
        )
        for channel in channels
    )
    return Recorded(event=event, queued=bool(channels) and not suppressed)


def announce(recorded: Recorded) -> None:
    """After the commit: tell live subscribers, and wake the dispatchers for the sending."""
    event = recorded.event
    after_commit(AlertChange(user_id=event.user_id, event_id=event.id, kind=ChangeKind.RAISED))
    if recorded.queued:
        dispatcher.wake_all()


async def subscribed_channels(user_id: int, type: AlertEventType) -> list[AlertChannel]:
    """The channels the user wants `type` by, in enum order; Slack only while connected."""
    rows = await AlertSubscription.filter(user_id=user_id, event=type, enabled=True)
    enabled = {row.channel for row in rows}
    if AlertChannel.SLACK in enabled and not await SlackIntegration.exists(user_id=user_id):
        enabled.discard(AlertChannel.SLACK)
    return [channel for channel in AlertChannel if channel in enabled]


async def _sent_within(
    user_id: int,
    type: AlertEventType,
    title: str,
    entity_name: str,
    project_name: str,
    run_name: str,
    wait_duration_ms: int | None,
    now: datetime,
) -> bool:
    if not wait_duration_ms:
        return False
    wait = min(timedelta(milliseconds=min(wait_duration_ms, 2**53)), MAX_WAIT)
    return await AlertEvent.filter(
        user_id=user_id,
        type=type,
        entity_name=entity_name,
        project_name=project_name,
        run_name=run_name,
        title=title,
        created_at__gte=now - wait,
        deliveries__status__in=_SENT,
    ).exists()
