"""Query plans: a query's selections worked out once, then run on each request.

graphql-core executes a query field by field, and for each it looks the field
up, collects its subfields, builds a path and a resolve-info, calls the
resolver and dispatches on the return type to complete the value. For the
settings page (309 fields, most of them plain attributes) that is about half of
the request. A plan does the looking up, collecting and dispatching once per
document: each object's fields in order, each with what it returns, plain
attributes marked to be read directly. Running it calls the same resolvers with
the same resolve-infos, gathers their awaitables the same way (so DataLoaders
batch as before) and builds the same data.

A plan answers only what goes well: an error anywhere (a resolver raising, a
null where the schema says non-null, a value its type cannot serialize) abandons
it, and graphql-core executes the query from the start and reports the error as
it always does. Queries only, and only documents without directives,
abstract types or fragment variables; everything else is graphql-core's alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    GraphQLField,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    Node,
    OperationDefinitionNode,
    Undefined,
    is_leaf_type,
    is_non_null_type,
)
from graphql.execution.collect_fields import (
    FieldDetailsList,
    FragmentDetails,
    GroupedFieldSet,
    collect_fields,
    collect_subfields,
)
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path, is_iterable
from strawberry.types.field import StrawberryField

#: How to read a plain field: attribute name, reader, leaf type, non-null.
Plain = tuple[str, Callable[[Any, str], object], GraphQLLeafType, bool]


def plain_field(field: GraphQLField) -> Plain | None:
    """A field that is an attribute of its object and a scalar or an enum.

    Strawberry resolves such a field (no resolver, no field extension or permission)
    by reading the attribute; graphql-core still builds a resolve-info for it and
    completes its value in five calls. The settings page has about 250 of them.
    """
    definition = field.extensions.get("strawberry-definition")
    if not isinstance(definition, StrawberryField) or not definition.is_basic_field:
        return None
    if not getattr(field.resolve, "_is_default", False) or field.args:
        return None
    leaf, non_null = field.type, is_non_null_type(field.type)
    if isinstance(leaf, GraphQLNonNull):
        leaf = leaf.of_type
    if not is_leaf_type(leaf):
        return None
    return definition.python_name, definition.default_resolver, leaf, non_null


class Abandon(Exception):  # noqa: N818 - not an error: the usual execution takes over
    """Something about the answer needs graphql-core's error handling."""


# The plan.


@dataclass(frozen=True, slots=True)
class Leaf:
    type: GraphQLLeafType
    non_null: bool


@dataclass(frozen=True, slots=True)
class ListOf:
    item: Completion
    non_null: bool


@dataclass(frozen=True, slots=True)
class Object:
    plan: ObjectPlan
    non_null: bool


Completion = Leaf | ListOf | Object


@dataclass(frozen=True, slots=True)
class FieldPlan:
    key: str
    field: GraphQLField
    nodes: list[FieldNode]
    #: Set for a plain attribute of a scalar or enum type: read, not resolved.
    plain: Plain | None
    resolve: Callable[..., Any]
    has_arguments: bool
    completion: Completion


@dataclass(frozen=True, slots=True)
class ObjectPlan:
    type: GraphQLObjectType
    fields: tuple[FieldPlan, ...]


class NotPlannable(Exception):  # noqa: N818 - a verdict, not an error
    pass


@dataclass(frozen=True)
class Planner:
    """Builds the plan of an operation from the document alone."""

    schema: GraphQLSchema
    fragments: dict[str, FragmentDetails]
    operation: OperationDefinitionNode
    plain_field: Callable[[GraphQLField], Plain | None]
    default_resolver: Callable[..., Any]

    def root(self, root_type: GraphQLObjectType, variable_values: Any) -> ObjectPlan:
        grouped, defers, _ = collect_fields(
            self.schema, self.fragments, variable_values, root_type, self.operation
        )
        if defers:
            raise NotPlannable
        return self._object(root_type, grouped, variable_values)

    def _object(
        self, type_: GraphQLObjectType, grouped: GroupedFieldSet, variable_values: Any
    ) -> ObjectPlan:
        fields = []
        for key, details in grouped.items():
            node = details[0].node
            field = type_.fields.get(node.name.value)
            if field is None or any(d.fragment_variable_values for d in details):
                raise NotPlannable  # __typename and other meta fields, fragment variables
            plain = None if node.arguments else self.plain_field(field)
            completion = self._completion(field.type, details, variable_values)
            fields.append(
                FieldPlan(
                    key=key,
                    field=field,
                    nodes=[d.node for d in details],
                    plain=plain,
                    resolve=field.resolve or self.default_resolver,
                    has_arguments=bool(field.args or node.arguments),
                    completion=completion,
                )
            )
        return ObjectPlan(type_, tuple(fields))

    def _completion(
        self, type_: GraphQLOutputType, details: FieldDetailsList, variable_values: Any
    ) -> Completion:
        non_null = is_non_null_type(type_)
        if isinstance(type_, GraphQLNonNull):
            type_ = type_.of_type
        if isinstance(type_, GraphQLList):
            return ListOf(self._completion(type_.of_type, details, variable_values), non_null)
        if is_leaf_type(type_):
            return Leaf(type_, non_null)
        if not isinstance(type_, GraphQLObjectType):
            raise NotPlannable  # an interface or a union
        grouped, defers, _ = collect_subfields(
            self.schema, self.fragments, variable_values, self.operation, type_, details
        )
        if defers:
            raise NotPlannable
        return Object(self._object(type_, grouped, variable_values), non_null)


def has_directives(node: Node) -> bool:
    """Whether the node or any below it carries a directive (@skip, @include, @defer
    ...): their effect can depend on the variables, which a plan does not see."""

    def visit(node: Any) -> bool:
        if getattr(node, "directives", None):
            return True
        for key in node.keys:
            value = getattr(node, key, None)
            if isinstance(value, Node) and visit(value):
                return True
            if isinstance(value, tuple | list) and any(
                isinstance(v, Node) and visit(v) for v in value
            ):
                return True
        return False

    return visit(node)


# Running a plan.


@dataclass(slots=True)
class Run:
    """One request's run of a plan, on the executor that would have run the query."""

    build_info: Callable[..., Any]
    variable_values: Any
    hide_suggestions: bool
    is_awaitable: Callable[[Any], bool]

    def object(self, plan: ObjectPlan, source: Any, path: Path | None) -> Any:
        """The object's data, or an awaitable of it when a resolver is asynchronous."""
        result: dict[str, Any] = {}
        pending: list[tuple[str, Awaitable[Any]]] = []
        type_ = plan.type
        for field in plan.fields:
            plain = field.plain
            if plain is not None:
                name, read, leaf, non_null = plain
                value = read(source, name)
                if value is None:
                    if non_null:
                        raise Abandon
                    result[field.key] = None
                    continue
                if isinstance(value, BaseException):
                    raise Abandon
                coerced = leaf.coerce_output_value(value)
                if coerced is None or coerced is Undefined:
                    raise Abandon
                result[field.key] = coerced
                continue
            field_path = Path(path, field.key, type_.name)
            info = self.build_info(field.field, field.nodes, type_, field_path)
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
            completed = self.complete(
                field.completion, field.resolve(source, info, **arguments), info, field_path
            )
            result[field.key] = completed
            if self.is_awaitable(completed):
                pending.append((field.key, completed))
        if not pending:
            return result
        return self._task(self._settle(result, pending))

    def complete(self, completion: Completion, value: Any, info: Any, path: Path) -> Any:
        if self.is_awaitable(value):
            return self._task(self._complete_later(completion, value, info, path))
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
            if is_type_of is not None:
                fits = is_type_of(value, info)
                if fits is not True:
                    raise Abandon  # False, or an awaitable answer
            return self.object(completion.plan, value, path)
        return self._list(completion, value, info, path)

    def _list(self, completion: ListOf, value: Any, info: Any, path: Path) -> Any:
        if not is_iterable(value) or hasattr(value, "__aiter__"):
            raise Abandon
        items: list[Any] = []
        pending: list[tuple[int, Awaitable[Any]]] = []
        for index, item in enumerate(value):
            completed = self.complete(completion.item, item, info, Path(path, index, None))
            items.append(completed)
            if self.is_awaitable(completed):
                pending.append((index, completed))
        if not pending:
            return items
        return self._task(self._settle(items, pending))

    async def _complete_later(
        self, completion: Completion, value: Awaitable[Any], info: Any, path: Path
    ) -> Any:
        completed = self.complete(completion, await value, info, path)
        if self.is_awaitable(completed):
            completed = await completed
        return completed

    @staticmethod
    def _task(work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """`work`, started. Each awaitable of a plan is a task at once, so that one
        abandoned while others are pending leaves none unawaited: they run to their
        end, as graphql-core lets its own, and what they raise is dropped."""
        task = asyncio.ensure_future(work)
        task.add_done_callback(_drop_outcome)
        return task

    @staticmethod
    async def _settle(container: Any, pending: list[tuple[Any, Awaitable[Any]]]) -> Any:
        # Every awaitable runs to its end, as graphql-core lets them, even when one
        # fails: none is left running after the plan is abandoned.
        settled = await asyncio.gather(*(a for _, a in pending), return_exceptions=True)
        for (at, _), value in zip(pending, settled, strict=True):
            if isinstance(value, asyncio.CancelledError):
                raise value
            if isinstance(value, BaseException):
                raise Abandon from value
            container[at] = value
        return container


def _drop_outcome(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()
