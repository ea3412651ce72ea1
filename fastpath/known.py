"""A known query run by its plan alone, without an executor.

`fastpath.schema.PlannedSchema` hands a query here when its document is known and
valid. graphql-core would first build an executor (the operation and fragments
looked up, the variables coerced, a dozen attributes set) and collect the root
fields before it reached the plan. Here the operation, its fragments and its plan
are looked up once per document, the variables are coerced by graphql-core's own
function only when the operation declares some, and the run (`fastpath.runs`)
gets its first resolve-info from the executor class's own `build_resolve_info`,
called on a stand-in that holds what it reads of an executor (`_Execution`), and
makes the rest alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLResolveInfoHelpers,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    default_field_resolver,
    get_operation_ast,
)

from fastpath.abandons import TRACKED, VARIABLES, Abandon
from fastpath.engine import PLANS, FastPath
from fastpath.internals import (
    FragmentDetails,
    StrawberryGraphQLCoreExecutionContext,
    gather_with_cancel,
    get_variable_values,
    optimized_is_awaitable,
)
from fastpath.plans import ObjectPlan, plan_operation
from fastpath.runs import Run


@dataclass(slots=True)
class _Execution:
    """What the executor's `build_resolve_info` reads of its executor: the run asks
    it for its first resolve-info, and makes the rest alike (`Run.first_info`)."""

    schema: GraphQLSchema
    fragment_definitions: dict[str, FragmentDefinitionNode]
    root_value: Any
    operation: OperationDefinitionNode
    variable_values: Any
    context_value: Any
    is_awaitable: Any
    abort_signal: None
    async_helpers: GraphQLResolveInfoHelpers
    operation_extensions: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class KnownOperation:
    operation: OperationDefinitionNode
    fragment_definitions: dict[str, FragmentDefinitionNode]
    plan: ObjectPlan
    #: The coerced variables of an operation that declares none, shared by its runs.
    no_variables: Any
    #: The answer's `extensions` (`FastPath.results`), the same for every run.
    extensions: dict[str, Any] | None


class KnownQueries:
    """The plans of known query operations, by document and operation name."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fast_path: FastPath,
        executor_class: type[StrawberryGraphQLCoreExecutionContext],
    ) -> None:
        self.schema = schema
        self.fast_path = fast_path
        self.build_resolve_info = executor_class.build_resolve_info
        self._known: dict[tuple[int, str | None], tuple[DocumentNode, KnownOperation | None]] = {}

    def operation(self, document: DocumentNode, name: str | None) -> KnownOperation | None:
        key = (id(document), name)
        found = self._known.get(key)
        if found is None or found[0] is not document:
            if len(self._known) >= PLANS:
                self._known.clear()
            found = self._known[key] = (document, self._plan(document, name))
        return found[1]

    def _plan(self, document: DocumentNode, name: str | None) -> KnownOperation | None:
        schema, root_type = self.schema, self.schema.query_type
        operation = get_operation_ast(document, name)
        if operation is None or operation.operation is not OperationType.QUERY or root_type is None:
            return None
        definitions = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        if any(d.variable_definitions for d in definitions.values()):
            return None  # fragment variables: graphql-core's alone
        fragments = {n: FragmentDetails(d, None) for n, d in definitions.items()}
        no_variables = get_variable_values(schema, (), {})

        def make() -> ObjectPlan | None:
            return plan_operation(
                schema,
                fragments,
                operation,
                root_type,
                no_variables,
                self.fast_path.plain_field,
                default_field_resolver,
            )

        plan = self.fast_path.plan(operation, make)
        if plan is None:
            return None
        results = self.fast_path.results
        extensions = results(schema, document, operation) if results is not None else None
        return KnownOperation(operation, definitions, plan, no_variables, extensions or None)

    async def run(
        self,
        known: KnownOperation,
        variables: dict[str, Any] | None,
        context: Any,
        root_value: Any,
        extensions: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The query's data; what made the plan give up otherwise (`Abandon`, or what
        a resolver raised), once the run's work has stopped."""
        values = known.no_variables
        if known.operation.variable_definitions:
            values = get_variable_values(
                self.schema, known.operation.variable_definitions, variables or {}, max_errors=50
            )
            if isinstance(values, list):
                raise Abandon(VARIABLES)  # errors, which stock execution reports
        execution = _Execution(
            self.schema,
            known.fragment_definitions,
            root_value,
            known.operation,
            values,
            context,
            optimized_is_awaitable,  # as Strawberry passes it to graphql-core
            None,  # no abort signal, as an executor has none unless given one
            HELPERS,
            extensions,
        )
        build_info = partial(self.build_resolve_info, execution)  # type: ignore[arg-type]
        fast_path = self.fast_path
        run = Run(
            build_info,
            values,
            False,
            optimized_is_awaitable,
            fast_path.pending_loads,
            fast_path.shielded,
        )
        try:
            data = run.start(known.plan, root_value)
            return (await run.finish(data)) if run.waiting else data
        except BaseException:
            await run.stop()
            raise


def _gather(values: Sequence[Any]) -> Any:
    return gather_with_cancel(*values)


def _untracked(values: Sequence[Any]) -> None:
    # No executor here waits for tracked work: stock execution, which has one, takes over.
    raise Abandon(TRACKED)


#: `info.async_helpers` of a known query's resolvers.
HELPERS = GraphQLResolveInfoHelpers(gather=_gather, track=_untracked)
