"""The outbox's writing side: an alert event and its delivery rows, in one transaction.

The caller returns as soon as the rows are committed; the dispatcher sends them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

import config
from models.alert import (
    AlertChannel,
    AlertDelivery,
    AlertEvent,
    AlertEventType,
    AlertSeverity,
    DeliveryStatus,
)
from models.destination import Destination
from models.team import TeamRole
from models.user import User
from notifiers import dispatcher
from notifiers.hooks import AlertChange, ChangeKind, after_commit
from notifiers.routing import Target, targets, team_targets

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
    destination: Destination | None = None,
    address: str | None = None,
    team_id: int | None = None,
) -> Recorded:
    """Write an alert for `user` and its deliveries, within the caller's transaction.

    With neither `channels` nor `destination`, the user's routes (or, with none, its
    subscriptions) choose where it goes; a test alert names its channels or its one
    destination, an invitation its `address` too. `team_id`, the team whose run it is
    about: its routes add their destinations. Within `wait_duration_ms` of an
    alert with the same title for the same run that was sent, the deliveries are
    SUPPRESSED, as are those to a muted destination.
    """
    if wait_duration_ms:
        # Alerts of one user that may suppress each other are written one at a
        # time (a row lock on PostgreSQL, SQLite writes one at a time anyway): two
        # copies of one alert arriving together must not both be sent.
        await User.filter(id=user.id).select_for_update().first()
    now = datetime.now(UTC)
    if destination is not None:
        chosen = [Target(destination.kind, destination)]
    elif channels is not None:
        chosen = [Target(channel, None) for channel in channels]
    else:
        chosen = await targets(user.id, type, severity, entity_name, project_name)
    if team_id is not None:
        mine = {t.destination.id for t in chosen if t.destination is not None}
        team = await team_targets(team_id, type, severity, project_name)
        chosen += [t for t in team if t.destination is not None and t.destination.id not in mine]
    suppressed = bool(chosen) and await _sent_within(
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
    deliveries = [
        await _delivery(event, target, address, now, suppressed=suppressed) for target in chosen
    ]
    await AlertDelivery.bulk_create(deliveries)
    queued = any(d.status == DeliveryStatus.PENDING for d in deliveries)
    return Recorded(event=event, queued=queued)


async def _delivery(
    event: AlertEvent, target: Target, address: str | None, now: datetime, *, suppressed: bool
) -> AlertDelivery:
    delivery = AlertDelivery(
        event_id=event.id,
        user_id=event.user_id,
        channel=target.channel,
        destination=target.destination,
        address=address,
        next_attempt_at=now,
        attempt_limit=config.DELIVERY_MAX_ATTEMPTS,
    )
    if suppressed:
        delivery.status = DeliveryStatus.SUPPRESSED
    elif target.muted(now) and event.type != AlertEventType.TEST:
        delivery.status = DeliveryStatus.SUPPRESSED
        delivery.last_error = f"Not sent: the destination is muted until {target.muted_until}."
    elif target.destination is not None and target.destination.digest_minutes:
        delivery.next_attempt_at = await digest_due(target.destination, now)
    return delivery


async def digest_due(destination: Destination, now: datetime) -> datetime:
    """When the digest an alert to `destination` joins is sent: that of the digest
    already gathering, or the end of a new window."""
    gathering = (
        await AlertDelivery.filter(
            destination_id=destination.id,
            status=DeliveryStatus.PENDING,
            attempts=0,
            next_attempt_at__gt=now,
        )
        .order_by("next_attempt_at")
        .first()
    )
    if gathering is not None:
        due: datetime = gathering.next_attempt_at
        return due
    return now + timedelta(minutes=destination.digest_minutes or 0)


def announce(recorded: Recorded) -> None:
    """After the commit: tell live subscribers, and wake the dispatchers for the sending."""
    event = recorded.event
    after_commit(AlertChange(user_id=event.user_id, event_id=event.id, kind=ChangeKind.RAISED))
    if recorded.queued:
        dispatcher.wake_all()


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


async def abandon_pending(destination_id: int, reason: str) -> None:
    """Fail the deliveries still waiting for `destination_id` (turned off or deleted),
    so that none stays PENDING for a destination that will not be sent to."""
    waiting = AlertDelivery.filter(destination_id=destination_id, status=DeliveryStatus.PENDING)
    rows = await waiting.values_list("event_id", "user_id")
    if not rows:
        return
    await waiting.update(status=DeliveryStatus.FAILED, lease_until=None, last_error=reason)
    for event_id, user_id in set(rows):
        after_commit(AlertChange(user_id=user_id, event_id=event_id, kind=ChangeKind.DELIVERY))


async def destination_stopped(destination: Destination, reason: str) -> None:
    """The server turned `destination` off: its waiting deliveries fail, and its owner
    is told by email."""
    await abandon_pending(destination.id, f"Not sent: the destination was turned off. {reason}")
    if destination.team_id is not None:  # a team's: its admins are told
        owners = await User.filter(
            memberships__team_id=destination.team_id, memberships__role=TeamRole.ADMIN
        ).order_by("id")
    else:
        owners = await User.filter(id=destination.user_id)
    for owner in owners:
        await raise_alert(
            owner,
            type=AlertEventType.DELIVERY_STOPPED,
            title=f"Alerts to {destination.name} stopped"[:64],
            text=(
                f"Switchboard stopped sending alerts to {destination.name} "
                f"({destination.target}). {reason}\nTurn it back on in the alert settings "
                "once its receiver works."
            ),
            severity=AlertSeverity.WARN,
            channels=[AlertChannel.EMAIL] if owner.email else [],
        )
