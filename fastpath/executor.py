"""The executor's hook: a query, or a subscription's event, run by its plan.

Strawberry executes every operation with graphql-core's executor. When a query
reaches it (one the schema's own shortcut, `fastpath.schema`, did not answer: a
document seen for the first time, a request over GET) or a subscription's event
does, the executor runs the operation's plan instead of collecting and executing
its fields, and plain fields it executes itself are read without a resolve-info.
A plan that gives up has its work stopped and the request's context made fresh;
then graphql-core executes the operation, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from inspect import isawaitable
from typing import Any, ClassVar

from graphql import GraphQLObjectType, OperationType

from fastpath import plans
from fastpath.abandons import reason_of
from fastpath.engine import FALLBACK, FastPath
from fastpath.internals import (
    DeferUsage,
    FieldDetailsList,
    GroupedFieldSet,
    Path,
    StrawberryGraphQLCoreExecutionContext,
    collected_errors,
)
from fastpath.plans import ObjectPlan
from fastpath.runs import Run


class PlanningExecutor(StrawberryGraphQLCoreExecutionContext):
    """Mixed in before the schema's own executor class (`planning_executor`)."""

    fast_path: ClassVar[FastPath]

    def _planned(self) -> bool:
        middleware = self.middleware_manager
        return not (middleware and middleware.middlewares) and FALLBACK.get() is None

    def _plan(self, root_type: GraphQLObjectType) -> ObjectPlan | None:
        def make() -> ObjectPlan | None:
            return plans.plan_operation(
                self.schema,
                self.fragments,
                self.operation,
                root_type,
                self.variable_values,
                self.fast_path.plain_field,
                self.field_resolver,
            )

        return self.fast_path.plan(self.operation, make)

    def execute_collected_root_fields(
        self,
        root_type: GraphQLObjectType,
        root_value: Any,
        grouped_field_set: GroupedFieldSet,
        serially: bool,
        new_defer_usages: Sequence[DeferUsage],
    ) -> Any:
        def stock() -> Any:
            return super(PlanningExecutor, self).execute_collected_root_fields(
                root_type, root_value, grouped_field_set, serially, new_defer_usages
            )

        if (
            serially
            or new_defer_usages
            or self.operation.operation is OperationType.MUTATION
            or not self._planned()
        ):
            return stock()
        plan = self._plan(root_type)
        if plan is None:
            return stock()
        fast_path = self.fast_path
        run = Run(
            self.build_resolve_info,
            self.variable_values,
            self.hide_suggestions,
            self.is_awaitable,
            fast_path.pending_loads,
            fast_path.shielded,
        )

        def fall_back(reason: str) -> Any:
            """Stock execution, once the abandoned run's work has stopped and the
            context is fresh: at once when nothing of the run is left to wait for."""
            waits = [w for w in (run.stopping(), fast_path.restart(self.context_value)) if w]
            if not waits:
                return counted(reason)

            async def later() -> Any:
                for wait in waits:
                    await wait
                return await await_maybe(counted(reason))

            return later()

        def counted(reason: str) -> Any:
            """Stock execution's data (or what it awaits), the abandon counted once it
            has answered: with an error, also when the error ends it (a null that
            reaches the root)."""
            try:
                data = stock()
            except BaseException:
                fast_path.abandons.settle(reason, self._name(), True)
                raise
            if not self.is_awaitable(data):
                fast_path.abandons.settle(reason, self._name(), collected_errors(self))
                return data

            async def answered() -> Any:
                try:
                    done = await data
                except BaseException:
                    fast_path.abandons.settle(reason, self._name(), True)
                    raise
                fast_path.abandons.settle(reason, self._name(), collected_errors(self))
                return done

            return answered()

        try:
            data = run.start(plan, root_value)
        except Exception as abandoned:  # noqa: BLE001 - stock execution reports it
            return fall_back(reason_of(abandoned))
        if not run.waiting:
            return data

        async def settled() -> Any:
            try:
                return await run.finish(data)
            except Exception as abandoned:  # noqa: BLE001 - as above
                return await await_maybe(fall_back(reason_of(abandoned)))

        return settled()

    def _name(self) -> str | None:
        name = self.operation.name
        return name.value if name else None

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
        if field is not None and not node.arguments and self._planned():
            plain = self.fast_path.plain_field(field)
            if plain is not None:
                try:
                    return plans.read_plain(plain, source)
                except Exception:  # noqa: S110 - the stock way below reports it
                    pass
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )


async def await_maybe(value: Any) -> Any:
    return (await value) if isawaitable(value) else value


def planning_executor(
    base: type[StrawberryGraphQLCoreExecutionContext], fast_path: FastPath
) -> type[PlanningExecutor]:
    """`base`, the schema's executor class, running plans with `fast_path`."""
    namespace = {"fast_path": fast_path, "__module__": __name__}
    return type(f"Planning{base.__name__}", (PlanningExecutor, base), namespace)
