"""Queries whose SQL is built once, then run with each request's keys.

Building a Tortoise query (the pypika tree, then its SQL text) costs about as
much as running a small one: a quarter of a millisecond for the settings page's
member list, a sixth of the whole page's ORM time across its queries. A
DataLoader's query (or sign-in's) differs between requests only in its keys, so
`Prepared` builds it the first time for each database dialect and key count,
keeps the SQL, and afterwards hands Tortoise's own executor that SQL with the
new keys: the same statement, the same model objects, without rebuilding.

The builder must take everything that varies through its keys: the statement's
parameters must start with the keys, and whatever follows them (a LIMIT) is
kept as it was the first time.

It relies on Tortoise internals (`_make_query`, `_select_related_idx`, the
executor), which is why tortoise-orm is pinned to a minor version and
tests/test_prepared.py compares every prepared query with the plain queryset.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from tortoise.models import Model
from tortoise.queryset import QuerySet

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class _Compiled:
    sql: str
    select_related_idx: list[Any]
    #: Parameters after the keys, fixed by the builder (a LIMIT).
    tail: list[Any]


class Prepared(Generic[M]):
    """`await Prepared(lambda keys: Model.filter(x__in=keys)...)(keys)`: the models."""

    def __init__(self, build: Callable[[list[Any]], QuerySet[M]]) -> None:
        self.build = build
        self.compiled: dict[tuple[str, int], _Compiled | None] = {}

    async def __call__(self, keys: Sequence[Any]) -> list[M]:
        params = list(keys)
        query = self.build(params)
        db = query._choose_db()
        shape = (db.capabilities.dialect, len(params))
        if shape not in self.compiled:
            self.compiled[shape] = self._compile(query, params, db)
        compiled = self.compiled[shape]
        if compiled is None:
            # A query whose parameters are not exactly its keys runs as usual.
            return await query
        executor = db.executor_class(
            model=query.model,
            db=db,
            select_related_idx=list(compiled.select_related_idx),
        )
        models: list[M] = await executor.execute_select(
            compiled.sql, params + compiled.tail, custom_fields=[]
        )
        return models

    @staticmethod
    def _compile(query: QuerySet[M], params: list[Any], db: Any) -> _Compiled | None:
        if query._prefetch_map or query._annotations or query._single:
            return None
        query._db = db
        query._make_query()
        sql, values = query.query.get_parameterized_sql()
        if values[: len(params)] != params:
            return None
        return _Compiled(sql, list(query._select_related_idx), values[len(params) :])
