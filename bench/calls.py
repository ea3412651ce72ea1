"""Python calls per settings-page request, GraphQL and the floor, by function.

    python -m bench.calls [TOP]

The in-process requests of `bench.page_cpu` (SQLite), each side warmed up, then
`BENCH_CALL_REQUESTS` (20) requests counted with `sys.setprofile`: every call
of a Python function, and every resumption of a coroutine or generator. The
count moves by a few calls from run to run (the event loop's timing), and tells
where a request's instructions go (`bench.instructions` counts those): the
functions called most, with how often a request. Not part of `make bench`.
"""

from __future__ import annotations

from tests.support import settings

settings.apply()

import asyncio  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from collections import Counter  # noqa: E402
from types import FrameType  # noqa: E402
from typing import Any  # noqa: E402

from bench.floor import wrap  # noqa: E402
from bench.page_cpu import page_requests  # noqa: E402
from bench.servers import bench_database, orm  # noqa: E402
from tests.support.asgi import call  # noqa: E402

REQUESTS = int(os.environ.get("BENCH_CALL_REQUESTS", "20"))
WARM_UP = 20

Function = tuple[str, int, str]


def _short(file_name: str) -> str:
    for marker in ("site-packages/", "lib/python3.11/", os.getcwd() + "/"):
        if marker in file_name:
            return file_name.split(marker, 1)[1]
    return file_name


async def counted_calls() -> dict[str, Counter[Function]]:
    counts: dict[str, Counter[Function]] = {}
    async with bench_database("sqlite") as bench, orm(bench.db.url):
        from app import create_app

        app = wrap(create_app(init_orm=False))
        for side, request in page_requests(bench.authorization).items():
            for _ in range(WARM_UP):
                await call(app, *request)
            seen: Counter[Function] = Counter()

            def profile(
                frame: FrameType, event: str, _: Any, seen: Counter[Function] = seen
            ) -> None:
                if event == "call":
                    code = frame.f_code
                    seen[(code.co_filename, code.co_firstlineno, code.co_name)] += 1

            sys.setprofile(profile)
            try:
                for _ in range(REQUESTS):
                    await call(app, *request)
            finally:
                sys.setprofile(None)
            counts[side] = seen
    return counts


def report(counts: dict[str, Counter[Function]], top: int) -> str:
    lines = []
    for side, seen in counts.items():
        lines.append(f"{side}: {sum(seen.values()) / REQUESTS:,.0f} Python calls a request")
        for (file_name, line, name), n in seen.most_common(top):
            lines.append(f"  {n / REQUESTS:7.1f}  {name}  ({_short(file_name)}:{line})")
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(asyncio.run(counted_calls()), int(sys.argv[1]) if sys.argv[1:] else 30))
