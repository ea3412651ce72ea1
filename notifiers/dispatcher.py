"""The outbox worker: one per server process, sending due deliveries.

A delivery is claimed with one atomic statement that sets a lease and counts the
attempt: `FOR UPDATE SKIP LOCKED` on PostgreSQL, so two processes never claim the
same row, and a plain conditional UPDATE on SQLite, which serialises writers. A
claim of a process that died expires with its lease, and another process takes
the row over. The attempt count doubles as a fencing token: a process finishes
a delivery only while the row still carries the count it claimed it with.

Each attempt is logged (`DeliveryAttempt`). Deliveries to a digest destination
claimed together go as one message; sends to one receiver keep its pace
(`notifiers.pace`); a webhook or Discord destination whose receiver says gone, or
that keeps failing, is turned off and its owner told.

Beside the sending, each dispatcher prunes alert history past its retention
(`notifiers.retention`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import weakref
from collections import defaultdict
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from tortoise import connections
from tortoise.expressions import F

import config
from models.alert import AlertChannel, AlertDelivery, DeliveryAttempt, DeliveryStatus
from models.destination import Destination
from models.prepared import Prepared
from notifiers import outbox, pace
from notifiers.base import DeliveryFailure, Notifier, ReceiverGone, TransientFailure
from notifiers.discord import DiscordNotifier
from notifiers.email import EmailNotifier
from notifiers.hooks import AlertChange, ChangeKind, after_commit
from notifiers.http_guard import guarded_session
from notifiers.messages import message
from notifiers.retention import prune_periodically
from notifiers.slack import SlackNotifier
from notifiers.webhook import WebhookNotifier

logger = logging.getLogger("switchboard.dispatcher")

#: Deliveries sent at once by one process.
CONCURRENCY = 16
#: Retries never wait longer than this.
MAX_BACKOFF_SECONDS = 3600.0
#: How often abandoned last attempts are looked for (rare: a process died mid-send).
SWEEP_SECONDS = 10.0
#: Seconds a stopping dispatcher lets its sends finish before abandoning them to their lease.
STOP_GRACE_SECONDS = 5.0
#: A retry waits up to this fraction longer than its backoff, so that deliveries that
#: failed together do not all come back together.
JITTER = 0.25
#: Alerts one digest message gathers at most; a window with more sends several.
MAX_DIGEST = 100
#: A send that would wait longer than this for its receiver's turn is put back, uncounted.
MAX_PACE_WAIT_SECONDS = 5.0

#: `{only}` narrows the claim to one destination's deliveries (a digest's), or is empty.
_CLAIM_SQL = {
    "postgres": """
        UPDATE alert_delivery SET lease_until = $1, attempts = attempts + 1
        WHERE id IN (
            SELECT id FROM alert_delivery
            WHERE status = 'PENDING' AND next_attempt_at <= $2
              AND (lease_until IS NULL OR lease_until < $2) AND attempts < attempt_limit
              {only}
            ORDER BY next_attempt_at, id LIMIT $3
            FOR UPDATE SKIP LOCKED
        )
        RETURNING id, attempts, destination_id
    """,
    "sqlite": """
        UPDATE alert_delivery SET lease_until = ?, attempts = attempts + 1
        WHERE id IN (
            SELECT id FROM alert_delivery
            WHERE status = 'PENDING' AND next_attempt_at <= ?
              AND (lease_until IS NULL OR lease_until < ?) AND attempts < attempt_limit
              {only}
            ORDER BY next_attempt_at, id LIMIT ?
        )
        RETURNING id, attempts, destination_id
    """,
}
_ONE_DESTINATION = {"postgres": "AND destination_id = $4", "sqlite": "AND destination_id = ?"}

#: The claimed deliveries with what their message is made of (built once: models/prepared.py).
CLAIMED = Prepared(
    lambda ids: (
        AlertDelivery.filter(id__in=ids)
        .select_related("event", "user", "destination")
        .order_by("id")
    )
)

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


def jittered(delay: float) -> float:
    """`delay`, up to JITTER longer at random: never sooner than a `Retry-After`."""
    return delay * (1.0 + random.uniform(0.0, JITTER))  # noqa: S311 # spacing, not secrecy


#: A claimed delivery: its id and the attempt count it was claimed with.
Claim = tuple[int, int]


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
        for claims in await self._messages(now, claimed):
            task = asyncio.create_task(self._deliver(claims), name=f"alert-delivery-{claims[0][0]}")
            self._sending.add(task)
            task.add_done_callback(self._sent)
        return len(claimed)

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._sending.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            logger.error("An alert delivery task failed", exc_info=error)
        if self._saturated:
            self.wake()

    async def _claim(
        self, now: datetime, limit: int, destination_id: int | None = None
    ) -> list[tuple[int, int, int | None]]:
        lease_until = now + timedelta(seconds=config.DELIVERY_LEASE_SECONDS)
        client = connections.get("default")
        dialect = "postgres" if client.capabilities.dialect == "postgres" else "sqlite"
        only = "" if destination_id is None else _ONE_DESTINATION[dialect]
        if dialect == "postgres":  # numbered: the destination's $4 comes last
            values: list[Any] = [lease_until, now, limit]
            values += [] if destination_id is None else [destination_id]
        else:  # in the order of the text: the destination's ? before LIMIT's
            values = [lease_until, now, now]
            values += ([] if destination_id is None else [destination_id]) + [limit]
        rows = await client.execute_query_dict(_CLAIM_SQL[dialect].format(only=only), values)
        return [(int(r["id"]), int(r["attempts"]), r["destination_id"]) for r in rows]

    async def _messages(
        self, now: datetime, claimed: Sequence[tuple[int, int, int | None]]
    ) -> list[list[Claim]]:
        """The claims grouped by message: a digest destination's together, with the rest
        of its window claimed too (up to MAX_DIGEST), as a batch may have cut it."""
        destination_ids = {d for _, _, d in claimed if d is not None}
        digests: set[int] = set()
        if destination_ids:
            found = Destination.filter(id__in=destination_ids, digest_minutes__isnull=False)
            digests = {row.id for row in await found.only("id")}
        grouped: dict[int, list[Claim]] = defaultdict(list)
        single: list[list[Claim]] = []
        for delivery_id, attempts, destination_id in claimed:
            if destination_id is not None and destination_id in digests:
                grouped[destination_id].append((delivery_id, attempts))
            else:
                single.append([(delivery_id, attempts)])
        for destination_id, claims in grouped.items():
            if len(claims) < MAX_DIGEST:
                more = await self._claim(now, MAX_DIGEST - len(claims), destination_id)
                claims += [(delivery_id, attempts) for delivery_id, attempts, _ in more]
        return single + list(grouped.values())

    async def _fail_abandoned(self, now: datetime) -> None:
        # A process died during a delivery's last allowed attempt: it is not
        # claimable any more, and must not stay PENDING for ever.
        abandoned = AlertDelivery.filter(
            status=DeliveryStatus.PENDING, attempts__gte=F("attempt_limit"), lease_until__lt=now
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

    async def _deliver(self, claims: Sequence[Claim]) -> None:
        """Send one message: a delivery, or the deliveries of one digest."""
        attempts = dict(claims)
        deliveries = await CLAIMED(list(attempts))
        if not deliveries:  # the account was deleted meanwhile
            return
        lead = deliveries[0]
        failure: DeliveryFailure | None = None
        status: int | None = None
        started = time.monotonic()
        try:
            alert = await message(deliveries)
            turn = await _turn(lead)
            if not turn.taken:
                await self._put_back(deliveries, attempts, turn.wait)
                return
            await asyncio.sleep(turn.wait)
            started = time.monotonic()
            status = await self.notifiers[lead.channel].send(alert)
        except DeliveryFailure as error:
            failure, status = error, error.status_code
        except Exception as error:  # a bug in a notifier must not stop the others
            logger.exception("Sending alert delivery %s failed unexpectedly", lead.id)
            failure = TransientFailure(f"Internal error: {type(error).__name__}")
        duration_ms = int((time.monotonic() - started) * 1000)
        await DeliveryAttempt.bulk_create(
            DeliveryAttempt(
                delivery_id=d.id,
                at=datetime.now(UTC),
                status_code=status,
                duration_ms=duration_ms,
                error=None if failure is None else failure.message,
            )
            for d in deliveries
        )
        for delivery in deliveries:
            await self._conclude(delivery, attempts[delivery.id], failure)
        await _judge(lead.destination, failure)

    async def _conclude(
        self, delivery: AlertDelivery, attempts: int, failure: DeliveryFailure | None
    ) -> None:
        if failure is None:
            await self._finish(delivery, attempts, failed=None)
        elif isinstance(failure, TransientFailure) and attempts < delivery.attempt_limit:
            await self._retry(delivery, attempts, failure)
        else:
            await self._finish(delivery, attempts, failed=failure.message)

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
        delay = jittered(backoff(attempts, failure.retry_after))
        await self._later(delivery, attempts, delay, last_error=failure.message)

    async def _put_back(
        self, deliveries: Sequence[AlertDelivery], attempts: Mapping[int, int], wait: float
    ) -> None:
        # Not an attempt: the receiver's turn is later. The count goes back down, and
        # nothing a subscriber sees changed.
        for delivery in deliveries:
            claimed = attempts[delivery.id]
            await self._later(delivery, claimed, wait, notify=False, attempts=claimed - 1)

    async def _later(
        self,
        delivery: AlertDelivery,
        claimed: int,
        delay: float,
        *,
        notify: bool = True,
        **changes: Any,
    ) -> None:
        due = datetime.now(UTC) + timedelta(seconds=delay)
        changes.update(lease_until=None, next_attempt_at=due)
        if await self._update(delivery, claimed, changes, notify=notify):
            self._next_due = due if self._next_due is None else min(self._next_due, due)
            self.wake()  # the loop may be asleep for longer than this wait

    async def _update(
        self,
        delivery: AlertDelivery,
        attempts: int,
        changes: dict[str, Any],
        *,
        notify: bool = True,
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
        if notify:
            after_commit(
                AlertChange(
                    user_id=delivery.user_id, event_id=delivery.event_id, kind=ChangeKind.DELIVERY
                )
            )
        return True


async def _turn(delivery: AlertDelivery) -> pace.Turn:
    """This delivery's turn to be sent to its receiver (at once for one without a pace)."""
    interval = pace.INTERVALS.get(delivery.channel)
    if interval is None:
        return pace.Turn(wait=0.0, taken=True)
    if delivery.destination_id is not None:
        key = f"destination:{delivery.destination_id}"
    else:
        key = f"{delivery.channel.value.lower()}:{delivery.user_id}"
    return await pace.reserve(key, interval, MAX_PACE_WAIT_SECONDS)


async def _judge(destination: Destination | None, failure: DeliveryFailure | None) -> None:
    """Count a webhook's or Discord's failures in a row; turn it off when its receiver
    says gone or the count reaches DESTINATION_FAILURE_LIMIT, and tell its owner. The
    account's email and Slack are never turned off by the server."""
    if destination is None or destination.built_in is not None:
        return
    mine = Destination.filter(id=destination.id)
    if failure is None:
        if destination.failures:
            await mine.update(failures=0)
        return
    if isinstance(failure, ReceiverGone):
        reason = f"The receiver said it is gone: {failure.message}"
    else:
        await mine.update(failures=F("failures") + 1)
        row = await mine.only("id", "failures").first()
        failures = 0 if row is None else row.failures
        if failures < config.DESTINATION_FAILURE_LIMIT:
            return
        reason = f"{failures} attempts in a row failed, the last: {failure.message}"
    if await mine.filter(enabled=True).update(enabled=False, disabled_reason=reason):
        await outbox.destination_stopped(destination, reason)


@contextlib.asynccontextmanager
async def running() -> AsyncIterator[Dispatcher]:
    """A dispatcher sending by every channel, for the life of the block (the app's
    lifespan). Webhooks and Discord go through the guarded session, which connects to
    public addresses only (`notifiers.http_guard`)."""
    async with aiohttp.ClientSession() as http, guarded_session() as guarded:
        dispatcher = Dispatcher(
            {
                AlertChannel.EMAIL: EmailNotifier(),
                AlertChannel.SLACK: SlackNotifier(http),
                AlertChannel.WEBHOOK: WebhookNotifier(guarded),
                AlertChannel.DISCORD: DiscordNotifier(guarded),
            }
        )
        await dispatcher.start()
        try:
            yield dispatcher
        finally:
            await dispatcher.stop()
