"""The alert bus: tells every server process that one of a user's alert events was
raised or changed, so its live subscribers can fetch and send it.

In-process by default. With REDIS_URL, notices travel over one Redis pub/sub
channel: each process keeps ONE subscribing connection, shared by all of its
subscribers, and reconnects with backoff when Redis goes away. A notice is tiny
(user id, event id): subscribers read the event itself from the database, which
stays the one source of truth. Notices published while a process was cut off
from Redis are not lost to its subscribers: after a reconnect each of them is
told to resynchronise, and reads what it missed from the database.

It carries revocations too: an API key or an account was deleted, and every socket
it opened, on every process, must end. A process that could not publish one ends
its own sockets at once, and once Redis is back every process is told to
resynchronise, which for a socket means reading its credentials again.

    BusError
    └── SubscriberTooSlow   a subscriber fell `max_pending` notices behind and was ended
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.exceptions import RedisError

import config

logger = logging.getLogger("switchboard.bus")

#: Notices a subscriber may have waiting before it is ended as too slow.
MAX_PENDING = 256
#: How the bus's connections are named in Redis's CLIENT LIST.
CLIENT_NAME = "switchboard-bus"
#: Sent by a process whose publishes failed while Redis was away.
RESYNC_MESSAGE = json.dumps({"resync": 1})
RECONNECT_BASE_SECONDS = 0.1
RECONNECT_MAX_SECONDS = 5.0


class BusError(Exception):
    pass


class SubscriberTooSlow(BusError):
    def __init__(self, max_pending: int) -> None:
        super().__init__(
            f"This subscriber fell more than {max_pending} alerts behind and was ended; "
            "subscribe again with `after` set to the last alert received."
        )


RAISED = "RAISED"
DELIVERY = "DELIVERY"


@dataclass(frozen=True)
class Notice:
    """An alert event of `user_id` was raised, or (DELIVERY) its deliveries changed."""

    user_id: int
    event_id: int
    kind: str = RAISED
    #: Shared by every local subscriber of this one notice: work done for the
    #: event (loading it) is done once per process, not once per subscriber.
    memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


class Resync:
    """The bus may have missed notices: read what came after the last one seen."""


RESYNC = Resync()


@dataclass(frozen=True)
class Revocation:
    """Credentials of `user_id` were revoked: one API key, or (no key) every credential
    of the account, its tokens included."""

    user_id: int
    api_key_id: int | None = None

    def ends(self, api_key_id: int | None) -> bool:
        """Whether what signed in with `api_key_id` (None: a token) must end."""
        return self.api_key_id is None or self.api_key_id == api_key_id


#: Hears each revocation of one account's credentials, and RESYNC when the bus may
#: have missed some. Called by the bus as the news arrives: it must not block.
Watcher = Callable[[Revocation | Resync], None]


class Subscription:
    """One listener's bounded queue of notices for one user."""

    def __init__(self, bus: Bus, user_id: int, max_pending: int) -> None:
        self.bus = bus
        self.user_id = user_id
        self.max_pending = max_pending
        self._pending: deque[Notice] = deque()
        self._wakeup = asyncio.Event()
        self._too_slow = False
        self._resync = False

    def offer(self, notice: Notice) -> None:
        # Never blocks the publisher: a full queue ends this subscriber, not the others.
        if self._too_slow:
            return
        if len(self._pending) >= self.max_pending:
            self._too_slow = True
            self._pending.clear()
        else:
            self._pending.append(notice)
        self._wakeup.set()

    def resync(self) -> None:
        self._resync = True
        self._wakeup.set()

    async def get(self) -> Notice | Resync:
        while True:
            if self._too_slow:
                raise SubscriberTooSlow(self.max_pending)
            if self._resync:
                self._resync = False
                self._pending.clear()
                return RESYNC
            if self._pending:
                return self._pending.popleft()
            self._wakeup.clear()
            await self._wakeup.wait()


class Bus:
    """Local fan-out of notices to subscriptions; subclasses decide how notices travel."""

    def __init__(self) -> None:
        self._subscriptions: dict[int, set[Subscription]] = {}
        self._watchers: dict[int, set[Watcher]] = {}

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def publish(self, notice: Notice) -> None:
        raise NotImplementedError

    async def revoke(self, revocation: Revocation) -> None:
        raise NotImplementedError

    @contextlib.contextmanager
    def subscribe(self, user_id: int, *, max_pending: int | None = None) -> Iterator[Subscription]:
        subscription = Subscription(self, user_id, max_pending or MAX_PENDING)
        self._subscriptions.setdefault(user_id, set()).add(subscription)
        try:
            yield subscription
        finally:
            listeners = self._subscriptions.get(user_id)
            if listeners is not None:
                listeners.discard(subscription)
                if not listeners:
                    del self._subscriptions[user_id]

    @contextlib.contextmanager
    def watch(self, user_id: int, watcher: Watcher) -> Iterator[None]:
        """`watcher` hears of revocations of `user_id`'s credentials until the block ends."""
        self._watchers.setdefault(user_id, set()).add(watcher)
        try:
            yield
        finally:
            watchers = self._watchers.get(user_id)
            if watchers is not None:
                watchers.discard(watcher)
                if not watchers:
                    del self._watchers[user_id]

    @property
    def subscriber_count(self) -> int:
        return sum(len(s) for s in self._subscriptions.values())

    def dispatch(self, user_id: int, event_id: int, kind: str = RAISED) -> None:
        listeners = self._subscriptions.get(user_id)
        if listeners:
            notice = Notice(user_id, event_id, kind)
            for subscription in tuple(listeners):
                subscription.offer(notice)

    def dispatch_revocation(self, revocation: Revocation) -> None:
        for watcher in tuple(self._watchers.get(revocation.user_id, ())):
            watcher(revocation)

    def resync_all(self) -> None:
        for listeners in self._subscriptions.values():
            for subscription in listeners:
                subscription.resync()
        for watchers in tuple(self._watchers.values()):
            for watcher in tuple(watchers):
                watcher(RESYNC)


class LocalBus(Bus):
    """Notices reach the subscribers of this process only."""

    async def publish(self, notice: Notice) -> None:
        self.dispatch(notice.user_id, notice.event_id, notice.kind)

    async def revoke(self, revocation: Revocation) -> None:
        self.dispatch_revocation(revocation)


class RedisBus(Bus):
    """Notices travel through one Redis pub/sub channel shared by every process."""

    def __init__(self, url: str, channel: str) -> None:
        super().__init__()
        self.url = url
        self.channel = channel
        self._client: redis.Redis | None = None
        self._listener: redis.Redis | None = None
        self._reader: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        #: A publish failed: once Redis is back, every process must resynchronise.
        self._missed_publish = False

    async def start(self) -> None:
        self._client = redis.Redis.from_url(
            self.url,
            socket_connect_timeout=2,
            client_name=CLIENT_NAME,
            # A connection that died with a Redis restart is replaced on the next try.
            retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), retries=3),
            retry_on_error=[redis.ConnectionError, redis.TimeoutError],
        )
        # The subscribing connection must fail loudly instead: a silent
        # reconnect would skip the resynchronisation of the subscribers.
        self._listener = redis.Redis.from_url(
            self.url, socket_connect_timeout=2, client_name=CLIENT_NAME, retry=Retry(NoBackoff(), 0)
        )
        self._reader = asyncio.create_task(self._read_forever(), name="bus-reader")
        # Serve even if Redis is down at start: the reader keeps trying.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), timeout=5)

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        for client in (self._client, self._listener):
            if client is not None:
                await client.aclose()

    async def publish(self, notice: Notice) -> None:
        message = json.dumps({"u": notice.user_id, "e": notice.event_id, "k": notice.kind})
        if not await self._send(message):
            # The event is committed: local subscribers still hear of it now, and
            # every process is told to resynchronise as soon as Redis is back.
            logger.warning("Could not publish alert %s to Redis", notice.event_id)
            self.dispatch(notice.user_id, notice.event_id, notice.kind)

    async def revoke(self, revocation: Revocation) -> None:
        message = json.dumps({"revoke": revocation.user_id, "key": revocation.api_key_id})
        if not await self._send(message):
            # The sockets of this process end now; those of the others read their
            # credentials again when told to resynchronise, as soon as Redis is back.
            logger.warning("Could not publish the revocation of %s to Redis", revocation)
            self.dispatch_revocation(revocation)

    async def _send(self, message: str) -> bool:
        """Whether `message` was published; after a failure, a resync goes first."""
        if self._client is None:
            raise BusError("The bus is not started.")
        try:
            if self._missed_publish:
                await self._client.publish(self.channel, RESYNC_MESSAGE)
                self._missed_publish = False
            await self._client.publish(self.channel, message)
        except (RedisError, OSError):
            self._missed_publish = True
            return False
        return True

    async def _read_forever(self) -> None:
        delay = RECONNECT_BASE_SECONDS
        first = True
        while True:
            try:
                await self._listen(resync=not first)
            except (RedisError, OSError) as error:
                self._connected.clear()
                logger.warning("Alert bus lost Redis (%s); retrying in %.1fs", error, delay)
            else:  # pragma: no cover - _listen only returns by raising
                continue
            first = False
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX_SECONDS)

    async def _listen(self, *, resync: bool) -> None:
        assert self._client is not None and self._listener is not None  # noqa: S101 - started
        pubsub = self._listener.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self.channel)
            self._connected.set()
            if resync:
                logger.info("Alert bus reconnected to Redis")
                self.resync_all()
            if self._missed_publish:
                self._missed_publish = False
                await self._client.publish(self.channel, RESYNC_MESSAGE)
            while True:
                message = await pubsub.get_message(timeout=30.0)
                if message is None:
                    await pubsub.ping()  # a dead connection shows itself here
                elif message.get("type") == "message":
                    self._handle(message.get("data"))
        finally:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.aclose()

    def _handle(self, data: object) -> None:
        try:
            body = json.loads(data)  # type: ignore[arg-type]
            if body.get("resync"):
                self.resync_all()
                return
            if "revoke" in body:
                key = body.get("key")
                revocation = Revocation(int(body["revoke"]), None if key is None else int(key))
                self.dispatch_revocation(revocation)
                return
            kind = DELIVERY if body.get("k") == DELIVERY else RAISED
            self.dispatch(int(body["u"]), int(body["e"]), kind)
        except (TypeError, ValueError, KeyError):
            logger.warning("Ignored a malformed message on %s", self.channel)


_bus: Bus = LocalBus()


def create_bus() -> Bus:
    if config.REDIS_URL:
        return RedisBus(config.REDIS_URL, config.BUS_CHANNEL)
    return LocalBus()


def current() -> Bus:
    return _bus


@contextlib.asynccontextmanager
async def running(bus: Bus) -> AsyncIterator[Bus]:
    """Start `bus` and make it the process's bus until the block ends (the app's lifespan)."""
    global _bus
    previous, _bus = _bus, bus
    await bus.start()
    try:
        yield bus
    finally:
        await bus.stop()
        _bus = previous
