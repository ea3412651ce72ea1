"""`python -m bench` (what `make bench` runs): every bench module, one table.

    python -m bench [bench.<name> ...]

Each module of `MODULES` exposes `async def run() -> list[Figure]` (see
`bench/figures.py`); its figures become rows of the table. A module that fails
is a row saying so, its traceback on stderr, and the exit status is 1.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
import time
import traceback
from collections.abc import Awaitable, Callable

from bench.figures import Figure, render

#: The bench modules, in the order of the table. Add one: one line here.
MODULES = [
    "bench.settings_page",
    "bench.page_cpu",
    "bench.scale_out",
    "bench.alert_ingestion",
    "bench.deliveries",
    "bench.fanout",
    "bench.storage_usage",
]


async def run_module(name: str) -> list[Figure] | None:
    """The module's figures; None when it failed."""
    try:
        run: Callable[[], Awaitable[list[Figure]]] = importlib.import_module(name).run
        return await run()
    except Exception:  # one module's failure must not lose the other modules' rows
        traceback.print_exc()
        return None


async def main(names: list[str]) -> int:
    figures: list[Figure] = []
    failed = False
    started = time.monotonic()
    for name in names:
        print(f"... {name}", file=sys.stderr, flush=True)
        begun = time.monotonic()
        found = await run_module(name)
        print(f"    {time.monotonic() - begun:.0f} s", file=sys.stderr, flush=True)
        if found is None:
            failed = True
            found = [Figure(name.removeprefix("bench."), "failed: traceback on stderr")]
        figures += found
    print(render(figures))
    minutes, seconds = divmod(round(time.monotonic() - started), 60)
    print(f"\n({minutes} min {seconds:02d} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:] or MODULES)))
