"""Instructions per settings-page request, GraphQL against the floor: a count, not a time.

    python -m bench.instructions

The in-process requests of `bench.page_cpu` (the app called as an ASGI
application, SQLite), run under valgrind's cachegrind, which counts the
instructions the process executes: the same count for the same code and data,
however busy the machine is. Each side runs twice, after the same setup and
warm-up, with 0 and with `BENCH_INSTRUCTION_REQUESTS` (300) requests; the
difference over the requests is its count per request, and the ratio is the
floor's count over GraphQL's. valgrind runs Python about fifty times slower
(about four minutes in all, two runs at a time), so this is not part of `make
bench`: it is the figure to compare a change with on a noisy machine.
"""

from __future__ import annotations

from tests import settings

settings.apply()

import asyncio  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402

from bench.figures import Figure, render  # noqa: E402
from bench.floor import wrap  # noqa: E402
from bench.page_cpu import call, page_requests  # noqa: E402
from bench.servers import MEMBERS_EACH, TEAMS, bench_database, orm  # noqa: E402

REQUESTS = int(os.environ.get("BENCH_INSTRUCTION_REQUESTS", "300"))
WARM_UP = 50
SIDES = ("graphql", "floor")


async def requests_in_process(side: str, count: int) -> None:
    """The child's work: set up, warm up, then `count` requests to one side."""
    async with bench_database("sqlite") as bench, orm(bench.db.url):
        from app import create_app, tune_garbage_collector

        app = wrap(create_app(init_orm=False))
        request = page_requests(bench.authorization)[side]
        for _ in range(WARM_UP):
            await call(app, *request)
        tune_garbage_collector()
        for _ in range(count):
            await call(app, *request)


async def instructions(side: str, count: int, slots: asyncio.Semaphore) -> int:
    """What cachegrind counted for a child process doing `count` requests."""
    async with slots:
        child = await asyncio.create_subprocess_exec(
            "valgrind",
            "--tool=cachegrind",
            "--cache-sim=no",
            "--cachegrind-out-file=/dev/null",
            sys.executable,
            "-m",
            "bench.instructions",
            "--child",
            side,
            str(count),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        _, stderr = await child.communicate()
    found = re.search(rb"I\s+refs:\s+([\d,]+)", stderr)
    if child.returncode != 0 or found is None:
        raise RuntimeError(f"cachegrind run failed: {stderr.decode(errors='replace')[-2000:]}")
    return int(found.group(1).replace(b",", b""))


async def run() -> list[Figure]:
    name = "settings page instructions per request, floor vs GraphQL, SQLite"
    if shutil.which("valgrind") is None:
        return [Figure(name, "skipped: valgrind not found")]
    slots = asyncio.Semaphore(os.cpu_count() or 1)
    counts = await asyncio.gather(
        *(instructions(side, count, slots) for side in SIDES for count in (0, REQUESTS))
    )
    per_request = {
        side: (counts[2 * n + 1] - counts[2 * n]) / REQUESTS for n, side in enumerate(SIDES)
    }
    return [
        Figure(
            name=name,
            measured=f"GraphQL: {per_request['graphql'] / 1e6:.2f} M",
            baseline=f"floor: {per_request['floor'] / 1e6:.2f} M",
            ratio=per_request["floor"] / per_request["graphql"],
            note=f"cachegrind; in-process; {TEAMS} teams of {MEMBERS_EACH}; {REQUESTS} requests",
        )
    ]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        asyncio.run(requests_in_process(sys.argv[2], int(sys.argv[3])))
    else:
        print(render(asyncio.run(run())))
