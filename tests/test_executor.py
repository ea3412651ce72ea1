"""The subscription executor: no memory kept per event for the life of a subscription."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from graphql import build_schema, parse, subscribe
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema import schema
from schema.executor import EventExecutor

EVENTS = 100


def _ticking_schema() -> Any:
    ticking = build_schema(
        "type Query { x: Int } type Subscription { tick: Tick } type Tick { n: Int }"
    )

    async def ticks(root: Any, info: Any) -> AsyncIterator[dict[str, Any]]:
        for n in range(EVENTS):
            yield {"tick": {"n": n}}

    field = ticking.subscription_type.fields["tick"]  # type: ignore[union-attr]
    field.subscribe = ticks
    field.resolve = lambda payload, info: payload["tick"]
    return ticking


async def _memo_after_events(base: type[Any]) -> int:
    """How many subfield memo entries the subscription's executor holds after EVENTS."""
    parents: list[Any] = []

    class Spy(base):  # type: ignore[misc]
        def build_per_event_executor(self, payload: Any) -> Any:
            parents.append(self)
            return super().build_per_event_executor(payload)

    stream = subscribe(_ticking_schema(), parse("subscription { tick { n } }"), executor_class=Spy)
    assert isinstance(stream, AsyncIterator)
    received = [result.data async for result in stream]

    assert received[-1] == {"tick": {"n": EVENTS - 1}}
    return len(parents[0]._relevant_sub_fields)


async def test_events_leave_nothing_in_the_subscriptions_executor():
    assert await _memo_after_events(EventExecutor) == 0


async def test_graphql_core_still_keeps_a_memo_entry_per_event():
    # The leak EventExecutor works around (graphql-core 3.3.2). When this fails,
    # graphql-core has fixed it: EventExecutor can go.
    if await _memo_after_events(StrawberryGraphQLCoreExecutionContext) < EVENTS:
        pytest.fail("graphql-core no longer leaks: remove schema/executor.py")


def test_the_schema_runs_with_the_event_executor():
    assert schema.execution_context_class is EventExecutor
