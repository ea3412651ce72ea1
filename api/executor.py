"""The executor Strawberry runs operations with: graphql-core's, without two of its
memory costs (graphql-core 3.3)."""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Sequence
from typing import Any

from graphql import GraphQLResolveInfoHelpers
from graphql.execution import Executor as GraphQLExecutor
from graphql.pyutils import gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


class Executor(StrawberryGraphQLCoreExecutionContext):
    """Every operation's executor.

    graphql-core 3.3.2 makes the executor of each subscription event a shallow copy
    of the subscription's, so every event shares one memo of collected subfields
    (`_relevant_sub_fields`). An event collects its fields afresh, and the memo is
    keyed by the identity of those new lists, which it keeps alive: a live
    subscription grew with every event for as long as it lasted. Each event now
    gets a memo of its own, dropped with it.

    The helpers every resolve-info carries (`info.async_helpers`) reach the executor
    through a weak reference. graphql-core's are its bound methods, a reference
    cycle that kept every request's objects (its data, context, loaders and rows)
    alive until the next full garbage collection.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.async_helpers = _helpers_of(self)

    def build_per_event_executor(self, payload: Any) -> GraphQLExecutor[Any]:
        executor = super().build_per_event_executor(payload)
        executor._relevant_sub_fields = {}
        return executor


def gather(values: Sequence[Awaitable[Any]]) -> Awaitable[list[Any]]:
    return gather_with_cancel(*values)


def _helpers_of(executor: GraphQLExecutor[Any]) -> GraphQLResolveInfoHelpers:
    """graphql-core's helpers, without the reference cycle of its bound methods."""
    executor_ref = weakref.ref(executor)

    def track(values: Sequence[Any]) -> None:
        executor = executor_ref()
        if executor is not None:  # it lives as long as its execution runs
            executor.track_async_work(values)

    return GraphQLResolveInfoHelpers(gather=gather, track=track)
