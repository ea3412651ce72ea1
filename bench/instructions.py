"""Instructions per settings-page request, GraphQL against the floor: a count, not a time.

    python -m bench.instructions

The in-process requests of `bench.page_cpu` (the app called as an ASGI
application, SQLite), run under valgrind's cachegrind, which counts the
instructions the process executes: the same count for the same code and data,
however busy the machine is. Each side runs twice, after the same setup and
warm-up, with 0 and with `BENCH_INSTRUCTION_REQUESTS` (300) requests; the
difference over the requests is its count per request, and the ratio is the
floor's count over GraphQL's. A third side sends GraphQL's document to the app
built with `FAST_PATH=off`: stock Strawberry and graphql-core. valgrind runs
Python about fifty times slower (about four minutes in all, two runs at a time),
so this is not part of `make bench`: it is the figure to compare a change with
on a noisy machine.

    python -m bench.instructions --sections

The same for each part of the page (`bench.page.SECTIONS`): both sides run
without it, and the part's count on each side is the whole page's count less
that. Where the difference between the two sides lies (about ten minutes).
"""

from __future__ import annotations

from tests.support import settings

settings.apply()

import asyncio  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402

from bench import page  # noqa: E402
from bench.figures import Figure, render  # noqa: E402
from bench.floor import wrap  # noqa: E402
from bench.page_cpu import page_requests  # noqa: E402
from bench.servers import MEMBERS_EACH, TEAMS, bench_database, orm  # noqa: E402
from tests.support.asgi import call  # noqa: E402

REQUESTS = int(os.environ.get("BENCH_INSTRUCTION_REQUESTS", "300"))
#: Requests a side in `--sections`, which runs each side once a part and once whole.
SECTION_REQUESTS = int(os.environ.get("BENCH_SECTION_REQUESTS", "100"))
WARM_UP = 50
SIDES = ("graphql", "floor")
#: The page's document again, with the plan engine switched off (`FAST_PATH=off`).
STOCK = "stock"


def sections_without(dropped: str | None) -> list[page.Section]:
    """The page's parts, less the one whose field is `dropped` (if any)."""
    return [s for s in page.built_sections() if s.field != dropped]


async def requests_in_process(side: str, count: int, dropped: str | None = None) -> None:
    """The child's work: set up, warm up, then `count` requests to one side."""
    async with bench_database("sqlite") as bench, orm(bench.db.url):
        from app import create_app, tune_garbage_collector

        sections = sections_without(dropped)
        app = wrap(create_app(init_orm=False), sections)
        request = page_requests(bench.authorization, sections)[side]
        for _ in range(WARM_UP):
            await call(app, *request)
        tune_garbage_collector()
        for _ in range(count):
            await call(app, *request)


async def instructions(
    side: str, count: int, slots: asyncio.Semaphore, dropped: str | None = None
) -> int:
    """What cachegrind counted for a child process doing `count` requests."""
    environment = dict(os.environ)
    if side == STOCK:
        side, environment["FAST_PATH"] = "graphql", "off"
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
            *([dropped] if dropped else []),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            env=environment,
        )
        _, stderr = await child.communicate()
    found = re.search(rb"I\s+refs:\s+([\d,]+)", stderr)
    if child.returncode != 0 or found is None:
        raise RuntimeError(f"cachegrind run failed: {stderr.decode(errors='replace')[-2000:]}")
    return int(found.group(1).replace(b",", b""))


async def per_request(
    slots: asyncio.Semaphore,
    requests: int,
    dropped: str | None = None,
    sides: tuple[str, ...] = SIDES,
) -> dict[str, float]:
    """Each side's instructions per request, without the part `dropped`."""
    counts = await asyncio.gather(
        *(instructions(side, count, slots, dropped) for side in sides for count in (0, requests))
    )
    return {side: (counts[2 * n + 1] - counts[2 * n]) / requests for n, side in enumerate(sides)}


async def run() -> list[Figure]:
    name = "settings page instructions per request, floor vs GraphQL, SQLite"
    if shutil.which("valgrind") is None:
        return [Figure(name, "skipped: valgrind not found")]
    slots = asyncio.Semaphore(os.cpu_count() or 1)
    counted = await per_request(slots, REQUESTS, sides=(*SIDES, STOCK))
    note = f"cachegrind; in-process; {TEAMS} teams of {MEMBERS_EACH}; {REQUESTS} requests"
    return [
        Figure(
            name=name,
            measured=f"GraphQL: {counted['graphql'] / 1e6:.2f} M",
            baseline=f"floor: {counted['floor'] / 1e6:.2f} M",
            ratio=counted["floor"] / counted["graphql"],
            note=note,
        ),
        Figure(
            name=f"{name}, FAST_PATH=off",
            measured=f"GraphQL: {counted[STOCK] / 1e6:.2f} M",
            baseline=f"floor: {counted['floor'] / 1e6:.2f} M",
            ratio=counted["floor"] / counted[STOCK],
            note=f"{note}; stock Strawberry and graphql-core execution",
        ),
    ]


async def by_section() -> list[Figure]:
    """Each part's instructions on each side: the whole page's less the page's without it."""
    slots = asyncio.Semaphore(os.cpu_count() or 1)
    requests = SECTION_REQUESTS
    whole = await per_request(slots, requests)
    figures = []
    for section in page.built_sections():
        without = await per_request(slots, requests, section.field)
        graphql, floor = (whole[side] - without[side] for side in SIDES)
        figures.append(
            Figure(
                name=f"settings page part: {section.field}",
                measured=f"GraphQL: {graphql / 1e6:.2f} M",
                baseline=f"floor: {floor / 1e6:.2f} M",
                ratio=floor / graphql if graphql > 0 else None,
                note=f"GraphQL {(graphql - floor) / 1e6:+.2f} M; {requests} requests",
            )
        )
    figures.append(
        Figure(
            name="settings page, whole",
            measured=f"GraphQL: {whole['graphql'] / 1e6:.2f} M",
            baseline=f"floor: {whole['floor'] / 1e6:.2f} M",
            ratio=whole["floor"] / whole["graphql"],
            note=f"GraphQL {(whole['graphql'] - whole['floor']) / 1e6:+.2f} M",
        )
    )
    return figures


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        dropped = sys.argv[4] if len(sys.argv) > 4 else None
        asyncio.run(requests_in_process(sys.argv[2], int(sys.argv[3]), dropped))
    elif sys.argv[1:2] == ["--sections"]:
        print(render(asyncio.run(by_section())))
    else:
        print(render(asyncio.run(run())))
