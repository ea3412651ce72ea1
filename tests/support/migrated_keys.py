"""Prints the unique rules and indexes the models declare that the database lacks,
or "ok": run in a server's environment after `cli.py migrate`
(`python -m tests.support.migrated_keys`). An altered column once rebuilt an SQLite
table without them."""

from __future__ import annotations

import asyncio
from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient

import config

_PG_INDEXES = """
    SELECT array_agg(a.attname::text ORDER BY k.ord) AS columns
    FROM pg_index i
    JOIN pg_class t ON t.oid = i.indrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
    WHERE t.relname = $1 AND n.nspname = current_schema()
    GROUP BY i.indexrelid
"""


def _column(meta: Any, name: str) -> str:
    field = meta.fields_map[name]
    return str(getattr(field, "source_field", None) or meta.fields_db_projection[name])


async def _indexed(client: BaseDBAsyncClient, table: str) -> set[tuple[str, ...]]:
    """The column lists of the table's indexes (unique ones included)."""
    if client.capabilities.dialect == "postgres":
        rows = await client.execute_query_dict(_PG_INDEXES, [table])
        return {tuple(row["columns"]) for row in rows}
    found = set()
    for index in await client.execute_query_dict(f'PRAGMA index_list("{table}")'):
        info = await client.execute_query_dict(f'PRAGMA index_info("{index["name"]}")')
        found.add(tuple(row["name"] for row in sorted(info, key=lambda r: r["seqno"])))
    return found


async def missing() -> list[str]:
    client = Tortoise.get_connection("default")
    found = []
    for model in Tortoise.apps.get_models_iterable():
        meta = model._meta
        present = await _indexed(client, meta.db_table)
        for group in (*meta.unique_together, *meta.indexes):
            columns = tuple(_column(meta, f) for f in getattr(group, "fields", group))
            if columns not in present:
                found.append(f"{meta.db_table}{columns}")
    return found


async def main() -> None:
    await Tortoise.init(config=config.TORTOISE_ORM)
    try:
        print(" ".join(await missing()) or "ok")
    finally:
        await Tortoise.close_connections()


if __name__ == "__main__":
    asyncio.run(main())
