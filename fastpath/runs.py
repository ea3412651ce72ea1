"""Running a query plan (`fastpath.plans`) for one request.

The data is built in place, resolvers' coroutines driven in waves by the request's
own task (see `Run`); anything that needs graphql-core's error handling abandons
the run (`Abandon`): its work is stopped (`Run.stop`), and stock execution runs the
query once.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Container, Coroutine, Generator
from contextvars import ContextVar
from dataclasses import dataclass
from functools import partial
from types import CoroutineType
from typing import Any

from graphql import Undefined

from fastpath.abandons import (
    LEAF,
    NOT_A_LIST,
    NOT_OF_TYPE,
    NULL,
    RAISED,
    UNBUILT,
    WAITS,
    Abandon,
)
from fastpath.internals import RESOLVE_INFO_HEAD, Path, get_argument_values, is_iterable
from fastpath.plans import Completion, FieldPlan, Leaf, ListOf, Object, ObjectPlan


@dataclass(slots=True)
class Waiting:
    """A value that is not known yet, and where it goes once it is."""

    #: A resolver's coroutine, which the run drives, or another awaitable.
    awaitable: Coroutine[Any, Any, Any] | Awaitable[Any]
    #: Whether `awaitable` is a coroutine.
    coroutine: bool
    #: What the coroutine waits for: a future, or None when it only yielded; for
    #: another awaitable, the future of its outcome.
    on: Any
    completion: Completion
    info: Any
    path: Path | None
    container: dict[str, Any] | list[Any]
    at: Any


@dataclass(slots=True)
class Run:
    """One request's run of a plan, on the executor that would have run the query.

    The data is built in place. A resolver's coroutine is run at once, up to the
    first future it waits for, and its slot is left empty. A DataLoader's future
    stays with the run: `finish` waits for all such futures of a wave together (so
    DataLoaders batch as they do under graphql-core), resumes each coroutine, and
    completes what they answer, which may start the next wave. A coroutine that
    waits for anything else (a lock, its own query) goes on in a task of its own
    (`suspend`): what it waits for may need it to run on first, which a wave would
    hold back until its other waits ended (two root fields that each query SQLite
    waited for each other that way, for ever). graphql-core makes a task of
    each field and each object that waits: about a hundred for the settings page,
    against none here (CPython 3.12's eager tasks do much the same).

    A resolver's coroutine runs in the request's task, not a task of its own, so
    it must not rely on `asyncio.current_task()` (`asyncio.timeout()` does) or set
    a context variable that its siblings would see. The schema's resolvers do
    neither: they read through DataLoaders.
    """

    build_info: Callable[..., Any]
    variable_values: Any
    hide_suggestions: bool
    is_awaitable: Callable[[Any], bool]
    #: The futures of loads under way (a DataLoader's), which a wave waits for together.
    pending_loads: Container[asyncio.Future[Any]]
    #: Whether loads shield their futures from their callers' cancellation: off
    #: while the run drives its resolvers, as it cancels none of them.
    shielded: ContextVar[bool]
    waiting: list[Waiting] = dataclasses.field(default_factory=list)
    #: The tasks the run made (see `suspend`), cancelled and awaited by `stop`.
    tasks: list[asyncio.Future[Any]] = dataclasses.field(default_factory=list)
    #: The coroutines handed on to those tasks (see `_RunOn.stop_unstarted`).
    handed_on: list[_RunOn] = dataclasses.field(default_factory=list)
    #: How the run makes a resolve-info once it has seen the executor make one
    #: (`first_info`): the info's class, made from a tuple, and the values every
    #: info of the request shares (schema, operation, context ...), after the
    #: field's own four and its path. None: the executor's way for each.
    new_info: Callable[[tuple[Any, ...]], Any] | None = None
    shared: tuple[Any, ...] = ()

    def start(self, plan: ObjectPlan, root: Any) -> dict[str, Any]:
        """The root object's data, complete once `finish` returns (if anything waits)."""
        self.shielded.set(False)  # no field of a run is cancelled
        try:
            return self.object(plan, root, None)
        except BaseException:
            self.drop_waiting()
            raise
        finally:
            if not self.waiting:
                self.shielded.set(True)

    async def finish(self, data: dict[str, Any]) -> dict[str, Any]:
        self.shielded.set(False)
        try:
            while self.waiting:
                await _all_done([w.on for w in self.waiting])
                wave, self.waiting = self.waiting, []
                for n, waiting in enumerate(wave):
                    try:
                        self.settle(waiting)
                    except BaseException:
                        self.waiting += wave[n + 1 :]  # to be dropped with the rest
                        raise
        except BaseException:
            self.drop_waiting()
            raise
        finally:
            self.shielded.set(True)
        return data

    def stopping(self) -> Awaitable[None] | None:
        """What to await before anything runs in place of an abandoned run: its tasks
        (which `drop_waiting` cancelled) ending; None when none is left running."""
        tasks, self.tasks = self.tasks, []
        for task in tasks:
            if task.done():
                _drop_outcome(task)
        running = [task for task in tasks if not task.done()]
        return _ended(running) if running else None

    async def stop(self) -> None:
        """Returns once the tasks of an abandoned run have ended."""
        stopping = self.stopping()
        if stopping is not None:
            await stopping

    def settle(self, waiting: Waiting) -> None:
        """What a wave's wait brought: a coroutine to run on, or a value."""
        if waiting.coroutine:
            self.resume(waiting)
            return
        future = waiting.on
        if future.cancelled():
            raise asyncio.CancelledError
        if future.exception() is not None:
            raise Abandon(RAISED) from future.exception()
        self.fill(waiting, future.result())

    def resume(self, waiting: Waiting) -> None:
        """Runs the coroutine on, now that what it waited for is done."""
        coroutine: Any = waiting.awaitable  # a coroutine: see `settle`
        try:
            waiting.on = coroutine.send(None)
        except StopIteration as done:
            self.fill(waiting, done.value)
            return
        self.suspend(waiting)

    def suspend(self, waiting: Waiting) -> None:
        """A coroutine that waits (on `waiting.on`), kept for the wave to resume."""
        on = waiting.on
        if on is None:
            self.waiting.append(waiting)  # `await asyncio.sleep(0)`: on at the next wave
            return
        # `internals.FUTURE_BLOCKING`, read and cleared inline.
        if not isinstance(on, asyncio.Future) or not on._asyncio_future_blocking:
            raise Abandon(WAITS)  # something only a task of its own understands
        if on in self.pending_loads:
            on._asyncio_future_blocking = False  # as a task does: it is now waited for
            self.waiting.append(waiting)
            return
        # Not a DataLoader's key: a lock, a query, a timer. What it waits for may
        # need the coroutine to run on before the wave's other waits end (a query
        # holds SQLite's connection lock until it is resumed, and a loader's batch
        # waits for that lock): it goes on in a task of its own, as under
        # graphql-core, and the wave waits for that task.
        coroutine: Any = waiting.awaitable  # a coroutine: see `complete`
        run_on = _RunOn(coroutine, on)
        task = asyncio.ensure_future(run_on)
        self.tasks.append(task)
        self.handed_on.append(run_on)
        waiting.awaitable = waiting.on = task
        waiting.coroutine = False
        self.waiting.append(waiting)

    def fill(self, waiting: Waiting, value: Any) -> None:
        waiting.container[waiting.at] = self.complete(
            waiting.completion, value, waiting.info, waiting.path, waiting.container, waiting.at
        )

    def drop_waiting(self) -> None:
        """Awaitables that will not be awaited: coroutines closed (their `finally`
        blocks run), the run's tasks cancelled (`stop` waits for them), and other
        futures (loads) left to end on their own, unheard."""
        for waiting in self.waiting:
            awaitable = waiting.awaitable
            if waiting.coroutine:
                assert isinstance(awaitable, Coroutine)  # noqa: S101 - as it was made
                awaitable.close()
            else:
                waiting.on.add_done_callback(_drop_outcome)
        for task in self.tasks:
            task.cancel()
        for run_on in self.handed_on:
            run_on.stop_unstarted()
        self.waiting, self.handed_on = [], []

    def object(self, plan: ObjectPlan, source: Any, path: Path | None) -> dict[str, Any]:
        return plan.build(self, source, path)

    def attribute(
        self, field: FieldPlan, value: Any, source: Any, path: Path | None, result: Any
    ) -> Any:
        """An object attribute's value (read by the object's function), completed.

        An object of its type's class whose plan needs no path never comes here: the
        object's function builds it (`fastpath.compiled.compile_object`)."""
        completion = field.completion
        if type(value) is completion.origin:  # only an Object has an origin
            plan = completion.plan
            return plan.build(self, value, _path((path, field.key, field.parent.name)))
        if value is None and not completion.non_null:
            return None  # what the attribute's resolver would read, and complete
        if path is not None:
            return self.field(field, source, path, result)  # anything else: the usual way
        # In an object built without paths nothing below needs one (no resolver runs
        # there): the value is completed without, unless it must be awaited.
        if value is None:
            raise Abandon(NULL)
        if self.is_awaitable(value):
            raise Abandon(UNBUILT)
        return self.complete(completion, value, None, None, result, field.key)

    def field(self, field: FieldPlan, source: Any, path: Path | None, result: Any) -> Any:
        """A resolved field's value, completed, or None until `finish` puts it in `result`."""
        field_path = _path((path, field.key, field.parent.name))
        if self.new_info is not None:
            info = self.new_info((*field.info_head, field_path, *self.shared))
        else:
            info = self.first_info(field, field_path)
        if field.direct is not None:
            value = field.direct(source, info)
        else:
            arguments = (
                get_argument_values(
                    field.field,
                    field.nodes[0],
                    self.variable_values,
                    hide_suggestions=self.hide_suggestions,
                )
                if field.has_arguments
                else {}
            )
            value = field.resolve(source, info, **arguments)
        return self.complete(field.completion, value, info, field_path, result, field.key)

    def first_info(self, field: FieldPlan, path: Path) -> Any:
        """The executor's resolve-info for the field; if it holds the field's four
        values and its path first, the rest of the run's infos are made alike."""
        info = self.build_info(field.field, field.nodes, field.parent, path)
        head = (*field.info_head, path)
        if getattr(type(info), "_fields", ())[: len(_INFO_HEAD)] == _INFO_HEAD and (
            info[: len(head)] == head
        ):
            self.new_info, self.shared = partial(tuple.__new__, type(info)), info[len(head) :]
        return info

    def complete(
        self,
        completion: Completion,
        value: Any,
        info: Any,
        path: Path | None,
        container: Any,
        at: Any,
    ) -> Any:
        """The value completed as its type says, or None for now if it must be awaited
        (it is then put at `container[at]` once known)."""
        kind = type(value)
        if kind is completion.origin:
            # An instance of the object type's own class: neither awaitable, nor
            # None, nor an error, and of its type (Strawberry's `is_type_of`). Only
            # an Object has an origin.
            return completion.plan.build(self, value, path)
        if kind is completion.exact:
            # A leaf value of the exact Python type its serialization is made for.
            serialize = completion.serialize
            return value if serialize is None else serialize(value)
        if kind is CoroutineType or (kind not in _NEVER_AWAITABLE and self.is_awaitable(value)):
            if kind is not CoroutineType and not isinstance(value, Coroutine):
                on = asyncio.ensure_future(value)
                if on is not value:
                    self.tasks.append(on)
                self.waiting.append(
                    Waiting(value, False, on, completion, info, path, container, at)
                )
                return None
            try:
                on = value.send(None)
            except StopIteration as done:  # it did not wait: no `Waiting` is needed
                return self.complete(completion, done.value, info, path, container, at)
            self.suspend(Waiting(value, True, on, completion, info, path, container, at))
            return None
        if value is None:
            if completion.non_null:
                raise Abandon(NULL)
            return None
        if isinstance(value, BaseException):
            raise Abandon(RAISED)
        if isinstance(completion, Leaf):
            coerced = completion.type.coerce_output_value(value)
            if coerced is None or coerced is Undefined:
                raise Abandon(LEAF)
            return coerced
        if isinstance(completion, Object):
            is_type_of = completion.plan.type.is_type_of
            if is_type_of is not None and is_type_of(value, info) is not True:
                raise Abandon(NOT_OF_TYPE)  # False, or an awaitable answer
            return self.object(completion.plan, value, path)
        if kind is not list and (not is_iterable(value) or hasattr(value, "__aiter__")):
            raise Abandon(NOT_A_LIST)
        return self.items(completion, value, info, path)

    def items(self, completion: ListOf, value: Any, info: Any, path: Path | None) -> list[Any]:
        items: list[Any] = []
        item, paths = completion.item, completion.paths
        # An object of its type's own class is built at once, as `complete` would.
        origin, plan = item.origin, item.plan if isinstance(item, Object) else None
        for index, element in enumerate(value):
            element_path = _path((path, index, None)) if paths else None
            if plan is not None and type(element) is origin:
                items.append(plan.build(self, element, element_path))
            else:
                items.append(None)
                items[index] = self.complete(item, element, info, element_path, items, index)
        return items


class _RunOn:
    """Awaited by a task: the rest of a coroutine that has started and waits on `on`.

    What the task's own coroutine would do from there: the task waits for what the
    coroutine yields, and sends the outcome in (a value, or the exception thrown
    into the task), until the coroutine returns."""

    def __init__(self, coroutine: Coroutine[Any, Any, Any], on: Any) -> None:
        self.coroutine, self.on = coroutine, on
        self.started = False

    def stop_unstarted(self) -> None:
        """Cancels the coroutine itself when its task was cancelled before it started.

        Such a task never reaches the coroutine, which stays where it waits: in a
        lock's queue (SQLite's connection lock), where it takes the next release
        and leaves every later waiter waiting, for as long as anything (the
        cancelled task's error) keeps it."""
        if self.started:
            return
        self.started = True
        try:
            self.coroutine.throw(asyncio.CancelledError())
        except BaseException:  # noqa: BLE001, S110 - cancelled, or ended: either way done
            return
        self.coroutine.close()  # it caught the cancellation and waits again: no more

    def __await__(self) -> Generator[Any, Any, Any]:
        self.started = True
        coroutine, on = self.coroutine, self.on
        while True:
            value = error = None
            try:
                value = yield on
            except BaseException as thrown:  # noqa: BLE001 - the coroutine's to handle
                error = thrown
            try:
                on = coroutine.send(value) if error is None else coroutine.throw(error)
            except StopIteration as done:
                return done.value


#: A resolve-info's first fields, those of its field (`FieldPlan.info_head`) and path.
_INFO_HEAD = RESOLVE_INFO_HEAD

#: `Path(prev, key, typename)`, without the Python call of a named tuple's `__new__`.
_path = partial(tuple.__new__, Path)

#: Types whose values are never awaitable: `complete` asks no further.
_NEVER_AWAITABLE = frozenset({type(None), bool, int, float, str, list, tuple, dict})


async def _all_done(blockers: list[asyncio.Future[Any] | None]) -> None:
    """Returns once every future is done, whatever its outcome, and the loop has
    turned once if a blocker is None (a coroutine's bare yield).

    Each pending future is awaited in turn: the request's task wakes once for each
    that is not done yet when its turn comes, where `asyncio.gather` would take a
    callback for every one and a list of their outcomes, which `settle` reads from
    the futures instead. A future's error or cancellation is its own outcome; the
    task's own cancellation is raised.
    """
    if None in blockers:
        await asyncio.sleep(0)
    for future in {id(b): b for b in blockers if b is not None}.values():
        if future.done():
            continue
        try:
            await future
        except BaseException:
            task = asyncio.current_task()
            if not future.done() or (task is not None and task.cancelling()):
                raise


async def _ended(tasks: list[asyncio.Future[Any]]) -> None:
    await asyncio.wait(tasks)
    for task in tasks:
        _drop_outcome(task)


def _drop_outcome(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()
