"""The executor Strawberry runs operations with: graphql-core's, with plain fields
read directly and without a memory leak of graphql-core 3.3's subscriptions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLLeafType,
    GraphQLObjectType,
    Undefined,
    is_leaf_type,
    is_non_null_type,
)
from graphql.execution import Executor
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField

#: How to read a plain field: attribute name, reader, leaf type, non-null.
_Plain = tuple[str, Callable[[Any, str], object], GraphQLLeafType, bool]


def plain_field(field: GraphQLField) -> _Plain | None:
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
    if non_null:
        leaf = leaf.of_type  # type: ignore[union-attr]
    if not is_leaf_type(leaf):
        return None
    return definition.python_name, definition.default_resolver, leaf, non_null


class EventExecutor(StrawberryGraphQLCoreExecutionContext):
    """Every operation's executor.

    Plain fields (see `plain_field`) are read and coerced directly, without a
    resolve-info; anything unusual about one (no such attribute, a null where the
    schema says non-null, a value its type cannot serialize) goes the usual way,
    which reads it again and reports the error as graphql-core does. Middleware
    (a schema extension with a `resolve` hook) turns this off.

    graphql-core 3.3.2 makes the executor of each subscription event a shallow copy
    of the subscription's, so every event shares one memo of collected subfields. An
    event collects its fields afresh, and the memo is keyed by the identity of those
    new lists, which it keeps alive: a live subscription grew by about 2 KB an event
    for as long as it lasted (found by `make soak`: +37 MiB a minute with 500
    subscribers). Each event now gets a memo of its own, dropped with it.
    """

    #: Each field met, by identity (fields are not hashable): the field itself,
    #: which the entry keeps alive, and how to read it, or None when it is not plain.
    _plain: dict[int, tuple[GraphQLField, _Plain | None]] = {}

    def build_per_event_executor(self, payload: Any) -> Executor[Any]:
        executor = super().build_per_event_executor(payload)
        executor._relevant_sub_fields = {}
        return executor

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
        middleware = self.middleware_manager
        if field is not None and not node.arguments and not (middleware and middleware.middlewares):
            known = self._plain.get(id(field))
            if known is None or known[0] is not field:
                known = self._plain[id(field)] = (field, plain_field(field))
            plain = known[1]
            if plain is not None:
                name, read, leaf, non_null = plain
                try:
                    value = read(source, name)
                    if value is None:
                        if not non_null:
                            return None
                    elif not isinstance(value, BaseException):
                        coerced = leaf.coerce_output_value(value)
                        if coerced is not None and coerced is not Undefined:
                            return coerced
                except Exception:  # noqa: S110 - the usual way below reports it
                    pass
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )
