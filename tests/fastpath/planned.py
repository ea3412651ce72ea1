"""Small Strawberry schemas with the plan engine, for the engine's own tests."""

from __future__ import annotations

from typing import Any

from graphql import DocumentNode, parse, validate
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

import fastpath
from resolvers.dataloader import LOADING, SHIELDED


def restart(context: Any) -> None:
    """A test context's own fresh start, if it has one (`context["restart"]`)."""
    if isinstance(context, dict) and "restart" in context:
        context["restart"]()


def planned(query: type, *, known: bool = False, **options: Any) -> fastpath.PlannedSchema:
    """`query`'s schema, its queries run by plan: through Strawberry's pipeline and the
    executor's hook, or with `known`, by the schema's shortcut for a valid document."""
    checked: dict[str, DocumentNode | None] = {}

    def runnable(text: str | None, extensions: Any) -> DocumentNode | None:
        if not known or text is None or extensions:
            return None
        if text not in checked:
            document = parse(text)
            checked[text] = None if validate(schema._schema, document) else document
        return checked[text]

    engine = fastpath.FastPath(
        runnable=runnable,
        pending_loads=LOADING,
        shielded=SHIELDED,
        restart=restart,
    )
    schema = fastpath.PlannedSchema(
        query=query,
        execution_context_class=StrawberryGraphQLCoreExecutionContext,
        fast_path=engine,
        **options,
    )
    return schema
