"""Alert history past its retention: deleted in small batches, never before it is sent.

An alert event older than `ALERT_RETENTION_DAYS` is deleted with its delivery rows
once none of them is PENDING (due, waiting for a retry, or being sent): all are
delivered, failed or suppressed, or there were none. A delivery only ever leaves
PENDING, and an event has all its deliveries from the transaction that wrote it, so
an event seen with nothing pending stays so; each delete checks again all the same.

A batch is one short transaction of at most `ALERT_PRUNE_BATCH` events and their
deliveries (one per channel). It deletes the deliveries first, the order account
deletion takes too, so the two never deadlock. Every process's dispatcher prunes
(`prune_periodically`): on PostgreSQL the batches take turns on an advisory lock,
and a process that finds it taken leaves the pass to the holder; SQLite writes one
transaction at a time anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Subquery
from tortoise.transactions import in_transaction

import config
from models.alert import AlertDelivery, AlertEvent, DeliveryStatus

logger = logging.getLogger("switchboard.retention")

#: The PostgreSQL advisory lock pruners take turns on (any fixed number: "alrt" in ASCII).
PRUNE_LOCK = 0x616C7274

# Oldest first, by the index on created_at: nothing but the old rows is read.
_SETTLED_BEFORE = """
    SELECT id FROM alert_event AS e
    WHERE created_at < {0} AND NOT EXISTS (
        SELECT 1 FROM alert_delivery AS d WHERE d.event_id = e.id AND d.status = 'PENDING'
    )
    ORDER BY created_at LIMIT {1}
"""
_SQL = {
    "postgres": _SETTLED_BEFORE.format("$1", "$2"),
    "sqlite": _SETTLED_BEFORE.format("?", "?"),
}


def cutoff(now: datetime | None = None) -> datetime | None:
    """The moment before which alert events are past retention; None keeps them all."""
    if config.ALERT_RETENTION_DAYS <= 0:
        return None
    now = datetime.now(UTC) if now is None else now.astimezone(UTC)
    return now - timedelta(days=config.ALERT_RETENTION_DAYS)


async def prune(now: datetime | None = None) -> int:
    """Delete the alert events past retention whose deliveries have all finished, with
    those deliveries, in batches; returns the rows deleted (events and deliveries).

    Another process pruning at the same time is harmless: it takes the rest of the pass.
    """
    return await _prune(now, None)


async def prune_periodically(stop: asyncio.Event) -> None:
    """Prune now, then every `ALERT_PRUNE_INTERVAL_SECONDS` (0: never) until `stop`."""
    while config.ALERT_PRUNE_INTERVAL_SECONDS > 0 and not stop.is_set():
        try:
            deleted = await _prune(None, stop)
        except Exception:  # the dispatcher outlives any failure; the next pass retries
            logger.exception("Pruning alert history failed")
        else:
            if deleted:
                logger.info("Pruned %d alert rows older than the retention", deleted)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), config.ALERT_PRUNE_INTERVAL_SECONDS)


async def _prune(now: datetime | None, stop: asyncio.Event | None) -> int:
    before = cutoff(now)
    if before is None:
        return 0
    limit = config.ALERT_PRUNE_BATCH
    deleted = 0
    while stop is None or not stop.is_set():
        ids = await _settled_before(before, limit)
        if not ids:
            break
        rows = await _delete(ids)
        if rows is None:  # another process is pruning: the rest of the pass is its
            break
        deleted += rows
        if len(ids) < limit:
            break
    return deleted


async def _settled_before(before: datetime, limit: int) -> list[int]:
    client = connections.get("default")
    sql = _SQL["postgres" if client.capabilities.dialect == "postgres" else "sqlite"]
    rows = await client.execute_query_dict(sql, [before, limit])
    return [int(row["id"]) for row in rows]


async def _delete(ids: list[int]) -> int | None:
    """Delete these events and their finished deliveries, but no event with a delivery
    still pending; None when another process holds the pruning turn."""
    async with in_transaction() as connection:
        if connection.capabilities.dialect == "postgres" and not await _take_turn(connection):
            return None
        deliveries: int = (
            await AlertDelivery.filter(event_id__in=ids)
            .exclude(status=DeliveryStatus.PENDING)
            .delete()
        )
        pending = AlertDelivery.filter(event_id__in=ids, status=DeliveryStatus.PENDING)
        events: int = (
            await AlertEvent.filter(id__in=ids)
            .exclude(id__in=Subquery(pending.values("event_id")))
            .delete()
        )
    return deliveries + events


async def _take_turn(connection: BaseDBAsyncClient) -> bool:
    # Held until this batch's transaction ends, so two pruners' deletes never run at
    # once (waiting on each other's rows, or deadlocked by them); one that finds the
    # lock taken ends its pass, and the holder goes on.
    rows = await connection.execute_query_dict(
        "SELECT pg_try_advisory_xact_lock($1) AS taken", [PRUNE_LOCK]
    )
    return bool(rows[0]["taken"])
