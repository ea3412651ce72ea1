"""CPU per settings-page request, in this process: GraphQL against the floor.

    python -m bench.page_cpu

No server process and no load generator: the app, with the floor beside it as
`bench.floor:app` serves them, is called as an ASGI application, in blocks of
requests that alternate between GraphQL and the floor, and each block's CPU time
(`time.process_time()`) is divided by its requests. The figure moves with the
throughput ratio of `bench.settings_page` without the noise of a load generator
sharing the cores, which makes it the one to compare changes with.
"""

from __future__ import annotations

from tests.support import settings

settings.apply()

import asyncio  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402
from collections.abc import Awaitable, Callable  # noqa: E402

from bench import page  # noqa: E402
from bench.figures import Figure, median, render  # noqa: E402
from bench.floor import PATH, wrap  # noqa: E402
from bench.servers import MEMBERS_EACH, TEAMS, bench_database, on_each_backend, orm  # noqa: E402
from bench.settings_page import NAMES, PAGE_QUERY, graphql_body  # noqa: E402
from tests.support.asgi import call  # noqa: E402

BLOCKS = int(os.environ.get("BENCH_ROUNDS", "10"))
REQUESTS = int(os.environ.get("BENCH_CPU_REQUESTS", "100"))


#: One in-process request: method, path, headers and body.
Request = tuple[str, str, dict[str, str], bytes]


def page_requests(
    authorization: str, sections: list[page.Section] | None = None
) -> dict[str, Request]:
    """The settings page as each side is asked for it: "graphql" (the document sent)
    and "floor" (which must be served with the same `sections`: see `bench.floor`)."""
    document = PAGE_QUERY if sections is None else page.document(sections)
    return {
        "graphql": (
            "POST",
            "/graphql",
            {"Content-Type": "application/json", "Authorization": authorization},
            graphql_body(document, persisted=False).encode(),
        ),
        "floor": ("GET", PATH, {"Authorization": authorization}, b""),
    }


async def cpu_ms(request: Callable[[], Awaitable[bytes]]) -> float:
    started = time.process_time()
    for _ in range(REQUESTS):
        await request()
    return (time.process_time() - started) / REQUESTS * 1000


async def page_cpu(kind: str) -> Figure:
    async with bench_database(kind) as bench, orm(bench.db.url):
        from app import create_app, tune_garbage_collector

        app = wrap(create_app(init_orm=False))
        requests = page_requests(bench.authorization)

        async def graphql() -> bytes:
            return await call(app, *requests["graphql"])

        async def floor() -> bytes:
            return await call(app, *requests["floor"])

        if json.loads(await graphql()) != json.loads(await floor()):
            raise AssertionError("the floor's JSON differs from the GraphQL answer")
        tune_garbage_collector()  # as the server's lifespan does
        blocks: dict[str, list[float]] = {"graphql": [], "floor": []}
        for n in range(BLOCKS + 1):
            order = [("graphql", graphql), ("floor", floor)]
            for label, request in order if n % 2 else reversed(order):
                spent = await cpu_ms(request)
                if n:  # the first round warms up
                    blocks[label].append(spent)
    ratios = [f / g for f, g in zip(blocks["floor"], blocks["graphql"], strict=True)]
    return Figure(
        name=f"settings page CPU per request, floor vs GraphQL, {NAMES[kind]}",
        measured=f"GraphQL: {median(blocks['graphql']):.2f} ms",
        baseline=f"floor: {median(blocks['floor']):.2f} ms",
        ratio=median(ratios),
        note=(
            f"in-process, no HTTP server; {TEAMS} teams of {MEMBERS_EACH}; "
            f"{BLOCKS} alternating blocks of {REQUESTS} requests"
        ),
    )


async def run() -> list[Figure]:
    async def measure(kind: str) -> list[Figure]:
        return [await page_cpu(kind)]

    return await on_each_backend("settings page CPU, PostgreSQL", measure)


if __name__ == "__main__":
    print(render(asyncio.run(run())))
