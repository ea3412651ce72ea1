"""Running a query plan (`schema.plans`) for one request.

The data is built in place, resolvers' coroutines driven in waves by the request's
own task (see `Run`); anything that needs graphql-core's error handling abandons
the run (`Abandon`), and the executor runs the query graphql-core's way.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Coroutine, Generator
from dataclasses import dataclass
from functools import partial
from types import CoroutineType
from typing import Any

from graphql import Undefined
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, is_iterable

from resolvers.dataloader import LOADING, SHIELDED
from schema.compiled import Abandon
from schema.plans import Completion, FieldPlan, Leaf, ListOf, Object, ObjectPlan


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
    waiting: list[Waiting] = dataclasses.field(default_factory=list)
    #: How the run makes a resolve-info once it has seen the executor make one
    #: (`first_info`): the info's class, made from a tuple, and the values every
    #: info of the request shares (schema, operation, context ...), after the
    #: field's own four and its path. None: the executor's way for each.
    new_info: Callable[[tuple[Any, ...]], Any] | None = None
    shared: tuple[Any, ...] = ()

    def start(self, plan: ObjectPlan, root: Any) -> dict[str, Any]:
        """The root object's data, complete once `finish` returns (if anything waits)."""
        SHIELDED.set(False)  # no field of a run is cancelled: see resolvers/dataloader.py
        try:
            return self.object(plan, root, None)
        except BaseException:
            self.drop_waiting()
            raise
        finally:
            if not self.waiting:
                SHIELDED.set(True)

    async def finish(self, data: dict[str, Any]) -> dict[str, Any]:
        SHIELDED.set(False)
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
            SHIELDED.set(True)
        return data

    def settle(self, waiting: Waiting) -> None:
        """What a wave's wait brought: a coroutine to run on, or a value."""
        if waiting.coroutine:
            self.resume(waiting)
            return
        future = waiting.on
        if future.cancelled():
            raise asyncio.CancelledError
        if future.exception() is not None:
            raise Abandon from future.exception()
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
        if not isinstance(on, asyncio.Future) or not on._asyncio_future_blocking:
            raise Abandon  # waits on something only a task of its own understands
        if on in LOADING:
            on._asyncio_future_blocking = False  # as a task does: it is now waited for
            self.waiting.append(waiting)
            return
        # Not a DataLoader's key: a lock, a query, a timer. What it waits for may
        # need the coroutine to run on before the wave's other waits end (a query
        # holds SQLite's connection lock until it is resumed, and a loader's batch
        # waits for that lock): it goes on in a task of its own, as under
        # graphql-core, and the wave waits for that task.
        coroutine: Any = waiting.awaitable  # a coroutine: see `complete`
        waiting.awaitable = waiting.on = asyncio.ensure_future(_RunOn(coroutine, on))
        waiting.coroutine = False
        self.waiting.append(waiting)

    def fill(self, waiting: Waiting, value: Any) -> None:
        waiting.container[waiting.at] = self.complete(
            waiting.completion, value, waiting.info, waiting.path, waiting.container, waiting.at
        )

    def drop_waiting(self) -> None:
        """Awaitables that will not be awaited: coroutines closed (their `finally`
        blocks run), futures left to end on their own, unheard."""
        for waiting in self.waiting:
            awaitable = waiting.awaitable
            if waiting.coroutine:
                assert isinstance(awaitable, Coroutine)  # noqa: S101 - as it was made
                awaitable.close()
            else:
                waiting.on.add_done_callback(_drop_outcome)
        self.waiting = []

    def object(self, plan: ObjectPlan, source: Any, path: Path | None) -> dict[str, Any]:
        return plan.build(self, source, path)

    def attribute(
        self, field: FieldPlan, value: Any, source: Any, path: Path | None, result: Any
    ) -> Any:
        """An object attribute's value (read by the object's function), completed.

        One of its type's origins whose plan needs no path never comes here: the
        object's function builds it (`schema.compiled.compile_object`)."""
        completion = field.completion
        if type(value) in completion.origins:  # only an Object has origins
            plan = completion.plan  # type: ignore[union-attr]
            return plan.build(self, value, _path((path, field.key, field.parent.name)))
        if path is None:  # an object built without paths: the usual way would need one
            if value is None and not completion.non_null:
                return None
            raise Abandon
        return self.field(field, source, path, result)  # anything else: the usual way

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
        if kind in completion.origins:
            # An instance of the object type's own class, or of one that stands for
            # it: neither awaitable, nor None, nor an error, and of its type
            # (Strawberry's `is_type_of`). Only an Object has origins.
            return completion.plan.build(self, value, path)  # type: ignore[union-attr]
        if kind is completion.exact:
            # A leaf value of the exact Python type its serialization is made for.
            serialize = completion.serialize
            return value if serialize is None else serialize(value)
        if kind is CoroutineType or (kind not in _NEVER_AWAITABLE and self.is_awaitable(value)):
            if kind is not CoroutineType and not isinstance(value, Coroutine):
                on = asyncio.ensure_future(value)
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
                raise Abandon
            return None
        if isinstance(value, BaseException):
            raise Abandon
        if isinstance(completion, Leaf):
            coerced = completion.type.coerce_output_value(value)
            if coerced is None or coerced is Undefined:
                raise Abandon
            return coerced
        if isinstance(completion, Object):
            is_type_of = completion.plan.type.is_type_of
            if is_type_of is not None and is_type_of(value, info) is not True:
                raise Abandon  # False, or an awaitable answer
            return self.object(completion.plan, value, path)
        if kind is not list and (not is_iterable(value) or hasattr(value, "__aiter__")):
            raise Abandon
        return self.items(completion, value, info, path)

    def items(self, completion: ListOf, value: Any, info: Any, path: Path | None) -> list[Any]:
        items: list[Any] = []
        item, paths = completion.item, completion.paths
        # An object of its type's own class is built at once, as `complete` would.
        origins, plan = item.origins, item.plan if isinstance(item, Object) else None
        for index, element in enumerate(value):
            element_path = _path((path, index, None)) if paths else None
            if plan is not None and type(element) in origins:
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

    def __await__(self) -> Generator[Any, Any, Any]:
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
_INFO_HEAD = ("field_name", "field_nodes", "return_type", "parent_type", "path")

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


def _drop_outcome(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()
