"""Two server processes against one, on PostgreSQL (and Redis when TEST_REDIS_URL is set).

    python -m bench.scale_out

The same settings-page request (the web UI's persisted query) is spread over two
`uvicorn` processes or sent to one of them, in alternating rounds. On a 2-core
machine that also runs PostgreSQL and the load generator the ratio is indicative
only: it shows the processes share nothing that serialises them, not how far
they scale.
"""

from __future__ import annotations

from tests.support import settings

settings.apply()

import asyncio  # noqa: E402
import os  # noqa: E402

from bench.figures import Figure, render  # noqa: E402
from bench.loadgen import Load, LoadGenerator  # noqa: E402
from bench.servers import bench_database, postgres_available, servers  # noqa: E402
from bench.settings_page import (  # noqa: E402
    ROUNDS,
    SECONDS,
    describe,
    ratios,
    register_persisted_query,
    variants,
)


async def run() -> list[Figure]:
    name = "two processes vs one, PostgreSQL"
    if not postgres_available():
        return [Figure(name, "skipped: TEST_DATABASE_URL not set")]
    redis = os.environ.get("TEST_REDIS_URL", "")
    extra = {"REDIS_URL": redis} if redis else {}
    async with (
        bench_database("postgres", **extra) as bench,
        servers(bench.env, count=2) as pair,
        LoadGenerator.started() as load,
    ):
        persisted = all([await register_persisted_query(s.url, bench.authorization) for s in pair])
        request = variants(bench.authorization, persisted)[0].request
        both, one = [s.url for s in pair], [pair[0].url]
        await load.run(both, request, seconds=1.0, warmup=0.0)
        measured: dict[str, list[Load]] = {"two": [], "one": []}
        for n in range(ROUNDS):
            order = [("two", both), ("one", one)]
            for label, targets in order if n % 2 == 0 else reversed(order):
                measured[label].append(await load.run(targets, request, seconds=SECONDS))
    return [
        Figure(
            name=name + (" + Redis" if redis else ""),
            measured=describe("2 processes", measured["two"]),
            baseline=describe("1 process", measured["one"]),
            ratio=ratios(measured["two"], measured["one"]),
            note="indicative: 2 cores shared with PostgreSQL and the load generator",
        )
    ]


if __name__ == "__main__":
    print(render(asyncio.run(run())))
