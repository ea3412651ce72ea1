"""Latency of the `storageUsage` query at 10 stored files and at 1,000,000.

    python -m bench.storage_usage [--files N] [--runs R] [--blocks B] [--database KIND]

Two databases, one holding an account with 10 files and one with N (1,000,000 by
default, bulk-inserted in one statement): SQLite files, and PostgreSQL schemas too
when TEST_DATABASE_URL is set (`tests/support/helpers.py` makes both; they are dropped
afterwards). The query runs through the real schema in-process, each run with a
fresh context (fresh DataLoaders) as a request would, in blocks alternating
between the databases; the figure is the ratio of the medians. The goal is a
ratio under 1.5: the query reads counters, never the file rows. Prints; asserts
nothing. Defaults come from BENCH_STORAGE_FILES, BENCH_STORAGE_RUNS and
BENCH_ROUNDS (the blocks).
"""

from __future__ import annotations

from tests.support import settings

settings.apply()

import argparse  # noqa: E402
import asyncio  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402

from starlette.requests import Request  # noqa: E402
from tortoise import Tortoise, connections  # noqa: E402
from tortoise.transactions import in_transaction  # noqa: E402

import config  # noqa: E402
from auth.accounts import user_for_claims  # noqa: E402
from auth.tokens import Claims  # noqa: E402
from bench.figures import Figure, render  # noqa: E402
from bench.servers import on_each_backend, orm, postgres_available  # noqa: E402
from models.storage import StorageCategory  # noqa: E402
from models.user import User  # noqa: E402
from resolvers.context import Context  # noqa: E402
from schema import schema  # noqa: E402
from services import storage_ledger  # noqa: E402
from services.storage_ledger import FileReport  # noqa: E402
from tests.support.helpers import create_database, drop_database  # noqa: E402

QUERY = """
{ viewer { storageUsage {
  usedBytes limitBytes fraction
  breakdown { category bytes }
  projects(first: 10) { projectName bytes }
} } }
"""
PROJECTS = 1000
FILES = int(os.environ.get("BENCH_STORAGE_FILES", "1000000"))
#: Queries timed at each size.
RUNS = int(os.environ.get("BENCH_STORAGE_RUNS", "1000"))
#: Measurements alternate between the sizes in this many blocks.
BLOCKS = int(os.environ.get("BENCH_ROUNDS", "10"))
GOAL = "< 1.5"
NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


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
    level = logger.level
    logger.addHandler(counter)
    logger.setLevel(logging.DEBUG)
    try:
        await schema.execute(QUERY, context_value=_context(user))
    finally:
        logger.removeHandler(counter)
        logger.setLevel(level)
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


def describe(files: int, timings: Sequence[float], statements: int) -> str:
    median = statistics.median(timings)
    p95 = statistics.quantiles(timings, n=20)[-1]
    return (
        f"{files:,} files: median {median:.3f} ms, p95 {p95:.3f} ms, "
        f"min {min(timings):.3f} ms, {statements} SQL statements"
    )


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


async def compare(kind: str, total_files: int, runs: int, blocks: int) -> Figure:
    """The figure of one database kind: `total_files` files against 10."""
    small_db = await create_database(kind, name="bench")
    large_db = await create_database(kind, name="bench")
    try:
        await fill(small_db.url, 10)
        seconds = await fill(large_db.url, total_files)
        # Blocks alternate between the two databases, so load from other work on
        # the machine falls on both sizes alike.
        timings: dict[str, list[float]] = {small_db.url: [], large_db.url: []}
        statements: dict[str, int] = {}
        for _ in range(blocks):
            for url, found in timings.items():
                async with orm(url):
                    user = await User.get(username="bench")
                    found += await measure(user, runs // blocks)
                    statements[url] = await _statements(user)
    finally:
        await drop_database(small_db)
        await drop_database(large_db)
    small, large = timings[small_db.url], timings[large_db.url]
    # The minimum is the least disturbed by other work on the machine.
    minimums = min(large) / min(small)
    return Figure(
        name=f"storageUsage at {total_files:,} vs 10 files, {NAMES[kind]}",
        measured=describe(total_files, large, statements[large_db.url]),
        baseline=describe(10, small, statements[small_db.url]),
        ratio=statistics.median(large) / statistics.median(small),
        goal=GOAL,
        note=(
            f"in-process, {len(large):,} queries a size in {blocks} alternating blocks; "
            f"ratio of minimums {minimums:.2f}; {total_files - 10:,} rows inserted in "
            f"{seconds:.0f} s"
        ),
    )


async def figures(kinds: Sequence[str], total_files: int, runs: int, blocks: int) -> list[Figure]:
    return [await compare(kind, total_files, runs, blocks) for kind in kinds]


async def every_kind(total_files: int, runs: int, blocks: int) -> list[Figure]:
    """SQLite, and PostgreSQL when TEST_DATABASE_URL is set."""
    return await on_each_backend(
        "storageUsage, PostgreSQL", lambda kind: figures([kind], total_files, runs, blocks)
    )


async def run() -> list[Figure]:
    return await every_kind(FILES, RUNS, BLOCKS)


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=FILES, help=f"stored files ({FILES:,})")
    parser.add_argument("--runs", type=int, default=RUNS, help=f"queries at each size ({RUNS})")
    parser.add_argument("--blocks", type=int, default=BLOCKS, help=f"alternations ({BLOCKS})")
    parser.add_argument("--database", choices=NAMES, help="one kind only")
    args = parser.parse_args()
    if args.database == "postgres" and not postgres_available():
        parser.error("PostgreSQL needs TEST_DATABASE_URL")
    if args.database:
        found = figures([args.database], args.files, args.runs, args.blocks)
    else:
        found = every_kind(args.files, args.runs, args.blocks)
    print(render(asyncio.run(found)))


if __name__ == "__main__":
    cli()
