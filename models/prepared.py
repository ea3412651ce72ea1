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
statement rather than once per row: half the cost (the settings page's 30
members with their users: 0.67 ms of CPU beyond the SQL with Tortoise's
executor, 0.34 ms this way, on SQLite; 0.56 and 0.25 ms on PostgreSQL).

It relies on Tortoise internals (`_make_query`, `_select_related_idx`, the
model's field lists), which is why tortoise-orm is pinned to a minor version and
tests/test_prepared.py compares every prepared query with the plain queryset.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from tortoise.models import Model
from tortoise.queryset import QuerySet, ValuesListQuery

M = TypeVar("M", bound=Model)
Q = TypeVar("Q", bound=QuerySet[Any] | ValuesListQuery[Literal[False]])
R = TypeVar("R")


@dataclass
class _Compiled:
    sql: str
    select_related_idx: list[Any]
    #: Parameters after the keys, fixed by the builder (a LIMIT).
    tail: list[Any]
    #: How to turn the statement's rows into models, learnt from its first row.
    rows: _Rows | None = field(default=None, compare=False)
    #: A values_list query's columns, with the conversion of each.
    columns: list[tuple[str, Callable[[Any], Any]]] = field(default_factory=list)


class _Statement(Generic[Q, R]):
    """A builder's statement, compiled once for each dialect and key count."""

    def __init__(self, build: Callable[[list[Any]], Q]) -> None:
        self.build = build
        self.compiled: dict[tuple[str, int], _Compiled | None] = {}
        #: The builder's model, once known: it chooses the connection (the
        #: transaction's, inside one) without building the query again.
        self.model: type[Model] | None = None

    async def __call__(self, keys: Sequence[Any]) -> list[R]:
        params = list(keys)
        query = None
        if self.model is None:
            query = self.build(params)
            self.model = query.model
        db = self.model._choose_db()
        shape = (db.capabilities.dialect, len(params))
        if shape not in self.compiled:
            query = query if query is not None else self.build(params)
            self.compiled[shape] = self._compile(query, params, db)
        compiled = self.compiled[shape]
        if compiled is None:
            # A query whose parameters are not exactly its keys runs as usual.
            return list(await (query if query is not None else self.build(params)))
        _, found = await db.execute_query(compiled.sql, params + compiled.tail)
        if not found:
            return []
        rows = self._rows(self.model, compiled, found)
        if rows is None:
            # Rows this cannot build: Tortoise builds them, from now on.
            self.compiled[shape] = None
            return list(await (query if query is not None else self.build(params)))
        return rows

    def _rows(
        self, model: type[Model], compiled: _Compiled, found: Sequence[Any]
    ) -> list[R] | None:
        raise NotImplementedError

    @staticmethod
    def _compile(query: Q, params: list[Any], db: Any) -> _Compiled | None:
        if getattr(query, "_prefetch_map", None) or query._annotations or query._single:
            return None
        query._db = db
        query._make_query()
        sql, values = query.query.get_parameterized_sql()
        if values[: len(params)] != params:
            return None
        if isinstance(query, ValuesListQuery):
            columns = [
                (key, query.resolve_to_python_value(query.model, name))
                for key, name in query.fields.items()
            ]
            return _Compiled(sql, [], values[len(params) :], columns=columns)
        return _Compiled(sql, list(query._select_related_idx), values[len(params) :])


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


class PreparedValues(_Statement[ValuesListQuery[Literal[False]], tuple[Any, ...]]):
    """`await PreparedValues(lambda keys: ....values_list("a", "b"))(keys)`: its tuples,
    each value converted as `values_list` converts it."""

    def _rows(
        self, model: type[Model], compiled: _Compiled, found: Sequence[Any]
    ) -> list[tuple[Any, ...]]:
        columns = compiled.columns
        return [tuple(convert(row[key]) for key, convert in columns) for row in found]


# Building the models.

#: How a column's value becomes the attribute's: as it is, through the field's
#: Python type (when not None), or through the field's `to_python_value`.
_AS_IS, _TYPED, _CONVERTED = 0, 1, 2


@dataclass(frozen=True)
class _Part:
    """The columns of one model in a row: the statement's model or one it joined."""

    model: type[Model]
    #: (position in the row, attribute, how to convert, the conversion)
    columns: tuple[tuple[int, str, int, Any], ...]
    #: Where a joined model goes: the path of the model it hangs on, and the attribute.
    parent: tuple[Any, ...]
    attribute: str | None
    path: tuple[Any, ...]
    custom_generated_pk: bool
    #: Where the primary key is in the row: NULL there means no joined row.
    pk_position: int

    @classmethod
    def plan(
        cls,
        model: type[Model],
        names: list[str],
        start: int,
        parent: tuple[Any, ...],
        attribute: str | None,
        path: tuple[Any, ...],
    ) -> _Part | None:
        meta = model._meta
        how: dict[str, tuple[str, int, Any]] = {}
        for key, attr, _ in meta.db_native_fields:
            how[key] = (attr, _AS_IS, None)
        for key, attr, f in meta.db_default_fields:
            how[key] = (attr, _TYPED, f.field_type)
        for key, attr, f in meta.db_complex_fields:
            how[key] = (attr, _CONVERTED, f.to_python_value)
        if sorted(names) != sorted(how):
            return None  # a partial row (`.only()`): left to Tortoise
        columns = tuple((start + n, *how[name]) for n, name in enumerate(names))
        custom_pk = meta.db_pk_column not in meta.generated_db_fields
        pk_position = start + names.index(meta.db_pk_column)
        return cls(model, columns, parent, attribute, path, custom_pk, pk_position)

    def build(self, row: Any) -> Model:
        instance = self.model.__new__(self.model)
        values = instance.__dict__
        values["_partial"] = False
        values["_saved_in_db"] = True
        values["_custom_generated_pk"] = self.custom_generated_pk
        values["_await_when_save"] = {}
        for position, attr, how, convert in self.columns:
            value = row[position]
            if how == _CONVERTED:
                value = convert(value)
            elif how == _TYPED and value is not None:
                value = convert(value)
            values[attr] = value
        return instance


@dataclass(frozen=True)
class _Rows:
    """The parts of a statement's rows, in column order, as `execute_select` reads them."""

    parts: tuple[_Part, ...]
    #: False when a part could not be planned: such rows are built by Tortoise.
    planned: bool

    @classmethod
    def plan(cls, model: type[Model], select_related_idx: list[Any], keys: Any) -> _Rows:
        names = list(keys)
        if not select_related_idx:
            part = _Part.plan(model, names, 0, (), None, (None,))
            return cls((part,) if part else (), part is not None)
        parts = []
        first_model, current, *_, path = select_related_idx[0]
        first = _Part.plan(first_model, names[:current], 0, (), None, tuple(path))
        parts.append(first)
        for related, count, *_, full_path in select_related_idx[1:]:
            *parent, attribute = full_path
            columns = [name.split(".", 1)[1] for name in names[current : current + count]]
            parts.append(
                _Part.plan(related, columns, current, tuple(parent), attribute, tuple(full_path))
                if count
                else None
            )
            current += count
        planned = all(p is not None for p in parts) and current == len(names)
        return cls(tuple(p for p in parts if p is not None), planned)

    def build(self, row: Any) -> Any:
        first, *related = self.parts
        instance = first.build(row)
        if not related:
            return instance
        built: dict[tuple[Any, ...], Model] = {first.path: instance}
        for part in related:
            obj = None if row[part.pk_position] is None else part.build(row)
            target = built.get(part.parent)
            if target is not None:
                object.__setattr__(target, f"_{part.attribute}", obj)
            if obj is not None:
                built[part.path] = obj
        return instance
