"""`python -m bench` (what `make bench` runs): every bench module, one table.

Each module of `MODULES` exposes `async def run() -> list[Figure]` (see
`bench/figures.py`); its figures become rows of the table. A module not written
yet is a row saying so; one without that `run()` (none, or one that needs
arguments or returns something else) is run as `python -m bench.<name>` and its
own output is printed under the table.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import inspect
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable

from bench.figures import Figure, render

#: The bench modules, in the order of the table. Add one: one line here.
MODULES = [
    "bench.settings_page",
    "bench.scale_out",
    "bench.alert_ingestion",
    "bench.fanout",
    "bench.storage_usage",
]


async def run_module(name: str, unformatted: list[str]) -> list[Figure]:
    short = name.removeprefix("bench.")
    if importlib.util.find_spec(name) is None:
        return [Figure(short, "not built yet")]
    module = importlib.import_module(name)
    run: Callable[[], Awaitable[list[Figure]]] | None = getattr(module, "run", None)
    if run is not None and _takes_no_arguments(run):
        figures = await run()
        if all(isinstance(f, Figure) for f in figures):
            return figures
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", name],
        capture_output=True,
        text=True,
        check=False,
    )
    unformatted.append(f"## python -m {name}\n{done.stdout}{done.stderr}")
    return [Figure(short, "printed below the table (no run() -> list[Figure] yet)")]


def _takes_no_arguments(function: Callable[..., object]) -> bool:
    parameters = inspect.signature(function).parameters.values()
    return all(
        p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in parameters
    )


async def main(names: list[str]) -> None:
    figures: list[Figure] = []
    unformatted: list[str] = []
    started = time.monotonic()
    for name in names:
        print(f"... {name}", file=sys.stderr, flush=True)
        figures += await run_module(name, unformatted)
    print(render(figures))
    for text in unformatted:
        print("\n" + text.rstrip())
    print(f"\n({time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:] or MODULES))
