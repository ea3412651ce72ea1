"""The parts of a query plan made into Python once, at planning time.

An object's fields are read by one generated function instead of a loop over its
field plans: a plain attribute of a String, ID or Boolean field is taken as it
is when its Python type is exactly `str` or `bool` (its own serialization, as
graphql-core would answer it), so is an `int` of an Int that fits it, a
`datetime` of a DateTime becomes its ISO text, a null of a nullable field is
itself, an enum member becomes its name by dictionary (`_serialized`), and
anything else goes through `coerce_leaf`, which is graphql-core's coercion.
The settings page reads about 250 such fields a request. An attribute holding
an object goes to `Run.attribute`, a field with a resolver to `Run.field`.

A Strawberry resolver that takes no arguments (or none the document gives, each
with a plain default) and has no field extension but permission checks is called
directly (`direct_call`): the same function with the same `self`, root and `Info`,
without Strawberry's wrapper around it, which converts the (absent) arguments,
chains the extensions and awaits the resolver in a coroutine of its own. Its
permissions' `has_permission` are called first, in their order, as Strawberry's
extension calls them (of a field without arguments only: they are given the field's
arguments); one that does not answer True gives the query to stock execution,
which refuses the field as it always does.

The generated source holds only names this module makes (`value`, `field_3`) and
the schema's Python attribute names, checked to be identifiers; response keys,
which come from the client's document, appear only as string literals (`repr`).
"""

from __future__ import annotations

import dataclasses
import inspect
import keyword
from collections.abc import Callable
from datetime import date, datetime, time
from enum import Enum
from functools import partial
from typing import TYPE_CHECKING, Any

from graphql import (
    GRAPHQL_MAX_INT,
    GRAPHQL_MIN_INT,
    GraphQLBoolean,
    GraphQLField,
    GraphQLID,
    GraphQLInt,
    GraphQLLeafType,
    GraphQLSchema,
    GraphQLString,
    Undefined,
)

from fastpath.abandons import LEAF, NULL, RAISED, REFUSED, Abandon
from fastpath.internals import (
    INFO_FIELDS,
    CustomGraphQLEnumType,
    StrawberryField,
    exception_handlers,
    is_default_resolver,
    isoformat,
    permission_checks,
    strawberry_schema,
)

if TYPE_CHECKING:
    from fastpath.plans import FieldPlan
    from fastpath.runs import Run

#: The kinds of parameter a generated call passes by position.
_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)

#: Leaf types whose values of this exact Python type are their own serialization.
_AS_IS: dict[GraphQLLeafType, type] = {GraphQLString: str, GraphQLID: str, GraphQLBoolean: bool}

BuildObject = Callable[["Run", Any, Any], dict[str, Any]]


def coerce_leaf(leaf: GraphQLLeafType, non_null: bool, value: Any) -> Any:
    """A leaf value coerced as graphql-core does; `Abandon` (or what coercing raised)
    for anything graphql-core must report: a null for a non-null field, an error
    object, a value its type cannot serialize."""
    if value is None:
        if non_null:
            raise Abandon(NULL)
        return None
    if isinstance(value, BaseException):
        raise Abandon(RAISED)
    coerced = leaf.coerce_output_value(value)
    if coerced is None or coerced is Undefined:
        raise Abandon(LEAF)
    return coerced


def _serialized(leaf: GraphQLLeafType) -> tuple[type, str, str, Any] | None:
    """How a value of one exact Python type serializes as the leaf type would, when it
    does so without a call: that type, the expression of its serialization (`{0}`
    stands for the field's number), a further test, and a constant the expression
    uses. A String, ID or Boolean of its exact type is itself; an enum member is
    named by dictionary; an `int` is itself as an Int64 or Duration (serialized by
    `int`) and as an Int that fits in 32 bits; a `datetime` is its ISO text as a
    DateTime (serialized by its `isoformat`)."""
    if leaf in _AS_IS:
        return _AS_IS[leaf], "value", "", None
    serialize = leaf.coerce_output_value
    if isinstance(leaf, CustomGraphQLEnumType):
        enum: type[Enum] = leaf.wrapped_cls  # type: ignore[assignment]
        names = {member: serialize(member) for member in enum}
        return enum, "constant_{0}[value]", "", names
    if serialize is int:
        return int, "value", "", None
    if leaf is GraphQLInt:
        return int, "value", f" and {GRAPHQL_MIN_INT} <= value <= {GRAPHQL_MAX_INT}", None
    if serialize is isoformat:
        kind = {"DateTime": datetime, "Date": date, "Time": time}.get(leaf.name)
        return (kind, "value.isoformat()", "", None) if kind else None
    return None


def leaf_serializer(
    leaf: GraphQLLeafType, non_null: bool
) -> tuple[type | None, Callable[[Any], Any] | None]:
    """How `Run.complete` serializes a resolver's leaf value of one exact Python type
    as the object functions below serialize an attribute's (`_serialized`): that
    type, and a function of the value, None when the value is its own serialization.
    (None, None) for a leaf that has no such type."""
    fast = _serialized(leaf)
    if fast is None:
        return None, None
    kind, serialized, test, constant = fast
    if serialized == "value" and not test:
        return kind, None
    namespace = {"constant_0": constant, "coerce": partial(coerce_leaf, leaf, non_null)}
    expression = f"{serialized.format(0)} if True{test} else coerce(value)"
    source = f"def serialize(value):\n    return {expression}\n"
    exec(compile(source, "<leaf>", "exec"), namespace)  # noqa: S102
    return kind, namespace["serialize"]


def compile_object(fields: tuple[FieldPlan, ...]) -> BuildObject:
    """`build(run, source, path)`: the object's data, its fields in the document's order."""
    namespace: dict[str, Any] = {}
    lines = ["def build(run, source, path):"]
    _object_lines(fields, "source", "result", "path", "    ", "", namespace, lines)
    lines.append("    return result")
    exec(compile("\n".join(lines) + "\n", "<object plan>", "exec"), namespace)  # noqa: S102
    return namespace["build"]  # type: ignore[no-any-return]


def _object_lines(
    fields: tuple[FieldPlan, ...],
    source: str,
    result: str,
    path: str,
    indent: str,
    tag: str,
    namespace: dict[str, Any],
    lines: list[str],
) -> None:
    """The lines that make `result`, the data of the object `source` (at `path`), and
    put what they use in `namespace` under names ending in the field's tag: its
    number, after its parent's tag for a field of an object built inline."""
    from fastpath.plans import Object  # plans imports this module

    lines.append(f"{indent}{result} = {{}}")
    for m, field in enumerate(fields):
        n, key = f"{tag}{m}", repr(field.key)
        into = f"{indent}{result}[{key}] ="
        if field.plain is None:
            namespace[f"field_{n}"] = field
            completion = field.completion
            fallback = f"run.attribute(field_{n}, value, {source}, {path}, {result})"
            if field.attribute is None:
                lines.append(f"{into} run.field(field_{n}, {source}, {path}, {result})")
            elif isinstance(completion, Object) and completion.origin and not completion.paths:
                # An object of its type's own class, built here, without a path, as
                # `Run.attribute` would build it (a member's profile).
                namespace[f"origin_{n}"] = completion.origin
                lines.append(f"{indent}value = {source}.{field.attribute}")
                lines.append(f"{indent}if type(value) is origin_{n}:")
                lines.append(f"{indent}    source_{n} = value")
                inner = (f"source_{n}", f"result_{n}", "None", f"{indent}    ", f"{n}_")
                _object_lines(completion.plan.fields, *inner, namespace, lines)
                lines.append(f"{indent}    {result}[{key}] = result_{n}")
                lines.append(f"{indent}else:")
                lines.append(f"{indent}    {result}[{key}] = {fallback}")
            else:
                lines.append(f"{indent}value = {source}.{field.attribute}")
                lines.append(f"{into} {fallback}")
            continue
        attribute, read, leaf, non_null = field.plain
        if read is getattr and _is_name(attribute):
            lines.append(f"{indent}value = {source}.{attribute}")
        else:
            namespace[f"read_{n}"] = read
            lines.append(f"{indent}value = read_{n}({source}, {attribute!r})")
        namespace[f"coerce_{n}"] = partial(coerce_leaf, leaf, non_null)
        fast = _serialized(leaf)
        if fast is None:
            value = f"coerce_{n}(value)"
        else:
            kind, serialized, test, constant = fast
            namespace[f"type_{n}"], namespace[f"constant_{n}"] = kind, constant
            null = "" if non_null else "None if value is None else "
            value = (
                f"{serialized.format(n)} if type(value) is type_{n}{test} "
                f"else {null}coerce_{n}(value)"
            )
        lines.append(f"{into} {value}")


def read_by_default(field: GraphQLField) -> StrawberryField | None:
    """The field's definition when Strawberry resolves it by reading an attribute of its
    object (no resolver, field extension, permission or argument); else None."""
    definition = field.extensions.get("strawberry-definition")
    if not isinstance(definition, StrawberryField) or not definition.is_basic_field:
        return None
    if not is_default_resolver(field.resolve) or field.args:
        return None
    return definition


def object_attribute(field: GraphQLField) -> str | None:
    """The attribute a field without a resolver reads, if `source.<it>` reads it as
    Strawberry would (its default resolver is `getattr`)."""
    definition = read_by_default(field)
    if definition is None or definition.default_resolver is not getattr:
        return None
    return definition.python_name if _is_name(definition.python_name) else None


def _is_name(attribute: str) -> bool:
    """Whether `source.<attribute>` is valid Python that reads it."""
    return attribute.isidentifier() and not keyword.iskeyword(attribute)


def direct_call(
    schema: GraphQLSchema, field: GraphQLField, *, given: bool = False
) -> Callable[[Any, Any], Any] | None:
    """`call(source, resolve_info)`: the field's resolver as Strawberry would call it,
    for a resolver without field extensions or exception handlers, and without
    arguments, or (when the document `given` none) whose arguments all have plain
    defaults: Strawberry would pass each its default, which is the Python one."""
    definition = field.extensions.get("strawberry-definition")
    if not isinstance(definition, StrawberryField):
        return None
    checks = permission_checks(definition)
    if checks is None or (checks and field.args):
        return None
    if field.args and given:
        return None  # arguments of the document's: Strawberry's way converts them
    resolver = definition.base_resolver
    converted_from = strawberry_schema(schema)
    if resolver is None or converted_from is None or not callable(resolver.wrapped_func):
        return None
    if exception_handlers(converted_from, definition):
        return None
    if not _defaults_only(converted_from, field, resolver.arguments):
        return None
    as_source = [p.name for p in (resolver.parent_parameter, resolver.root_parameter) if p]
    info_name = resolver.info_parameter.name if resolver.info_parameter else None
    if not all(_is_name(name) for name in [*as_source, info_name or "info"]):
        return None
    # `call(source, resolve_info)`, generated with the resolver's own parameters, in
    # their order: no dictionary of keywords is made for each call.
    values = {name: "source" for name in as_source}
    if resolver.self_parameter is not None:
        values[resolver.self_parameter.name] = "source"
    if info_name is not None:
        values[info_name] = "info"
    order = list(inspect.signature(resolver.wrapped_func).parameters.values())
    defaulted = {argument.python_name for argument in resolver.arguments}
    order, rest = order[: len(values)], order[len(values) :]
    if [p.name for p in order] != list(values) or any(p.kind not in _POSITIONAL for p in order):
        return None
    if {p.name for p in rest} != defaulted:
        return None
    info_class = converted_from.config.info_class
    lines = ["def call(source, resolve_info):"]
    if (info_name is not None or checks) and _plain_info(info_class):
        # Strawberry's `Info`, a dataclass of these two fields, made as its `__init__`
        # makes it, without the call.
        lines.append("    info = new(info_class)")
        lines.append("    set(info, '__dict__', {'_raw_info': resolve_info, '_field': definition})")
    elif info_name is not None or checks:
        lines.append("    info = info_class(_raw_info=resolve_info, _field=definition)")
    for n in range(len(checks)):
        lines.append(f"    if check_{n}(source, info) is not True:")
        lines.append("        raise Abandon(REFUSED)")
    lines.append(f"    return function({', '.join(values[p.name] for p in order)})")
    namespace = {
        "function": resolver.wrapped_func,
        "info_class": info_class,
        "definition": definition,
        "new": object.__new__,
        "set": object.__setattr__,
        "Abandon": Abandon,
        "REFUSED": REFUSED,
        **{f"check_{n}": check for n, check in enumerate(checks)},
    }
    source = "\n".join(lines) + "\n"
    exec(compile(source, f"<call {definition.python_name}>", "exec"), namespace)  # noqa: S102
    return namespace["call"]  # type: ignore[no-any-return]


#: Defaults a resolver's argument may have to be called without it: Strawberry passes
#: them as they are, as Python would.
_PLAIN_DEFAULTS = (type(None), bool, int, str)


def _defaults_only(converted_from: Any, field: GraphQLField, arguments: list[Any]) -> bool:
    """Whether every argument has a plain Python default that is also its GraphQL
    default (or it has none and the Python default is null), and the field no other."""
    converter = converted_from.config.name_converter
    names = set()
    for argument in arguments:
        default = argument.default
        if type(default) not in _PLAIN_DEFAULTS:
            return False  # UNSET, an input object, an enum member: Strawberry converts
        name = converter.get_graphql_name(argument)
        names.add(name)
        declared = field.args.get(name)
        if declared is None:
            return False
        value = declared.default_value
        if value is Undefined and default is not None:
            return False
        if value is not Undefined and (type(value) is not type(default) or value != default):
            return False
    return names == set(field.args)


def _plain_info(info_class: type) -> bool:
    """Whether the schema's `Info` is Strawberry's dataclass of `_raw_info` and `_field`
    alone, which its `__init__` only sets."""
    if not dataclasses.is_dataclass(info_class) or hasattr(info_class, "__post_init__"):
        return False
    return [f.name for f in dataclasses.fields(info_class)] == INFO_FIELDS
