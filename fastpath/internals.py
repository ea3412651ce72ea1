"""Every private internal of Strawberry and graphql-core the engine relies on, named here.

The engine runs a query as graphql-core's executor would, so it relies on parts
of graphql-core 3.3 and Strawberry 0.341 that are not their public API: how
fields are collected, how a resolve-info is made, where an executor keeps its
errors, how Strawberry wraps resolvers and enums. Both libraries are pinned to
those minor versions (pyproject.toml), and `tests/fastpath/test_internals.py`
fails, naming the part, when one of them changes shape.

The engine imports these from here, and nothing private from anywhere else.
"""

from __future__ import annotations

import inspect
from typing import Any

from graphql.execution.collect_fields import (
    DeferUsage,
    FieldDetailsList,
    FragmentDetails,
    GroupedFieldSet,
    collect_fields,
    collect_subfields,
)
from graphql.execution.values import get_argument_values, get_variable_values
from graphql.pyutils import Path, gather_with_cancel, is_iterable
from strawberry.asgi import GraphQL
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.permission import PermissionExtension
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import CustomGraphQLEnumType
from strawberry.schema.types.base_scalars import isoformat
from strawberry.types.field import StrawberryField

__all__ = [
    "FUTURE_BLOCKING",
    "INFO_FIELDS",
    "RESOLVE_INFO_HEAD",
    "CustomGraphQLEnumType",
    "DeferUsage",
    "FieldDetailsList",
    "FragmentDetails",
    "GraphQL",
    "GroupedFieldSet",
    "Path",
    "StrawberryField",
    "StrawberryGraphQLCoreExecutionContext",
    "collect_fields",
    "collect_subfields",
    "collected_errors",
    "exception_handlers",
    "permission_checks",
    "gather_with_cancel",
    "get_argument_values",
    "get_variable_values",
    "is_default_resolver",
    "is_iterable",
    "isoformat",
    "optimized_is_awaitable",
    "resolve_info_head",
    "strawberry_schema",
    "stream_transports",
]

#: The first fields of a resolve-info, in order: a field's own four and its path.
#: The run makes its resolve-infos alike from the executor's first (`Run.first_info`).
RESOLVE_INFO_HEAD = ("field_name", "field_nodes", "return_type", "parent_type", "path")

#: The fields of Strawberry's `Info`, which a generated call sets without `__init__`.
INFO_FIELDS = ["_raw_info", "_field"]


def resolve_info_head(info_class: type) -> tuple[str, ...]:
    """The first fields of a resolve-info class, as many as `RESOLVE_INFO_HEAD`."""
    return tuple(getattr(info_class, "_fields", ()))[: len(RESOLVE_INFO_HEAD)]


def collected_errors(executor: Any) -> list[Any]:
    """The field errors graphql-core's executor has collected so far (3.3)."""
    errors: list[Any] = executor.collected_errors.errors
    return errors


def exception_handlers(schema: Any, definition: StrawberryField) -> Any:
    """Strawberry's field exception handlers of a field: a field that has any is
    called through Strawberry's own wrapper."""
    return schema.schema_converter._get_field_exception_handlers(definition)


def permission_checks(definition: StrawberryField) -> list[Any] | None:
    """The `has_permission` of each permission of a field, in Strawberry's order, when
    the field's only extensions are Strawberry's permission checks that raise (not
    silent) and answer at once (not `async`); [] for a field without extensions; None
    for anything else, which is called through Strawberry's own wrapper."""
    checks = []
    for extension in definition.extensions:
        if type(extension) is not PermissionExtension or extension.fail_silently:
            return None
        for permission in extension.permissions:
            check = permission.has_permission
            if inspect.iscoroutinefunction(check):
                return None
            checks.append(check)
    return checks


def is_default_resolver(resolve: Any) -> bool:
    """Whether graphql-core's resolver of a field is Strawberry's default one (an
    attribute read), which Strawberry marks."""
    return bool(getattr(resolve, "_is_default", False))


def strawberry_schema(schema: Any) -> Any:
    """The Strawberry schema a graphql-core schema was converted from, if any."""
    return getattr(schema, "_strawberry_schema", None)


def stream_transports(view: GraphQL[Any, Any]) -> Any:
    """The view's incremental (stream) transports: with any, every request is its own."""
    return view._stream_transport_map


#: The attribute of an asyncio future that says a coroutine yielded it to wait for
#: it; a task clears it when it takes the wait, and so does a run (`Run.suspend`,
#: which reads and clears it inline: it runs for each wait of each request).
FUTURE_BLOCKING = "_asyncio_future_blocking"
