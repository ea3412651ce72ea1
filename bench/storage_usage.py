"""Latency of the `storageUsage` query at 10 stored files and at 1,000,000.

    python -m bench.storage_usage [--files N] [--runs R]

Two databases, one holding an account with 10 files and one with N (1,000,000 by
default, bulk-inserted in one statement): SQLite files in a scratch directory, or
PostgreSQL schemas (dropped afterwards) when TEST_DATABASE_URL is set. The query
runs through the real schema in-process, each run with a fresh context (fresh
DataLoaders) as a request would, in blocks alternating between the databases.
The goal is a ratio under 1.5: the query reads counters, never the file rows.
Prints; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from starlette.requests import Request
from tortoise import Tortoise, connections
from tortoise.transactions import in_transaction

import config
from auth.accounts import user_for_claims
from auth.tokens import Claims
from models.storage import StorageCategory
from models.user import User
from resolvers import storage_ledger
from resolvers.context import Context
from resolvers.storage_ledger import FileReport
from schema import schema

QUERY = """
{ viewer { storageUsage {
  usedBytes limitBytes fraction
  breakdown { category bytes }
  projects(first: 10) { projectName bytes }
} } }
"""
PROJECTS = 1000
#: Measurements alternate between the sizes in this many blocks.
BLOCKS = 10


@asynccontextmanager
async def database() -> AsyncIterator[str]:
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        with tempfile.TemporaryDirectory(prefix="switchboard-bench-") as scratch:
            yield f"sqlite://{Path(scratch) / 'bench.sqlite3'}"
        return
    name = f"sbbench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    connection = await asyncpg.connect(base)
    try:
        await connection.execute(f'CREATE SCHEMA "{name}"')
        yield f"{base}?schema={name}"
    finally:
        await connection.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        await connection.close()


def _context(user: User) -> Context:
    request = Request({"type": "http", "method": "POST", "path": "/graphql", "headers": []})
    return Context(request=request, response=None, user=user)


class _Counter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


async def _statements(user: User) -> int:
    """SQL statements one storageUsage query runs."""
    logger, counter = logging.getLogger("tortoise.db_client"), _Counter()
    logger.addHandler(counter)
    logger.setLevel(logging.DEBUG)
    try:
        await schema.execute(QUERY, context_value=_context(user))
    finally:
        logger.removeHandler(counter)
        logger.setLevel(logging.WARNING)
    return counter.count


async def measure(user: User, runs: int) -> list[float]:
    """Milliseconds per query, after a warm-up."""
    for _ in range(max(20, runs // 4)):
        await schema.execute(QUERY, context_value=_context(user))
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        result = await schema.execute(QUERY, context_value=_context(user))
        timings.append((time.perf_counter() - started) * 1000)
        if result.errors:
            raise RuntimeError(result.errors)
    return timings


#: Numbered parameters in order of appearance: SQLite takes them as `?`.
INSERT_FILES = {
    # Synthetic, unique path hashes: SQLite has no SHA-256 built in.
    "sqlite": """
        INSERT INTO stored_file (entity_id, project_name, path, path_hash, category, size_bytes)
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)
        SELECT $2, 'project-' || (i % $3), 'files/' || i || '.bin', printf('%064d', i),
               CASE i % 3 WHEN 0 THEN 'RUN_FILES' WHEN 1 THEN 'ARTIFACTS' ELSE 'MEDIA' END,
               (i % 5000) + 1
        FROM n""",
    "postgres": """
        INSERT INTO stored_file (entity_id, project_name, path, path_hash, category, size_bytes)
        SELECT $1::int, 'project-' || (i % $2::int), 'files/' || i || '.bin',
               encode(sha256(('files/' || i || '.bin')::bytea), 'hex'),
               CASE i % 3 WHEN 0 THEN 'RUN_FILES' WHEN 1 THEN 'ARTIFACTS' ELSE 'MEDIA' END,
               (i % 5000) + 1
        FROM generate_series(1, $3::int) AS i""",
}
#: The counters as recording the files one call at a time would have left them.
RECOUNT = [
    "DELETE FROM storage_category_counter WHERE entity_id = $1",
    """INSERT INTO storage_category_counter (entity_id, category, bytes)
       SELECT entity_id, category, SUM(size_bytes) FROM stored_file
       WHERE entity_id = $1 GROUP BY entity_id, category""",
    "DELETE FROM storage_project_counter WHERE entity_id = $1",
    """INSERT INTO storage_project_counter (entity_id, project_name, bytes)
       SELECT entity_id, project_name, SUM(size_bytes) FROM stored_file
       WHERE entity_id = $1 GROUP BY entity_id, project_name""",
]


def _dialect(sql: str, kind: str) -> str:
    return re.sub(r"\$\d+", "?", sql) if kind == "sqlite" else sql


async def bulk_insert(entity_id: int, count: int, kind: str) -> None:
    """`count` more file rows in one statement, then the counters recomputed from them."""
    first = [count, entity_id, PROJECTS] if kind == "sqlite" else [entity_id, PROJECTS, count]
    # The transaction's own client: on SQLite the base one waits for the transaction's lock.
    async with in_transaction() as db:
        await db.execute_query(_dialect(INSERT_FILES[kind], kind), first)
        for statement in RECOUNT:
            await db.execute_query(_dialect(statement, kind), [entity_id])
    db = connections.get("default")
    await db.execute_query("ANALYZE")
    if kind == "sqlite":
        # Fold the bulk insert's write-ahead log into the database, as SQLite's
        # automatic checkpoints do in steady state.
        await db.execute_query("PRAGMA wal_checkpoint(TRUNCATE)")


def _line(files: int, timings: list[float], statements: int) -> str:
    median = statistics.median(timings)
    p95 = statistics.quantiles(timings, n=20)[-1]
    return (
        f"{files:>12,} files   median {median:6.3f} ms   p95 {p95:6.3f} ms   "
        f"min {min(timings):6.3f} ms   {statements} SQL statements"
    )


@asynccontextmanager
async def orm(url: str) -> AsyncIterator[None]:
    await Tortoise.init(config=config.tortoise_config(url))
    try:
        yield
    finally:
        await Tortoise.close_connections()


async def fill(url: str, total_files: int) -> float:
    """An account with `total_files` files; seconds spent on the bulk insert."""
    kind = config.database_kind(url)
    async with orm(url):
        await Tortoise.generate_schemas()
        user = await user_for_claims(Claims("bench", "", "Bench", issued_at=None))
        # Ten files in ten projects: the answer has the same shape at both sizes
        # (ten projects listed), so only the number of files differs.
        for i in range(10):
            report = FileReport(f"run/{i}.log", StorageCategory.RUN_FILES, 1000 + i)
            async with in_transaction():
                await storage_ledger.record(user.entity_id, f"project-{i}", [report])
        started = time.perf_counter()
        if total_files > 10:
            await bulk_insert(user.entity_id, total_files - 10, kind)
        return time.perf_counter() - started


async def main(total_files: int, runs: int) -> None:
    async with database() as small_url, database() as large_url:
        await fill(small_url, 10)
        seconds = await fill(large_url, total_files)
        kind = config.database_kind(large_url)
        print(f"storageUsage latency on {kind}, {runs} runs at each size, interleaved")
        print(f"  (inserted {total_files - 10:,} rows and recounted in {seconds:.1f} s)")
        # Blocks alternate between the two databases, so load from other work on
        # the machine falls on both sizes alike.
        timings: dict[str, list[float]] = {small_url: [], large_url: []}
        statements: dict[str, int] = {}
        for _ in range(BLOCKS):
            for url, found in timings.items():
                async with orm(url):
                    user = await User.get(username="bench")
                    found += await measure(user, runs // BLOCKS)
                    statements[url] = await _statements(user)
        small, large = timings[small_url], timings[large_url]
        print(_line(10, small, statements[small_url]))
        print(_line(total_files, large, statements[large_url]))
        print(
            f"ratio of medians: {statistics.median(large) / statistics.median(small):.2f}"
            " (goal < 1.5)"
        )
        # The minimum is the least disturbed by other work on the machine.
        print(f"ratio of minimums: {min(large) / min(small):.2f}")


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1_000_000, help="stored files (1000000)")
    parser.add_argument("--runs", type=int, default=1000, help="queries timed at each size (1000)")
    args = parser.parse_args()
    asyncio.run(main(args.files, args.runs))


if __name__ == "__main__":
    cli()
