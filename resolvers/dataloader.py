"""A DataLoader: loads by key, the keys asked for together read in one batch.

Every `load` made before the loop has turned twice goes to one call of the
batch function, which answers in key order (an exception in place of a value
fails that key alone); each key is loaded once a request, its future shared by
every field that asks for it. This is what Strawberry's DataLoader does, and
when it does it (a batch is dispatched by a callback, which starts its task,
whose first step takes the batch's keys), with the parts this API uses:
`load`, `load_many`, `prime` and `clear_all`. Strawberry's does more per load
(a cache object with a key function, a batch object with a task record and a
done-callback for each key), about four times the calls for the same loads
(docs/performance.md).

Shared futures are shielded from cancellation. When one field of a list fails,
graphql-core 3.3 cancels the tasks of its siblings (gather_with_cancel), and a
task cancelled while it awaits a future cancels that future: every other field
waiting on the same key, elsewhere in the document, then got CancelledError,
which no layer catches, and the request ended in a bare HTTP 500 (found by the
schema fuzzer: a public profile's teams with `storageUsage`, which an outsider
may not see, beside their members). Each caller now awaits a shield of the
shared future, so a cancelled caller cancels only its own wait.

A query plan's run (`fastpath.runs.Run`) cancels no field: it turns shields off
while it runs (`SHIELDED`, handed to the engine as `FastPath.shielded`), which
spares each load a second future and two callbacks. graphql-core's own
execution, a plan's fallback included, has them. A shared future cancelled all
the same (its request was) is not handed out again: the next load of its key
loads it afresh."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from typing import Any, Generic, TypeVar, overload

K = TypeVar("K")
T = TypeVar("T")

#: Whether loads in this context are shielded from their callers' cancellation.
SHIELDED: ContextVar[bool] = ContextVar("SHIELDED", default=True)

BatchFunction = Callable[[list[K]], Awaitable[Sequence[T | BaseException]]]
#: A batch's keys, and the future of each.
Batch = tuple[list[K], list[asyncio.Future[T]]]

_cancelled = asyncio.Future.cancelled


#: The futures of keys whose batch has yet to end. Each is ended by its batch's
#: task alone, whatever its callers do meanwhile: `fastpath.runs.Run` waits for
#: these in waves. (A set, not a subclass of Future: a task awaits a subclass's
#: instance by the slow way, which cost more than the set.)
LOADING: set[asyncio.Future[Any]] = set()


class DataLoader(Generic[K, T]):
    def __init__(self, load_fn: BatchFunction[K, T]) -> None:
        self.load_fn = load_fn
        #: Each key's future, loaded or on its way; cleared by `clear_all`.
        self.futures: dict[K, asyncio.Future[T]] = {}
        #: The keys and futures of the batch not yet dispatched, if any.
        self.batch: Batch[K, T] | None = None
        #: The batches' tasks while they run (the loop keeps only weak references).
        self.tasks: set[asyncio.Task[None]] = set()

    def load(self, key: K) -> Awaitable[T]:
        future = self.futures.get(key)
        if future is None or future.cancelled():
            loop = asyncio.get_running_loop()
            future = self.futures[key] = loop.create_future()
            LOADING.add(future)
            batch = self.batch
            if batch is None:
                batch = self.batch = ([], [])
                loop.call_soon(self._dispatch, loop, batch)
            batch[0].append(key)
            batch[1].append(future)
        return asyncio.shield(future) if SHIELDED.get() else future

    def load_many(self, keys: Sequence[K]) -> Awaitable[list[T]]:
        return asyncio.gather(*map(self.load, keys))

    def prime(self, key: K, value: T) -> None:
        """Answer `key` with `value` without loading it, unless it is loaded already."""
        if key not in self.futures:
            future = self.futures[key] = asyncio.get_running_loop().create_future()
            future.set_result(value)

    def clear_all(self) -> None:
        """Forget every answer: the next load of any key loads it again."""
        self.futures.clear()

    def _dispatch(self, loop: asyncio.AbstractEventLoop, batch: Batch[K, T]) -> None:
        task = loop.create_task(self._load_batch(batch))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _load_batch(self, batch: Batch[K, T]) -> None:
        if self.batch is batch:
            self.batch = None  # later loads make a batch of their own
        keys, futures = batch
        try:
            if not all(map(_cancelled, futures)):
                _answer(futures, await self.load_fn(keys))
        except Exception as error:  # noqa: BLE001 - each key's caller gets it
            for future in futures:
                if not future.cancelled():
                    future.set_exception(error)
        finally:
            LOADING.difference_update(futures)


def _answer(futures: list[asyncio.Future[T]], answered: Sequence[T | BaseException]) -> None:
    values = list(answered)
    if len(values) != len(futures):
        raise ValueError(
            f"The batch function answered {len(values)} values for {len(futures)} keys."
        )
    for future, value in zip(futures, values, strict=True):
        if future.cancelled():
            continue
        if isinstance(value, BaseException):
            future.set_exception(value)
        else:
            future.set_result(value)


class made_once(Generic[T]):  # noqa: N801 - used as a decorator, as `cached_property` is
    """`functools.cached_property` without its lock: Python 3.11's takes an `RLock` on
    each first use, and a request's loaders (about ten a request, each used once
    first) are only ever used by that request's tasks, on one thread."""

    def __init__(self, make: Callable[[Any], T]) -> None:
        self.make = make
        self.__doc__ = make.__doc__
        self.name = make.__name__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> made_once[T]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> T: ...

    def __get__(self, instance: object | None, owner: type | None = None) -> T | made_once[T]:
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.make(instance)
        return value
