"""Alert history past its retention: what is pruned, what is kept, in batches, by whom."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import UTC, datetime, timedelta

import pytest

import config
from models.alert import (
    AlertChannel,
    AlertDelivery,
    AlertEvent,
    AlertEventType,
    AlertSeverity,
    DeliveryStatus,
)
from notifiers import dispatcher
from notifiers.outbox import raise_alert
from notifiers.retention import cutoff, prune
from tests.support.helpers import count_queries, sign_up
from tests.support.ws import graphql_socket

#: The moment most tests prune at: a year ahead, so that the events they age are still
#: in the future for any dispatcher pruning by the clock meanwhile (the live server's).
LATER = datetime.now(UTC) + timedelta(days=365)

DELIVERED, FAILED, PENDING, SUPPRESSED = (
    DeliveryStatus.DELIVERED,
    DeliveryStatus.FAILED,
    DeliveryStatus.PENDING,
    DeliveryStatus.SUPPRESSED,
)


@pytest.fixture
async def alice(db):
    return await sign_up("alice")


@pytest.fixture(autouse=True)
def thirty_days(monkeypatch):
    monkeypatch.setattr(config, "ALERT_RETENTION_DAYS", 30)


async def aged(user, days: float, *statuses: DeliveryStatus, at: datetime = LATER) -> int:
    """An event `days` old at `at`, with a delivery in each of `statuses`; its id."""
    event = await raise_alert(
        user,
        type=AlertEventType.TEST,
        title=f"{days}d",
        text="t",
        severity=AlertSeverity.INFO,
        channels=[],
    )
    await AlertEvent.filter(id=event.id).update(created_at=at - timedelta(days=days))
    channels = list(AlertChannel)
    await AlertDelivery.bulk_create(
        AlertDelivery(
            event_id=event.id,
            user_id=user.id,
            channel=channels[i % len(channels)],
            status=status,
            attempts=0 if status == PENDING else 1,
            # Due a year ahead: no running dispatcher sends the pending ones.
            next_attempt_at=LATER,
        )
        for i, status in enumerate(statuses)
    )
    return int(event.id)


async def event_ids() -> set[int]:
    return {event_id for (event_id,) in await AlertEvent.all().values_list("id")}


async def delivered_for() -> list[int]:
    """The event of each delivery row, sorted."""
    return sorted(event_id for (event_id,) in await AlertDelivery.all().values_list("event_id"))


async def gone(event_id: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while await AlertEvent.exists(id=event_id):
        if time.monotonic() > deadline:
            raise AssertionError(f"event {event_id} is still there")
        await asyncio.sleep(0.02)


async def test_old_finished_events_are_pruned_with_their_deliveries(alice):
    await aged(alice.user, 31, DELIVERED, FAILED)
    await aged(alice.user, 31, SUPPRESSED)
    await aged(alice.user, 400)
    await aged(alice.user, 30.01, DELIVERED)  # old by 14 minutes
    recent = await aged(alice.user, 29, DELIVERED, FAILED)
    barely = await aged(alice.user, 29.99, FAILED)

    deleted = await prune(LATER)

    assert deleted == 4 + 4  # four events, four deliveries
    assert await event_ids() == {recent, barely}
    assert await delivered_for() == [recent, recent, barely]


async def test_an_old_event_with_a_delivery_still_pending_is_kept(alice):
    retrying = await aged(alice.user, 90, DELIVERED, PENDING)
    sending = await aged(alice.user, 90, PENDING)
    await AlertDelivery.filter(event_id=sending).update(  # claimed: being sent right now
        attempts=1, lease_until=LATER + timedelta(minutes=2)
    )

    deleted = await prune(LATER)

    assert deleted == 0
    assert await event_ids() == {retrying, sending}
    assert await delivered_for() == [retrying, retrying, sending]

    await AlertDelivery.filter(status=PENDING).update(status=FAILED, lease_until=None)

    assert await prune(LATER) == 2 + 3
    assert await event_ids() == set()


async def test_retention_of_zero_days_keeps_every_event(alice, monkeypatch):
    monkeypatch.setattr(config, "ALERT_RETENTION_DAYS", 0)
    kept = await aged(alice.user, 10_000, DELIVERED)

    deleted = await prune(LATER)

    assert (deleted, cutoff(LATER)) == (0, None)
    assert await event_ids() == {kept}
    assert await delivered_for() == [kept]


async def test_pruning_deletes_in_batches_of_the_configured_size(alice, monkeypatch):
    monkeypatch.setattr(config, "ALERT_PRUNE_BATCH", 3)
    for _ in range(7):
        await aged(alice.user, 31, DELIVERED, FAILED)

    with count_queries() as statements:
        deleted = await prune(LATER)

    assert deleted == 7 + 14
    assert await event_ids() == set()
    assert await delivered_for() == []
    assert ids_per_delete(statements, "alert_event", "id") == [3, 3, 1]
    assert ids_per_delete(statements, "alert_delivery", "event_id") == [3, 3, 1]


def ids_per_delete(statements: list[str], table: str, column: str) -> list[int]:
    """How many ids each DELETE from `table` lists in its first `column IN (...)`."""
    counts = []
    for statement in statements:
        target = re.match(r'DELETE FROM "(\w+)"', statement)
        if target and target.group(1) == table:
            ids = re.search(rf'"{column}" IN \(([^)]*)\)', statement)
            assert ids, statement
            counts.append(len(ids.group(1).split(",")))
    return counts


async def test_concurrent_prunes_delete_each_row_once(alice, monkeypatch):
    monkeypatch.setattr(config, "ALERT_PRUNE_BATCH", 7)
    for _ in range(40):
        await aged(alice.user, 31, DELIVERED, SUPPRESSED)
    recent = {await aged(alice.user, 1, DELIVERED) for _ in range(3)}

    results = await asyncio.gather(*(prune(LATER) for _ in range(4)))

    assert sum(results) == 40 + 80
    assert await event_ids() == recent
    assert await delivered_for() == sorted(recent)


async def test_the_dispatcher_prunes_when_it_starts_and_then_periodically(alice, monkeypatch):
    monkeypatch.setattr(config, "ALERT_PRUNE_INTERVAL_SECONDS", 0.05)
    now = datetime.now(UTC)
    before_start = await aged(alice.user, 31, DELIVERED, at=now)
    recent = await aged(alice.user, 29, DELIVERED, at=now)
    worker = dispatcher.Dispatcher({})

    await worker.start()
    try:
        await gone(before_start)
        while_running = await aged(alice.user, 31, FAILED, at=datetime.now(UTC))
        await gone(while_running)
    finally:
        await worker.stop()

    assert await event_ids() == {recent}
    assert await delivered_for() == [recent]


async def test_without_an_interval_the_dispatcher_leaves_pruning_alone(alice, monkeypatch):
    monkeypatch.setattr(config, "ALERT_PRUNE_INTERVAL_SECONDS", 0)
    old = await aged(alice.user, 31, DELIVERED, at=datetime.now(UTC))
    worker = dispatcher.Dispatcher({})

    await worker.start()
    await asyncio.sleep(0.3)
    await worker.stop()

    assert await event_ids() == {old}


async def test_replay_after_a_pruned_event_sends_what_followed(server, alice):
    cursor = await aged(alice.user, 40)
    await aged(alice.user, 40)
    await aged(alice.user, 1)
    assert await prune(LATER) == 2

    async with graphql_socket(server.url, alice.authorization) as socket:
        await socket.subscribe(variables={"after": str(cursor)})
        replayed = await socket.event()
        await aged(alice.user, 0)
        live_event = await socket.event()
        with pytest.raises(TimeoutError):
            await socket.message(timeout=0.3)

    assert [replayed["title"], live_event["title"]] == ["1d", "0d"]


async def test_a_pruned_newest_event_leaves_its_id_unused(alice):
    newest = max([await aged(alice.user, 31) for _ in range(3)])
    assert await prune(LATER) == 3

    after = await aged(alice.user, 0)

    # A subscriber whose cursor is `newest` must still be sent the next event.
    assert after > newest
