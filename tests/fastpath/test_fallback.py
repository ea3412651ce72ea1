"""A plan that gives up: its work stops, the context starts afresh, stock execution runs
the query once, and the answer is stock execution's, errors in their order; each
abandon is counted by its reason and logged."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import Any

import pytest
import strawberry
from strawberry.dataloader import DataLoader

from fastpath import runs
from fastpath.abandons import NULL, RAISED, WAITS, Abandon
from tests.fastpath.planned import planned


@strawberry.type
class Query:
    @strawberry.field
    async def fine(self, info: strawberry.Info) -> int:
        info.context["calls"]["fine"] += 1
        return int(await info.context["loads"].load(1))

    @strawberry.field
    async def first(self, info: strawberry.Info) -> int | None:
        info.context["calls"]["first"] += 1
        await info.context["loads"].load(2)
        raise ValueError("first failed")

    @strawberry.field
    async def second(self, info: strawberry.Info) -> int | None:
        info.context["calls"]["second"] += 1
        await info.context["loads"].load(3)
        raise ValueError("second failed")

    @strawberry.field
    def missing(self) -> int:
        return None  # type: ignore[return-value]


def context() -> dict[str, Any]:
    """A context with a loader of its own, which a fresh start replaces."""
    made: dict[str, Any] = {"calls": Counter(), "batches": []}

    async def load(keys: list[int]) -> list[int]:
        made["batches"].append(keys)
        return keys

    def restart() -> None:
        made["loads"] = DataLoader(load)

    made["restart"] = restart
    restart()
    return made


def answer(schema: strawberry.Schema, document: str) -> tuple[Any, dict[str, Any]]:
    made = context()
    result = asyncio.run(schema.execute(document, context_value=made))
    errors = [
        (e.message, e.path, [(loc.line, loc.column) for loc in e.locations or ()])
        for e in result.errors or ()
    ]
    return (result.data, errors), made


TWO_FAILING = "{ fine first second fine2: fine }"


@pytest.mark.parametrize("known", [False, True], ids=["executor's hook", "known document"])
def test_two_failing_siblings_answer_as_stock_does(known):
    stock, _ = answer(strawberry.Schema(query=Query), TWO_FAILING)
    schema = planned(Query, known=known)

    first, made = answer(schema, TWO_FAILING)
    again, _ = answer(schema, TWO_FAILING)

    assert first == again == stock
    assert [message for message, _, _ in stock[1]] == ["first failed", "second failed"]
    # The plan's run and stock execution's: never a third.
    assert made["calls"] == Counter({"fine": 4, "first": 2, "second": 2})
    # Stock execution loaded afresh, on the new loader, not on the abandoned run's.
    assert made["batches"] == [[1, 2, 3], [1, 2, 3]]


def test_every_abandon_is_counted_by_reason_and_logged(caplog):
    schema = planned(Query, known=True)

    with caplog.at_level(logging.DEBUG, logger="switchboard.fastpath"):
        answer(schema, TWO_FAILING)
        answer(schema, "{ fine missing }")
        answer(schema, "{ fine }")

    assert schema.fast_path.abandons.counts == Counter({RAISED: 1, NULL: 1})
    assert schema.fast_path.abandons.unexpected == []
    logged = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert logged == [
        f"Plan of None abandoned: {RAISED}",
        f"Plan of None abandoned: {NULL}",
    ]


def test_an_abandon_stock_answers_without_error_is_unexpected(monkeypatch, caplog):
    schema = planned(Query, known=True)

    def gives_up(self: Any, *args: Any) -> Any:
        raise Abandon(WAITS)

    monkeypatch.setattr(runs.Run, "suspend", gives_up)
    with caplog.at_level(logging.WARNING, logger="switchboard.fastpath"):
        (data, errors), _ = answer(schema, "{ fine }")

    assert (data, errors) == ({"fine": 1}, [])
    assert schema.fast_path.abandons.unexpected == [
        ("a resolver waits for what only a task of its own can", None)
    ]
    assert "answered without an error" in caplog.text


@strawberry.type
class Locking:
    @strawberry.field
    async def locked(self, info: strawberry.Info) -> int:
        async with info.context["lock"]:
            return 1

    @strawberry.field
    def broken(self) -> int | None:
        raise ValueError("broken")


@pytest.mark.parametrize("known", [False, True], ids=["executor's hook", "known document"])
def test_a_run_stopped_while_a_resolver_queues_for_a_lock_leaves_the_lock_usable(known):
    # The resolver waits for a lock someone else holds, so it goes on in a task of
    # its own; its sibling's error stops the run before that task has started. The
    # resolver must leave the lock's queue: a place kept there by a coroutine no one
    # runs takes the next release, and everyone after it waits for ever (SQLite's
    # connection lock, under Tortoise).
    schema = planned(Locking, known=known)

    async def main() -> Any:
        # Every task kept, as a request's objects are until a garbage collection:
        # the stopped task's error keeps the resolver's coroutine.
        loop, kept = asyncio.get_running_loop(), []

        def keeping(loop: Any, coroutine: Any) -> asyncio.Task[Any]:
            kept.append(task := asyncio.Task(coroutine, loop=loop))
            return task

        loop.set_task_factory(keeping)
        lock = asyncio.Lock()
        await lock.acquire()
        loop.call_later(0.05, lock.release)
        result = await asyncio.wait_for(
            schema.execute("{ locked broken }", context_value={"lock": lock}), 2
        )
        return result.data, [e.message for e in result.errors or ()], lock.locked()

    assert asyncio.run(main()) == ({"locked": 1, "broken": None}, ["broken"], False)
