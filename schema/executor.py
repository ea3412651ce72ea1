"""The executor Strawberry runs operations with: graphql-core's, running queries
by plan where it can, and without a memory leak of graphql-core 3.3's subscriptions."""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Sequence
from typing import Any

from graphql import (
    GraphQLObjectType,
    GraphQLResolveInfoHelpers,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
)
from graphql.execution import Executor
from graphql.execution.collect_fields import (
    DeferUsage,
    FieldDetailsList,
    FragmentDetails,
    GroupedFieldSet,
)
from graphql.pyutils import Path, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema import plans
from schema.plans import NotPlannable, ObjectPlan, Planner
from schema.runs import Run

#: Operations planned at most: documents are kept by `api.documents` (256).
PLANS = 512


class EventExecutor(StrawberryGraphQLCoreExecutionContext):
    """Every operation's executor.

    A query, or a subscription's event, runs by its plan (`schema.plans`) when it
    has one and the plan goes well; otherwise, and for mutations, graphql-core
    executes it.
    Plain fields executed by graphql-core are read and coerced directly too,
    without a resolve-info. Middleware (a schema extension with a `resolve` hook)
    turns both off.

    graphql-core 3.3.2 makes the executor of each subscription event a shallow copy
    of the subscription's, so every event shares one memo of collected subfields. An
    event collects its fields afresh, and the memo is keyed by the identity of those
    new lists, which it keeps alive: a live subscription grew by about 2 KB an event
    for as long as it lasted (found by `make soak`: +37 MiB a minute with 500
    subscribers). Each event now gets a memo of its own, dropped with it.

    The helpers every resolve-info carries (`info.async_helpers`) reach the executor
    through a weak reference. graphql-core's are its bound methods, a reference
    cycle that kept every request's objects (its data, context, loaders and rows)
    alive until the next full garbage collection, half a minute at the soak's load:
    the server's heap grew by 50 MB between two, and its arenas kept that size.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.async_helpers = _helpers_of(self)

    #: Each field met, by identity (fields are not hashable): the field itself,
    #: which the entry keeps alive, and how to read it, or None when it is not plain.
    _plain: dict[int, tuple[Any, plans.Plain | None]] = {}
    #: Each query operation met, by identity (the document cache hands out the
    #: same one for the same text): the operation, kept alive, and its plan or None.
    _plans: dict[int, tuple[OperationDefinitionNode, ObjectPlan | None]] = {}

    def build_per_event_executor(self, payload: Any) -> Executor[Any]:
        executor = super().build_per_event_executor(payload)
        executor._relevant_sub_fields = {}
        return executor

    def _without_middleware(self) -> bool:
        middleware = self.middleware_manager
        return not (middleware and middleware.middlewares)

    @classmethod
    def _plain_field(cls, field: Any) -> plans.Plain | None:
        known = cls._plain.get(id(field))
        if known is None or known[0] is not field:
            known = cls._plain[id(field)] = (field, plans.plain_field(field))
        return known[1]

    def _plan(self, root_type: GraphQLObjectType) -> ObjectPlan | None:
        return self.plan_of(
            self.schema,
            self.fragments,
            self.operation,
            root_type,
            self.variable_values,
            self.field_resolver,
        )

    @classmethod
    def plan_of(
        cls,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDetails],
        operation: OperationDefinitionNode,
        root_type: GraphQLObjectType,
        variable_values: Any,
        field_resolver: Any,
    ) -> ObjectPlan | None:
        """The operation's plan, made once (None: graphql-core executes it)."""
        known = cls._plans.get(id(operation))
        if known is not None and known[0] is operation:
            return known[1]
        plan = None
        definitions = [f.definition for f in fragments.values()]
        if not any(plans.has_directives(node) for node in (operation, *definitions)):
            planner = Planner(schema, fragments, operation, cls._plain_field, field_resolver)
            try:
                plan = planner.root(root_type, variable_values)
            except NotPlannable:
                plan = None
        if len(cls._plans) >= PLANS:
            cls._plans.clear()
        cls._plans[id(operation)] = (operation, plan)
        return plan

    def execute_collected_root_fields(
        self,
        root_type: GraphQLObjectType,
        root_value: Any,
        grouped_field_set: GroupedFieldSet,
        serially: bool,
        new_defer_usages: Sequence[DeferUsage],
    ) -> Any:
        def usual() -> Any:
            return super(EventExecutor, self).execute_collected_root_fields(
                root_type, root_value, grouped_field_set, serially, new_defer_usages
            )

        if (
            serially
            or new_defer_usages
            or self.operation.operation is OperationType.MUTATION
            or not self._without_middleware()
        ):
            return usual()
        plan = self._plan(root_type)
        if plan is None:
            return usual()
        run = Run(
            self.build_resolve_info, self.variable_values, self.hide_suggestions, self.is_awaitable
        )
        try:
            data = run.start(plan, root_value)
        except Exception:  # noqa: BLE001 - graphql-core runs it again and reports it
            return usual()
        if not run.waiting:
            return data

        async def settled() -> Any:
            try:
                return await run.finish(data)
            except Exception:  # noqa: BLE001 - as above
                again = usual()
                return (await again) if self.is_awaitable(again) else again

        return settled()

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        node = field_details_list[0].node
        field = parent_type.fields.get(node.name.value)
        if field is not None and not node.arguments and self._without_middleware():
            plain = self._plain_field(field)
            if plain is not None:
                try:
                    return plans.read_plain(plain, source)
                except Exception:  # noqa: S110 - the usual way below reports it
                    pass
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )


def gather(values: Sequence[Awaitable[Any]]) -> Awaitable[list[Any]]:
    return gather_with_cancel(*values)


def _helpers_of(executor: Executor[Any]) -> GraphQLResolveInfoHelpers:
    """graphql-core's helpers, without the reference cycle of its bound methods."""
    executor_ref = weakref.ref(executor)

    def track(values: Sequence[Any]) -> None:
        executor = executor_ref()
        if executor is not None:  # it lives as long as its execution runs
            executor.track_async_work(values)

    return GraphQLResolveInfoHelpers(gather=gather, track=track)
