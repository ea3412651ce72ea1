"""The schema's shortcut: a known query run by its plan, without Strawberry's pipeline.

Strawberry runs every operation through its extensions' hooks (each a context
manager made afresh from a generator, for each request) before and after
graphql-core executes it. A query whose document is known and valid (the wiring's
`FastPath.runnable`) and whose plan answers it needs none of them, as long as the
schema's extensions are ones it may skip (`FastPath.skippable_extensions`): the
document is checked already, there is no error to mask or log, and what an
extension adds to results is worked out once per operation (`FastPath.results`).
Such a query runs by its plan alone (`fastpath.known`). Any other operation goes
Strawberry's way; so does a query whose plan gave up, once the
plan's work has stopped and the context is fresh, with planning off
(`engine.falling_back`), so that it is answered exactly as stock execution answers it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable
from typing import Any

import strawberry
from graphql import DocumentNode, get_operation_ast
from graphql import OperationType as GraphQLOperationType
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from fastpath.abandons import reason_of
from fastpath.engine import FALLBACK, FastPath, falling_back
from fastpath.executor import planning_executor
from fastpath.internals import StrawberryGraphQLCoreExecutionContext
from fastpath.known import KnownOperation, KnownQueries


class PlannedSchema(strawberry.Schema):
    """A Strawberry schema whose queries run by plan: mixed in before the schema class."""

    def __init__(self, *args: Any, fast_path: FastPath, **kwargs: Any) -> None:
        base = kwargs.get("execution_context_class") or StrawberryGraphQLCoreExecutionContext
        executor = planning_executor(base, fast_path)
        kwargs["execution_context_class"] = executor
        super().__init__(*args, **kwargs)
        self.fast_path = fast_path
        self.known = KnownQueries(self._schema, fast_path, executor)

    def known_operation(
        self,
        query: str | None,
        operation_name: str | None,
        extensions: dict[str, Any] | None,
        allowed: Iterable[OperationType] | None = None,
    ) -> KnownOperation | None:
        """The plan of a known, valid query that may skip the pipeline, if it has one."""
        if FALLBACK.get() is not None or self.extensions != self.fast_path.skippable_extensions:
            return None
        if allowed is not None and OperationType.QUERY not in allowed:
            return None
        document = self.fast_path.runnable(query, extensions)
        if document is None or not _is_query(document, operation_name):
            return None
        return self.known.operation(document, operation_name)

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        def stock() -> Awaitable[ExecutionResult]:
            return super(PlannedSchema, self).execute(
                query,
                variable_values,
                context_value,
                root_value,
                operation_name,
                allowed_operation_types,
                operation_extensions,
            )

        reason = FALLBACK.get()  # set: the view's plan gave up, stock execution answers
        if reason is None:
            known = self.known_operation(
                query, operation_name, operation_extensions, allowed_operation_types
            )
            if known is None:
                return await stock()
            try:
                data = await self.known.run(
                    known, variable_values, context_value, root_value, operation_extensions
                )
                return ExecutionResult(data=data, errors=None, extensions=known.extensions)
            except Exception as abandoned:  # noqa: BLE001 - stock execution reports it
                reason = reason_of(abandoned)
            await self.fast_path.start_afresh(context_value)
        with falling_back(reason):
            result = await stock()
        self.fast_path.abandons.settle(reason, operation_name, result.errors)
        return result


def _is_query(document: DocumentNode, operation_name: str | None) -> bool:
    operation = get_operation_ast(document, operation_name)
    return operation is not None and operation.operation is GraphQLOperationType.QUERY
