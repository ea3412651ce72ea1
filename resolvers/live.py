"""`Subscription.alertEvents`: the viewer's alerts as they happen, on any server process.

How it keeps "no gap, no repeat":
1. It listens on the bus *before* reading the database, so nothing committed
   after the read can slip by unheard.
2. With `after`, it replays the viewer's events after that id from the database.
3. Then it follows notices. Event ids can commit out of order (two transactions),
   so it remembers which events it has sent rather than trusting a high-water
   mark; a notice of an event already sent is a delivery update, sent again with
   its new `deliveries`, or a duplicate, skipped.
4. When the bus may have lost notices (Redis went away), it reads again what
   came after the last events it sent.

Work for one notice (reading the event and its deliveries) is shared by every
subscriber of that notice in this process, through the notice's memo; nothing
read for one event is kept for the next.

An account holds at most `MAX_SUBSCRIPTIONS_PER_ACCOUNT` such subscriptions at once in one
process, over all its sockets; one more is answered LIMIT_EXCEEDED, and the others go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter, deque
from collections.abc import AsyncGenerator, Awaitable, Iterator

import strawberry

import config
from errors import BadUserInput, ErrorCode, PublicError, Unauthenticated
from models.alert import AlertDelivery, AlertEvent
from notifiers import bus
from resolvers.context import Info
from resolvers.loaders import many_per_key
from schema.alert import AlertEvent as AlertEventType

#: Events replayed per database read.
REPLAY_BATCH = 100
#: Sent event ids remembered to tell updates and duplicates from new events.
REMEMBERED = 2048
#: After a resync, how far below the newest sent id an out-of-order commit may hide.
RESYNC_WINDOW = 200


class SubscriberTooSlow(PublicError):
    code = "SUBSCRIBER_TOO_SLOW"


class TooManySubscriptions(PublicError):
    code = ErrorCode.LIMIT_EXCEEDED.value


#: Live subscriptions each account holds in this process, by account id.
_held: Counter[int] = Counter()


@contextlib.contextmanager
def _held_by(user_id: int) -> Iterator[None]:
    """One of the account's live subscriptions, given back however the subscription
    ends: completed, failed, or cancelled with its socket."""
    cap = config.MAX_SUBSCRIPTIONS_PER_ACCOUNT
    if _held[user_id] >= cap:
        raise TooManySubscriptions(
            f"At most {cap} live subscriptions at once per account: complete one first."
        )
    _held[user_id] += 1
    try:
        yield
    finally:
        _held[user_id] -= 1
        if not _held[user_id]:
            del _held[user_id]


class _Sent:
    """The ids of the events sent on this subscription, the newest REMEMBERED of them."""

    def __init__(self) -> None:
        self._order: deque[int] = deque()
        self._ids: set[int] = set()
        self.newest = 0

    def __contains__(self, event_id: int) -> bool:
        return event_id in self._ids

    def add(self, event_id: int) -> None:
        if event_id in self._ids:
            return
        self._order.append(event_id)
        self._ids.add(event_id)
        self.newest = max(self.newest, event_id)
        if len(self._order) > REMEMBERED:
            self._ids.discard(self._order.popleft())


async def _events_with_deliveries(events: list[AlertEvent]) -> list[AlertEventType]:
    deliveries = await AlertDelivery.filter(event_id__in=[e.id for e in events]).order_by("id")
    grouped = many_per_key([e.id for e in events], deliveries, lambda d: d.event_id)
    return [AlertEventType.from_model(e, d) for e, d in zip(events, grouped, strict=True)]


async def _read_after(user_id: int, after_id: int) -> list[AlertEventType]:
    events = (
        await AlertEvent.filter(user_id=user_id, id__gt=after_id).order_by("id").limit(REPLAY_BATCH)
    )
    return await _events_with_deliveries(events)


async def _read_one(user_id: int, event_id: int) -> AlertEventType | None:
    event = await AlertEvent.filter(user_id=user_id, id=event_id).first()
    return (await _events_with_deliveries([event]))[0] if event else None


def _shared_read(notice: bus.Notice) -> Awaitable[AlertEventType | None]:
    # One read per notice per process, whichever subscriber asks first.
    task = notice.memo.get("event")
    if task is None:
        task = asyncio.ensure_future(_read_one(notice.user_id, notice.event_id))
        notice.memo["event"] = task
    return asyncio.shield(task)


def _after_id(after: strawberry.ID | None) -> int | None:
    if after is None:
        return None
    if not (after.isascii() and after.isdigit()) or len(after) > 18:
        raise BadUserInput("`after` must be the id of an alert event.")
    return int(after)


async def _newest_id(user_id: int) -> int:
    newest = await AlertEvent.filter(user_id=user_id).order_by("-id").first()
    return newest.id if newest else 0


async def alert_events(
    info: Info, after: strawberry.ID | None = None
) -> AsyncGenerator[AlertEventType, None]:
    async for event in _alert_events(info, after):
        # A socket's context outlives each event: what the event's fields load (its
        # deliveries' attempts and destinations) is read afresh for each.
        info.context.fresh_loaders()
        yield event


async def _alert_events(
    info: Info, after: strawberry.ID | None
) -> AsyncGenerator[AlertEventType, None]:
    viewer = info.context.viewer
    after_id = _after_id(after)
    expires_at = info.context.credentials_expire_at
    sent = _Sent()
    with _held_by(viewer.id), bus.current().subscribe(viewer.id) as subscription:
        # Events up to here are the past: replayed when asked for, else not sent.
        floor = after_id if after_id is not None else await _newest_id(viewer.id)
        sent.newest = floor
        if after_id is not None:
            async for event in _replay(viewer.id, floor, sent):
                yield event
        while True:
            item = await _next(subscription, expires_at)
            if isinstance(item, bus.Resync):
                start = max(floor, sent.newest - RESYNC_WINDOW)
                async for event in _replay(viewer.id, start, sent):
                    yield event
                continue
            if item.event_id <= floor and item.event_id not in sent:
                continue  # an update of an event from before this subscription
            if item.event_id in sent and item.kind == bus.RAISED:
                continue  # already sent by the replay
            found = await _shared_read(item)
            if found is not None:
                sent.add(item.event_id)
                yield found


async def _replay(user_id: int, after_id: int, sent: _Sent) -> AsyncGenerator[AlertEventType, None]:
    while True:
        batch = await _read_after(user_id, after_id)
        for event in batch:
            if event.event_id not in sent:
                sent.add(event.event_id)
                yield event
        if len(batch) < REPLAY_BATCH:
            return
        after_id = batch[-1].event_id


async def _next(
    subscription: bus.Subscription, expires_at: float | None
) -> bus.Notice | bus.Resync:
    try:
        if expires_at is None:
            return await subscription.get()
        timeout = expires_at - time.time()
        if timeout <= 0:
            raise TimeoutError
        return await asyncio.wait_for(subscription.get(), timeout)
    except TimeoutError:
        raise Unauthenticated(
            "Your token expired: connect again with a fresh one, and `after` set to the last "
            "alert received."
        ) from None
    except bus.SubscriberTooSlow as slow:
        raise SubscriberTooSlow(str(slow)) from None
