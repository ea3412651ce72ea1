"""Query plans: a query's selections worked out once, then run on each request.

graphql-core executes a query field by field, and for each it looks the field
up, collects its subfields, builds a path and a resolve-info, calls the resolver
and dispatches on the return type to complete the value. For a page of hundreds
of fields, most of them plain attributes, that is much of the request. A plan
does the looking up, collecting and dispatching once per document: each object's
fields in order, each with what it returns, plain attributes marked to be read
directly. Running it (`fastpath.runs`) calls the same resolvers with the same
resolve-infos, gathers their awaitables the same way (so DataLoaders batch as
before) and builds the same data. Each object's fields are read by a function
generated with its plan, and resolvers that take no arguments are called without
Strawberry's wrapper (`fastpath.compiled`).

A plan answers only what goes well: an error anywhere (a resolver raising, a
null where the schema says non-null, a value its type cannot serialize) abandons
it, and graphql-core executes the query from the start and reports the error as
it always does. Queries and subscriptions' events only (a mutation's fields run
one after the other), and only documents without directives, abstract types or
fragment variables; everything else is graphql-core's alone.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
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
    is_leaf_type,
    is_non_null_type,
)

from fastpath.compiled import (
    BuildObject,
    coerce_leaf,
    compile_object,
    direct_call,
    leaf_serializer,
    object_attribute,
    read_by_default,
)
from fastpath.internals import (
    FieldDetailsList,
    FragmentDetails,
    GroupedFieldSet,
    collect_fields,
    collect_subfields,
)

#: How to read a plain field: attribute name, reader, leaf type, non-null.
Plain = tuple[str, Callable[[Any, str], object], GraphQLLeafType, bool]


def plain_field(field: GraphQLField) -> Plain | None:
    """A field that is an attribute of its object and a scalar or an enum.

    Strawberry resolves such a field (no resolver, no field extension or permission)
    by reading the attribute; graphql-core still builds a resolve-info for it and
    completes its value in five calls. The settings page has about 250 of them.
    """
    definition = read_by_default(field)
    if definition is None:
        return None
    leaf, non_null = field.type, is_non_null_type(field.type)
    if isinstance(leaf, GraphQLNonNull):
        leaf = leaf.of_type
    if not is_leaf_type(leaf):
        return None
    return definition.python_name, definition.default_resolver, leaf, non_null


def read_plain(plain: Plain, source: Any) -> Any:
    """A plain field's value, read and coerced; `Abandon` (or what reading raised)
    for anything graphql-core must report: a null for a non-null field, an error
    object, a value its type cannot serialize."""
    name, read, leaf, non_null = plain
    return coerce_leaf(leaf, non_null, read(source, name))


# The plan.


@dataclass(frozen=True, slots=True)
class Leaf:
    type: GraphQLLeafType
    non_null: bool
    origin: None = None
    paths: bool = False
    #: The Python type whose values `serialize` serializes as graphql-core would,
    #: without its coercion (`fastpath.compiled.leaf_serializer`); None: none.
    exact: builtins.type | None = None
    #: None: a value of `exact` is its own serialization.
    serialize: Callable[[Any], Any] | None = None


@dataclass(frozen=True, slots=True)
class ListOf:
    item: Completion
    non_null: bool
    origin: None = None
    #: Whether its items need paths (see `ObjectPlan.paths`).
    paths: bool = False
    exact: None = None
    serialize: None = None


@dataclass(frozen=True, slots=True)
class Object:
    plan: ObjectPlan
    non_null: bool
    #: The type's own Python class, whose instances need no check (not awaitable,
    #: of this type; see `Run.complete`); None for a type without one.
    origin: type | None = None
    paths: bool = False
    exact: None = None
    serialize: None = None


Completion = Leaf | ListOf | Object


@dataclass(frozen=True, slots=True)
class FieldPlan:
    key: str
    parent: GraphQLObjectType
    field: GraphQLField
    nodes: list[FieldNode]
    #: Set for a plain attribute of a scalar or enum type: read, not resolved.
    plain: Plain | None
    resolve: Callable[..., Any]
    #: The resolver called without Strawberry's wrapper, when it may be
    #: (`fastpath.compiled.direct_call`): `direct(source, resolve_info)`.
    direct: Callable[[Any, Any], Any] | None
    #: Set for a plain attribute holding an object (`TeamMember.profile`): read,
    #: and built without a resolve-info when it is of its type's own class.
    attribute: str | None
    has_arguments: bool
    completion: Completion
    #: What a resolve-info holds of the field: its name, nodes, type and parent.
    info_head: tuple[str, list[FieldNode], GraphQLOutputType, GraphQLObjectType]


@dataclass(frozen=True, slots=True)
class ObjectPlan:
    type: GraphQLObjectType
    fields: tuple[FieldPlan, ...]
    #: The object's data from its source (`fastpath.compiled.compile_object`).
    build: BuildObject
    #: Whether a resolver is called in it or below it: only a resolver's info
    #: holds a path, so an object without one is built without paths (the 30
    #: members of the settings page and their profiles). A run's `path` is the
    #: object's own path, or None for an object built without.
    paths: bool


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
            nodes = [d.node for d in details]
            completion = self._completion(field.type, details, variable_values)
            fields.append(
                FieldPlan(
                    key=key,
                    parent=type_,
                    field=field,
                    nodes=nodes,
                    plain=plain,
                    resolve=field.resolve or self.default_resolver,
                    direct=None
                    if plain
                    else direct_call(self.schema, field, given=bool(node.arguments)),
                    attribute=None if plain or node.arguments else object_attribute(field),
                    has_arguments=bool(field.args or node.arguments),
                    completion=completion,
                    info_head=(node.name.value, nodes, field.type, type_),
                )
            )
        planned = tuple(fields)
        paths = any(
            (f.plain is None and f.attribute is None) or f.completion.paths for f in planned
        )
        return ObjectPlan(type_, planned, compile_object(planned), paths)

    def _completion(
        self, type_: GraphQLOutputType, details: FieldDetailsList, variable_values: Any
    ) -> Completion:
        non_null = is_non_null_type(type_)
        if isinstance(type_, GraphQLNonNull):
            type_ = type_.of_type
        if isinstance(type_, GraphQLList):
            item = self._completion(type_.of_type, details, variable_values)
            return ListOf(item, non_null, paths=item.paths)
        if is_leaf_type(type_):
            exact, serialize = leaf_serializer(type_, non_null)
            return Leaf(type_, non_null, exact=exact, serialize=serialize)
        if not isinstance(type_, GraphQLObjectType):
            raise NotPlannable  # an interface or a union
        grouped, defers, _ = collect_subfields(
            self.schema, self.fragments, variable_values, self.operation, type_, details
        )
        if defers:
            raise NotPlannable
        plan = self._object(type_, grouped, variable_values)
        return Object(plan, non_null, _origin(type_), plan.paths)


def _origin(type_: GraphQLObjectType) -> type | None:
    """The Python class Strawberry made the type from, unless its instances may be awaitable."""
    definition = type_.extensions.get("strawberry-definition")
    origin = getattr(definition, "origin", None)
    if not isinstance(origin, type) or hasattr(origin, "__await__"):
        return None
    return origin


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


def plan_operation(
    schema: GraphQLSchema,
    fragments: dict[str, FragmentDetails],
    operation: OperationDefinitionNode,
    root_type: GraphQLObjectType,
    variable_values: Any,
    plain_field: Callable[[GraphQLField], Plain | None],
    default_resolver: Callable[..., Any],
) -> ObjectPlan | None:
    """The operation's plan; None for one that only stock execution runs."""
    definitions = [f.definition for f in fragments.values()]
    if any(has_directives(node) for node in (operation, *definitions)):
        return None
    planner = Planner(schema, fragments, operation, plain_field, default_resolver)
    try:
        return planner.root(root_type, variable_values)
    except NotPlannable:
        return None
