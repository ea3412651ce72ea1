"""What the wiring hands the engine, and what the engine keeps per schema.

The engine knows no domain: the wiring (`schema/__init__.py`) tells it how to find
a request's checked document, which futures are loads it may wait for in waves,
how to shield them, how to start a request's context afresh before stock
execution runs a query whose plan gave up, and what the extensions it skips would
add to an answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Container, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from graphql import DocumentNode, GraphQLField, GraphQLSchema, OperationDefinitionNode

from fastpath import plans
from fastpath.abandons import Abandons

#: Operations planned at most, and fields looked at (both kept by identity).
PLANS = 512
FIELDS = 4096

#: Set while stock execution answers a query whose plan was abandoned: the reason.
#: The executor then plans nothing, and the schema counts the abandon once answered.
FALLBACK: ContextVar[str | None] = ContextVar("FALLBACK", default=None)


@dataclass(eq=False)
class FastPath:
    """The engine's settings and state for one schema."""

    #: The document a request runs, when it is known and valid (sent as text, or by a
    #: persisted-query hash): `runnable(query, extensions)`; None when the usual
    #: pipeline must check it first.
    runnable: Callable[[str | None, dict[str, Any] | None], DocumentNode | None]
    #: The futures of loads under way (DataLoaders'), which a run waits for together.
    pending_loads: Container[asyncio.Future[Any]]
    #: Whether loads shield their futures from their callers' cancellation; a run
    #: turns it off while it drives resolvers, since it cancels none.
    shielded: ContextVar[bool]
    #: Makes a request's context fresh (new loaders) for the stock run after an
    #: abandoned plan; may return an awaitable that ends when the abandoned run's
    #: loads have.
    restart: Callable[[Any], Awaitable[None] | None]
    #: The schema's extensions that a known query may run without: they check the
    #: document, which is checked already, or handle errors, of which there are none.
    skippable_extensions: tuple[Any, ...] = ()
    #: What those extensions add to an answer's `extensions`, worked out once per
    #: known operation: `results(schema, document, operation)`.
    results: (
        Callable[[GraphQLSchema, DocumentNode, OperationDefinitionNode], dict[str, Any]] | None
    ) = None
    abandons: Abandons = field(default_factory=Abandons)
    _plans: dict[int, tuple[OperationDefinitionNode, plans.ObjectPlan | None]] = field(
        default_factory=dict
    )
    _plain: dict[int, tuple[GraphQLField, plans.Plain | None]] = field(default_factory=dict)

    def plain_field(self, field: GraphQLField) -> plans.Plain | None:
        """How to read a field that is a plain attribute (`plans.plain_field`), by identity."""
        known = self._plain.get(id(field))
        if known is None or known[0] is not field:
            if len(self._plain) >= FIELDS:
                self._plain.clear()
            known = self._plain[id(field)] = (field, plans.plain_field(field))
        return known[1]

    def plan(
        self, operation: OperationDefinitionNode, make: Callable[[], plans.ObjectPlan | None]
    ) -> plans.ObjectPlan | None:
        """The operation's plan, made once (None: stock execution runs it)."""
        known = self._plans.get(id(operation))
        if known is not None and known[0] is operation:
            return known[1]
        made = make()
        if len(self._plans) >= PLANS:
            self._plans.clear()
        self._plans[id(operation)] = (operation, made)
        return made

    async def start_afresh(self, context: Any) -> None:
        """The request's context made fresh, once the abandoned run's loads have ended."""
        pending = self.restart(context)
        if pending is not None:
            await pending


@contextmanager
def falling_back(reason: str) -> Iterator[None]:
    """Stock execution only, within: the plan of this request was abandoned for `reason`."""
    token = FALLBACK.set(reason)
    try:
        yield
    finally:
        FALLBACK.reset(token)
