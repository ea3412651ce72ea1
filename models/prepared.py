"""Queries whose SQL is built once, then run with each request's keys.

Building a Tortoise query (the pypika tree, then its SQL text) costs about as
much as running a small one: a quarter of a millisecond for the settings page's
member list, a sixth of the whole page's ORM time across its queries. A
DataLoader's query (or sign-in's) differs between requests only in its keys, so
`Prepared` builds it the first time for each database dialect and key count,
keeps the SQL, and afterwards runs that SQL with the new keys: the same
statement, the same model objects, without rebuilding. `PreparedValues` does
the same for a `values_list` query and answers its tuples.

The builder must take everything that varies through its keys: the statement's
parameters must start with the keys, and whatever follows them (a LIMIT) is
kept as it was the first time.

It also builds the model objects itself (`_Rows`), as Tortoise's
`Model._init_from_db` does but with each column's conversion looked up once per
statement rather than once per row: about half the CPU beyond the SQL
(docs/performance.md).

It relies on Tortoise internals (`_make_query`, `_select_related_idx`, the
model's field lists), which is why tortoise-orm is pinned to a minor version and
tests/models/test_prepared.py compares every prepared query with the plain queryset.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Generic, Literal, TypeVar, overload

from tortoise import context as tortoise_context
from tortoise.context import _current_context
from tortoise.fields.data import CharEnumFieldInstance, IntEnumFieldInstance
from tortoise.models import Model
from tortoise.queryset import QuerySet, ValuesListQuery
from tortoise.router import router as tortoise_router
from tortoise.timezone import get_default_timezone, get_use_tz

from models.timestamps import Timestamp

M = TypeVar("M", bound=Model)
Q = TypeVar("Q", bound=QuerySet[Any] | ValuesListQuery[Literal[False]])
R = TypeVar("R")
T = TypeVar("T", bound=tuple[Any, ...])


@dataclass
class _Compiled:
    sql: str
    select_related_idx: list[Any]
    #: Parameters after the keys, fixed by the builder (a LIMIT).
    tail: list[Any]
    #: How to turn the statement's rows into models, learnt from its first row.
    rows: _Rows | None = field(default=None, compare=False)
    #: A values_list query's row builder (`_compile_values`).
    values: Callable[[Any], tuple[Any, ...]] | None = None


class _Statement(Generic[Q, R]):
    """A builder's statement, compiled once for each dialect and key count."""

    def __init__(
        self, build: Callable[[list[Any]], Q], into: type[tuple[Any, ...]] = tuple
    ) -> None:
        self.build = build
        #: The class of a values_list query's rows: a named tuple of its columns, or tuple.
        self.into = into
        self.compiled: dict[tuple[str, int], _Compiled | None] = {}
        #: The builder's model, once known: it chooses the connection (the
        #: transaction's, inside one) without building the query again.
        self.model: type[Model] | None = None

    async def __call__(self, keys: Sequence[Any]) -> list[R]:
        params = list(keys)
        db, compiled, query = self._compiled(params)
        if compiled is None:
            # A query whose parameters are not exactly its keys runs as usual.
            return list(await (query if query is not None else self.build(params)))
        _, found = await db.execute_query(compiled.sql, params + compiled.tail)
        if not found:
            return []
        assert self.model is not None  # noqa: S101 - known once compiled
        rows = self._rows(self.model, compiled, found)
        if rows is None:
            # Rows this cannot build: Tortoise builds them, from now on.
            self.compiled[(db.capabilities.dialect, len(params))] = None
            return list(await (query if query is not None else self.build(params)))
        return rows

    def statement(self, keys: Sequence[Any]) -> tuple[str, list[Any]]:
        """The SQL and parameters run for `keys` on the database in use: the bench's
        floor runs these by hand."""
        params = list(keys)
        _, compiled, _ = self._compiled(params)
        if compiled is None:
            raise ValueError("this query is not prepared: it runs through Tortoise")
        return compiled.sql, params + compiled.tail

    def _compiled(self, params: list[Any]) -> tuple[Any, _Compiled | None, Q | None]:
        """The database, the statement compiled for it and this many keys, and the
        query if it had to be built."""
        query = None
        if self.model is None:
            query = self.build(params)
            self.model = query.model
        db = connection_of(self.model)
        shape = (db.capabilities.dialect, len(params))
        if shape not in self.compiled:
            query = query if query is not None else self.build(params)
            self.compiled[shape] = self._compile(query, params, db, self.into)
        return db, self.compiled[shape], query

    def _rows(
        self, model: type[Model], compiled: _Compiled, found: Sequence[Any]
    ) -> list[R] | None:
        raise NotImplementedError

    @staticmethod
    def _compile(
        query: Q, params: list[Any], db: Any, into: type[tuple[Any, ...]]
    ) -> _Compiled | None:
        if getattr(query, "_prefetch_map", None) or query._annotations or query._single:
            return None
        query._db = db
        query._make_query()
        sql, values = query.query.get_parameterized_sql()
        if values[: len(params)] != params:
            return None
        if isinstance(query, ValuesListQuery):
            build = _compile_values(query, into)
            return _Compiled(sql, [], values[len(params) :], values=build)
        return _Compiled(sql, list(query._select_related_idx), values[len(params) :])


#: Any prepared statement, as the bench's floor runs it (`_Statement.statement`).
Statement = _Statement[Any, Any]


class Prepared(_Statement[QuerySet[M], M]):
    """`await Prepared(lambda keys: Model.filter(x__in=keys)...)(keys)`: the models."""

    def _rows(
        self, model: type[Model], compiled: _Compiled, found: Sequence[Any]
    ) -> list[M] | None:
        if compiled.rows is None:
            compiled.rows = _Rows.plan(model, compiled.select_related_idx, found[0].keys())
        if not compiled.rows.planned:
            return None  # not whole models: `.only()`
        build = compiled.rows.build
        return [build(row) for row in found]


class PreparedValues(_Statement[ValuesListQuery[Literal[False]], T]):
    """`await PreparedValues(lambda keys: ....values_list("a", "b"))(keys)`: its tuples,
    each value converted as `values_list` converts it; with `into`, a named tuple
    class of as many fields, rows of that class (the settings page's member list:
    the columns it shows, without a `TeamMember` and a `User` built for each)."""

    @overload
    def __init__(
        self: PreparedValues[tuple[Any, ...]],
        build: Callable[[list[Any]], ValuesListQuery[Literal[False]]],
    ) -> None: ...

    @overload
    def __init__(
        self, build: Callable[[list[Any]], ValuesListQuery[Literal[False]]], into: type[T]
    ) -> None: ...

    def __init__(
        self,
        build: Callable[[list[Any]], ValuesListQuery[Literal[False]]],
        into: type[Any] = tuple,
    ) -> None:
        super().__init__(build, into)

    def _rows(self, model: type[Model], compiled: _Compiled, found: Sequence[Any]) -> list[T]:
        build = compiled.values
        assert build is not None  # noqa: S101 - a values_list query's is always made
        return [build(row) for row in found]  # type: ignore[misc] # rows of `into`


def connection_of(model: type[Model]) -> Any:
    """The connection `model._choose_db()` answers (the transaction's, inside one),
    found without walking the router and the context's connection handler, nine
    Python calls for each statement, when no router is set: the current storage's
    connection for the model's alias, if it is bound to the running loop (else
    Tortoise's own way, which replaces it)."""
    if tortoise_router._routers:
        return model._choose_db()
    context = _current_context.get() or tortoise_context._global_context
    if context is None:
        return model._choose_db()
    alias = model._meta.default_connection or ""
    found = context.connections._storage_var.get().get(alias)
    if found is None or found._bound_loop is not asyncio.get_running_loop():
        return model._choose_db()
    return found


async def side_by_side(
    model: type[Model], keys: Sequence[Any], *statements: Callable[[Sequence[Any]], Awaitable[R]]
) -> list[R]:
    """Each statement's answer for `keys`, in order: run side by side where the
    database runs statements at once (PostgreSQL's pool of connections, where one
    after the other they are as many round trips), and one after the other on
    SQLite, whose one connection runs them in turn anyway: there a task for each
    costs more than it saves. `model` chooses the database, the transaction's inside one."""
    if connection_of(model).capabilities.dialect == "sqlite":
        return [await statement(keys) for statement in statements]
    return list(await asyncio.gather(*(statement(keys) for statement in statements)))


# Building the models.

#: How a column's value becomes the attribute's: as it is, through the field's
#: Python type (when not None), through the field's `to_python_value`, or as the
#: generated source of `_compile_build` converts an enum or a `Timestamp` inline.
_AS_IS, _TYPED, _CONVERTED, _ENUM, _TIMESTAMP = range(5)


def _enum_member(enum_type: type[Enum]) -> tuple[dict[Any, Enum], Callable[[Any], Any]]:
    """An enum column's members by value, and Tortoise's conversion (`enum_type(value)`)
    for a value that is none of them: None, or one it refuses as Tortoise does."""
    members = {member.value: member for member in enum_type}

    def convert(value: Any) -> Any:
        return None if value is None else enum_type(value)

    return members, convert


def _conversion(field: Any) -> tuple[int, Any]:
    if isinstance(field, CharEnumFieldInstance | IntEnumFieldInstance):
        return _ENUM, _enum_member(field.enum_type)
    if type(field).to_python_value is Timestamp.to_python_value:
        return _TIMESTAMP, field.to_python_value
    return _CONVERTED, field.to_python_value


def _compile_build(
    model: type[Model], columns: tuple[tuple[int, str, int, Any], ...], custom_pk: bool
) -> Callable[[Any], Model]:
    """A function that builds `model` from a row, its columns read in one dictionary.

    The same as looping over `columns` for each row, with the loop, the unpacking
    and the test of how to convert each column done once here instead: the
    settings page builds about 120 models a request. The generated source reads
    like this, for a model with an id, a nullable name and a date-time:

        def build(row):
            instance = new(model)
            set(instance, "__dict__", {"_partial": False, ..., "id": row[0],
                "name": None if (v1 := row[1]) is None else convert_1(v1),
                "created_at": None if (v2 := row[2]) is None
                    else p2.astimezone(zone())
                    if type(p2 := parse(v2) if type(v2) is str else v2) is datetime
                    and p2.tzinfo is not None and use_tz()
                    else convert_2(v2)})
            return instance

    An enum column's value is looked up among its members, and a `Timestamp` (SQLite's
    ISO text parsed, or PostgreSQL's driver's date-time) put in Tortoise's zone when
    aware, as `Timestamp.to_python_value` does, without a call of ours for each (the
    page has 75 and 92 of them); any other value of theirs goes to the field's own
    conversion.
    """
    # `object.__setattr__`: a model's own `__setattr__` would see "__dict__" as a field.
    namespace: dict[str, Any] = {
        "new": model.__new__,
        "model": model,
        "set": object.__setattr__,
        **_TIMESTAMP_NAMES,
    }
    items = [
        '"_partial": False',
        '"_saved_in_db": True',
        f'"_custom_generated_pk": {custom_pk!r}',
        '"_await_when_save": {}',
    ]
    for n, (position, attr, how, convert) in enumerate(columns):
        if not attr.isidentifier():
            raise ValueError(f"unexpected attribute name {attr!r}")
        items.append(f'"{attr}": {_column_source(n, position, how, convert, namespace)}')
    source = (
        "def build(row):\n"
        "    instance = new(model)\n"
        f"    set(instance, '__dict__', {{{', '.join(items)}}})\n"
        "    return instance\n"
    )
    exec(compile(source, f"<build {model.__name__}>", "exec"), namespace)  # noqa: S102
    return namespace["build"]  # type: ignore[no-any-return]


#: What `_column_source`'s inline `Timestamp` conversion calls.
_TIMESTAMP_NAMES = {
    "datetime": datetime,
    "parse": datetime.fromisoformat,
    "use_tz": get_use_tz,
    "zone": get_default_timezone,
}


def _column_source(n: int, position: int, how: int, convert: Any, namespace: dict[str, Any]) -> str:
    """The expression of column `n`'s value (at `row[position]`), converted as `how`
    says; what it calls is put in `namespace`."""
    value, v, parsed = f"row[{position}]", f"v{n}", f"p{n}"
    if how == _AS_IS:
        return value
    namespace[f"convert_{n}"] = convert
    if how == _CONVERTED:
        return f"convert_{n}({value})"
    if how == _TYPED:
        return f"None if ({v} := {value}) is None else convert_{n}({v})"
    if how == _ENUM:
        namespace[f"members_{n}"], namespace[f"convert_{n}"] = convert
        return f"members_{n}[{v}] if ({v} := {value}) in members_{n} else convert_{n}({v})"
    return (
        f"None if ({v} := {value}) is None"
        f" else {parsed}.astimezone(zone())"
        f" if type({parsed} := parse({v}) if type({v}) is str else {v}) is datetime"
        f" and {parsed}.tzinfo is not None and use_tz()"
        f" else convert_{n}({v})"
    )


def _value_conversion(
    query: ValuesListQuery[Any], model: type[Model], name: str
) -> tuple[int, Any]:
    """How `values_list` converts the column of `name` (`user__username` reaches
    through a relation), as its `resolve_to_python_value` decides, classed as
    `_conversion` classes a model's columns."""
    meta = model._meta
    if name not in meta.fetch_fields:
        for group, how in ((meta.db_native_fields, _AS_IS), (meta.db_default_fields, _TYPED)):
            for _, attr, found in group:
                if attr == name:
                    return (how, None) if how == _AS_IS else (how, found.field_type)
        for _, attr, found in meta.db_complex_fields:
            if attr == name:
                return _conversion(found)
        related, _, rest = name.partition("__")
        if rest and related in meta.fetch_fields:
            relation: Any = meta.fields_map[related]
            return _value_conversion(query, relation.related_model, rest)
    return _CONVERTED, query.resolve_to_python_value(model, name)


def _compile_values(
    query: ValuesListQuery[Any], into: type[tuple[Any, ...]]
) -> Callable[[Any], tuple[Any, ...]]:
    """A function that makes a `values_list` row of `into` (a tuple, or a named tuple
    of as many fields) from a row of its statement, each value converted inline
    where `_compile_build` would convert it inline, else by `values_list`'s own
    conversion."""
    names = list(query.fields.values())
    if into is not tuple and len(getattr(into, "_fields", ())) != len(names):
        raise ValueError(f"{into.__name__} has not {len(names)} fields")
    namespace: dict[str, Any] = {
        "new": tuple.__new__,
        "into": into,
        **_TIMESTAMP_NAMES,
    }
    values = [
        _column_source(n, n, *_value_conversion(query, query.model, name), namespace)
        for n, name in enumerate(names)
    ]
    source = f"def build(row):\n    return new(into, ({''.join(v + ', ' for v in values)}))\n"
    exec(compile(source, f"<values {query.model.__name__}>", "exec"), namespace)  # noqa: S102
    return namespace["build"]  # type: ignore[no-any-return]


@dataclass(frozen=True)
class _Part:
    """The columns of one model in a row: the statement's model or one it joined."""

    #: Where a joined model goes: the path of the model it hangs on, and the attribute
    #: that keeps it there (`_entity` for `team.entity`).
    parent: tuple[Any, ...]
    slot: str
    path: tuple[Any, ...]
    #: Where the primary key is in the row: NULL there means no joined row.
    pk_position: int
    #: The model built from a row (`_compile_build`).
    build: Callable[[Any], Model]

    @classmethod
    def plan(
        cls,
        model: type[Model],
        names: list[str],
        positions: list[int],
        parent: tuple[Any, ...],
        attribute: str | None,
        path: tuple[Any, ...],
    ) -> _Part | None:
        """The part of `model`, its columns `names` at `positions` in the row."""
        meta = model._meta
        how: dict[str, tuple[str, int, Any]] = {}
        for key, attr, _ in meta.db_native_fields:
            how[key] = (attr, _AS_IS, None)
        for key, attr, f in meta.db_default_fields:
            how[key] = (attr, _TYPED, f.field_type)
        for key, attr, f in meta.db_complex_fields:
            how[key] = (attr, *_conversion(f))
        if sorted(names) != sorted(how):
            return None  # a partial row (`.only()`): left to Tortoise
        columns = tuple((at, *how[name]) for at, name in zip(positions, names, strict=True))
        custom_pk = meta.db_pk_column not in meta.generated_db_fields
        pk_position = positions[names.index(meta.db_pk_column)]
        build = _compile_build(model, columns, custom_pk)
        slot = f"_{attribute}" if attribute else ""
        return cls(parent, slot, path, pk_position, build)


@dataclass(frozen=True)
class _Rows:
    """The parts of a statement's rows, in column order, as `execute_select` reads them."""

    parts: tuple[_Part, ...]
    #: False when a part could not be planned: such rows are built by Tortoise.
    planned: bool

    @classmethod
    def plan(cls, model: type[Model], select_related_idx: list[Any], keys: Any) -> _Rows:
        # A model joined by two paths (`team__entity`, `team__organization`) has its
        # columns selected twice: as Tortoise reads the row (through a dictionary),
        # each name is taken once, at its first position.
        first_at: dict[str, int] = {}
        for at, name in enumerate(keys):
            first_at.setdefault(name, at)
        names, positions = list(first_at), list(first_at.values())
        if not select_related_idx:
            part = _Part.plan(model, names, positions, (), None, (None,))
            return cls((part,) if part else (), part is not None)
        parts = []
        first_model, current, *_, path = select_related_idx[0]
        first = _Part.plan(first_model, names[:current], positions[:current], (), None, tuple(path))
        parts.append(first)
        for related, count, *_, full_path in select_related_idx[1:]:
            *parent, attribute = full_path
            span = slice(current, current + count)
            columns = [name.split(".", 1)[1] for name in names[span]]
            parts.append(
                _Part.plan(
                    related, columns, positions[span], tuple(parent), attribute, tuple(full_path)
                )
                if count
                else None
            )
            current += count
        planned = all(p is not None for p in parts) and current == len(names)
        return cls(tuple(p for p in parts if p is not None), planned)

    def build(self, row: Any) -> Any:
        first = self.parts[0]
        instance = first.build(row)
        if len(self.parts) == 1:
            return instance
        built: dict[tuple[Any, ...], Model] = {first.path: instance}
        for part in self.parts[1:]:
            obj = None if row[part.pk_position] is None else part.build(row)
            target = built.get(part.parent)
            if target is not None:
                object.__setattr__(target, part.slot, obj)
            if obj is not None:
                built[part.path] = obj
        return instance
