"""The outbox worker: one per server process, sending due deliveries.

A delivery is claimed with one atomic statement that sets a lease and counts the
attempt: `FOR UPDATE SKIP LOCKED` on PostgreSQL, so two processes never claim the
same row, and a plain conditional UPDATE on SQLite, which serialises writers. A
claim of a process that died expires with its lease, and another process takes
the row over. The attempt count doubles as a fencing token: a process finishes
a delivery only while the row still carries the count it claimed it with.

Beside the sending, each dispatcher prunes alert history past its retention
(`notifiers.retention`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from tortoise import connections

import config
from auth.sealing import Unreadable, unseal
from models.alert import AlertChannel, AlertDelivery, DeliveryStatus
from models.integration import SlackIntegration
from notifiers.base import Alert, Notifier, PermanentFailure, TransientFailure
from notifiers.email import EmailNotifier
from notifiers.hooks import AlertChange, ChangeKind, after_commit
from notifiers.retention import prune_periodically
from notifiers.slack import SlackNotifier

logger = logging.getLogger("switchboard.dispatcher")

#: Deliveries sent at once by one process.
CONCURRENCY = 16
#: Retries never wait longer than this.
MAX_BACKOFF_SECONDS = 3600.0
#: How often abandoned last attempts are looked for (rare: a process died mid-send).
SWEEP_SECONDS = 10.0
#: Seconds a stopping dispatcher lets its sends finish before abandoning them to their lease.
STOP_GRACE_SECONDS = 5.0

_CLAIM_SQL = {
    "postgres": """
        UPDATE alert_delivery SET lease_until = $1, attempts = attempts + 1
        WHERE id IN (
            SELECT id FROM alert_delivery
            WHERE status = 'PENDING' AND next_attempt_at <= $2
              AND (lease_until IS NULL OR lease_until < $2) AND attempts < $3
            ORDER BY next_attempt_at LIMIT $4
            FOR UPDATE SKIP LOCKED
        )
        RETURNING id, attempts
    """,
    "sqlite": """
        UPDATE alert_delivery SET lease_until = ?, attempts = attempts + 1
        WHERE id IN (
            SELECT id FROM alert_delivery
            WHERE status = 'PENDING' AND next_attempt_at <= ?
              AND (lease_until IS NULL OR lease_until < ?) AND attempts < ?
            ORDER BY next_attempt_at LIMIT ?
        )
        RETURNING id, attempts
    """,
}

_running: weakref.WeakSet[Dispatcher] = weakref.WeakSet()


def wake_all() -> None:
    """Wake this process's dispatchers: new deliveries were just committed."""
    for dispatcher in _running:
        dispatcher.wake()


def backoff(attempts: int, retry_after: float | None = None) -> float:
    """Seconds before the next try after `attempts` tries: base x 2^(attempts-1),
    at least what the server asked for, at most an hour."""
    exponent = min(max(attempts - 1, 0), 32)
    delay = float(config.DELIVERY_RETRY_BASE_SECONDS) * 2.0**exponent
    if retry_after is not None:
        delay = max(delay, retry_after)
    return min(delay, MAX_BACKOFF_SECONDS)


class Dispatcher:
    def __init__(self, notifiers: Mapping[AlertChannel, Notifier]) -> None:
        self.notifiers = notifiers
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        #: Alert history past its retention is pruned beside the sending, in every process.
        self._pruner: asyncio.Task[None] | None = None
        self._stop_pruning = asyncio.Event()
        self._sending: set[asyncio.Task[None]] = set()
        #: The earliest retry this process scheduled, so it wakes for it without polling.
        self._next_due: datetime | None = None
        #: The last claim took every free slot: a finished send should claim again.
        self._saturated = False
        self._last_sweep: datetime | None = None

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="alert-dispatcher")
        # Named as the dispatcher's tasks are, which the tests' statement counts leave out.
        self._pruner = asyncio.create_task(
            prune_periodically(self._stop_pruning), name="alert-dispatcher-prune"
        )
        _running.add(self)

    async def stop(self) -> None:
        _running.discard(self)
        self._stopping = True
        self._stop_pruning.set()  # a batch under way ends first: it is short
        self.wake()
        if self._task is not None:
            await self._task
        if self._pruner is not None:
            await self._pruner
        if self._sending:
            _, late = await asyncio.wait(self._sending, timeout=STOP_GRACE_SECONDS)
            for task in late:  # their leases expire and another process takes over
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                claimed = await self.dispatch_due()
            except Exception:  # the worker outlives any failure; the next round retries
                logger.exception("Claiming due alert deliveries failed")
                claimed = 0
            if not (claimed and self._saturated):  # a full batch: more may be due at once
                await self._sleep()

    async def _sleep(self) -> None:
        timeout = config.DELIVERY_POLL_SECONDS
        if self._next_due is not None:
            until_due = (self._next_due - datetime.now(UTC)).total_seconds()
            timeout = max(0.0, min(timeout, until_due))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)

    async def dispatch_due(self) -> int:
        """Claim due deliveries up to the free sending slots and start sending them."""
        now = datetime.now(UTC)
        if self._next_due is not None and self._next_due <= now:
            self._next_due = None  # due now: claimed below, or when a slot frees
        free = CONCURRENCY - len(self._sending)
        if free <= 0:
            return 0
        if self._last_sweep is None or (now - self._last_sweep).total_seconds() >= SWEEP_SECONDS:
            self._last_sweep = now
            await self._fail_abandoned(now)
        claimed = await self._claim(now, free)
        self._saturated = len(claimed) == free
        for delivery_id, attempts in claimed:
            task = asyncio.create_task(
                self._deliver(delivery_id, attempts), name=f"alert-delivery-{delivery_id}"
            )
            self._sending.add(task)
            task.add_done_callback(self._sent)
        return len(claimed)

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            logger.error("An alert delivery task failed", exc_info=error)
        if self._saturated:
            self.wake()

    async def _claim(self, now: datetime, limit: int) -> list[tuple[int, int]]:
        lease_until = now + timedelta(seconds=config.DELIVERY_LEASE_SECONDS)
        client = connections.get("default")
        max_attempts = config.DELIVERY_MAX_ATTEMPTS
        if client.capabilities.dialect == "postgres":
            values: list[Any] = [lease_until, now, max_attempts, limit]
            rows = await client.execute_query_dict(_CLAIM_SQL["postgres"], values)
        else:
            values = [lease_until, now, now, max_attempts, limit]
            rows = await client.execute_query_dict(_CLAIM_SQL["sqlite"], values)
        return [(int(row["id"]), int(row["attempts"])) for row in rows]

    async def _fail_abandoned(self, now: datetime) -> None:
        # A process died during a delivery's last allowed attempt: it is not
        # claimable any more, and must not stay PENDING for ever.
        abandoned = AlertDelivery.filter(
            status=DeliveryStatus.PENDING,
            attempts__gte=config.DELIVERY_MAX_ATTEMPTS,
            lease_until__lt=now,
        )
        rows = await abandoned.values_list("id", "event_id", "user_id")
        if not rows:
            return
        await abandoned.filter(id__in=[r[0] for r in rows]).update(
            status=DeliveryStatus.FAILED,
            lease_until=None,
            last_error="Gave up: the process sending its last attempt stopped.",
        )
        for _, event_id, user_id in rows:
            after_commit(AlertChange(user_id=user_id, event_id=event_id, kind=ChangeKind.DELIVERY))

    async def _deliver(self, delivery_id: int, attempts: int) -> None:
        delivery = (
            await AlertDelivery.filter(id=delivery_id).select_related("event", "user").first()
        )
        if delivery is None:  # the account was deleted meanwhile
            return
        try:
            alert = await _alert(delivery)
            await self.notifiers[delivery.channel].send(alert)
        except PermanentFailure as failure:
            await self._finish(delivery, attempts, failed=failure.message)
        except TransientFailure as failure:
            if attempts >= config.DELIVERY_MAX_ATTEMPTS:
                await self._finish(delivery, attempts, failed=failure.message)
            else:
                await self._retry(delivery, attempts, failure)
        except Exception as error:  # a bug in a notifier must not stop the others
            logger.exception("Sending alert delivery %s failed unexpectedly", delivery_id)
            unexpected = TransientFailure(f"Internal error: {type(error).__name__}")
            if attempts >= config.DELIVERY_MAX_ATTEMPTS:
                await self._finish(delivery, attempts, failed=unexpected.message)
            else:
                await self._retry(delivery, attempts, unexpected)
        else:
            await self._finish(delivery, attempts, failed=None)

    async def _finish(self, delivery: AlertDelivery, attempts: int, *, failed: str | None) -> None:
        changes: dict[str, Any] = {"lease_until": None}
        if failed is None:
            changes.update(status=DeliveryStatus.DELIVERED, delivered_at=datetime.now(UTC))
        else:
            changes.update(status=DeliveryStatus.FAILED, last_error=failed)
        await self._update(delivery, attempts, changes)

    async def _retry(
        self, delivery: AlertDelivery, attempts: int, failure: TransientFailure
    ) -> None:
        due = datetime.now(UTC) + timedelta(seconds=backoff(attempts, failure.retry_after))
        changes = {"lease_until": None, "next_attempt_at": due, "last_error": failure.message}
        if await self._update(delivery, attempts, changes):
            self._next_due = due if self._next_due is None else min(self._next_due, due)
            self.wake()  # the loop may be asleep for longer than this retry's wait

    async def _update(
        self, delivery: AlertDelivery, attempts: int, changes: dict[str, Any]
    ) -> bool:
        # Only while the row is still ours: PENDING with the attempt count we claimed.
        updated = await AlertDelivery.filter(
            id=delivery.id, attempts=attempts, status=DeliveryStatus.PENDING
        ).update(**changes)
        if not updated:
            logger.warning(
                "Alert delivery %s was taken over or removed before it finished", delivery.id
            )
            return False
        after_commit(
            AlertChange(
                user_id=delivery.user_id, event_id=delivery.event_id, kind=ChangeKind.DELIVERY
            )
        )
        return True


async def _alert(delivery: AlertDelivery) -> Alert:
    event = delivery.event
    return Alert(
        delivery_id=delivery.id,
        event_id=event.id,
        type=event.type,
        title=event.title,
        text=event.text,
        severity=event.severity,
        entity_name=event.entity_name,
        project_name=event.project_name,
        run_name=event.run_name,
        created_at=event.created_at,
        recipient=await _recipient(delivery),
    )


async def _recipient(delivery: AlertDelivery) -> str:
    if delivery.channel == AlertChannel.EMAIL:
        return delivery.address or delivery.user.email
    integration = await SlackIntegration.filter(user_id=delivery.user_id).first()
    if integration is None:
        raise PermanentFailure("Slack is not connected any more.")
    try:
        return unseal(integration.webhook_url_sealed)
    except Unreadable:
        raise PermanentFailure(
            "The stored Slack webhook cannot be decrypted (SECRET_KEY changed); reconnect Slack."
        ) from None


@contextlib.asynccontextmanager
async def running() -> AsyncIterator[Dispatcher]:
    """A dispatcher sending by email and Slack, for the life of the block (the app's lifespan)."""
    async with aiohttp.ClientSession() as http:
        dispatcher = Dispatcher(
            {AlertChannel.EMAIL: EmailNotifier(), AlertChannel.SLACK: SlackNotifier(http)}
        )
        await dispatcher.start()
        try:
            yield dispatcher
        finally:
            await dispatcher.stop()
