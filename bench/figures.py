"""What a bench module hands `python -m bench`: figures, one row of the table each.

The contract is one coroutine per module::

    async def run() -> list[Figure]

A module measures whatever it measures (start its own servers, load them from
another process, repeat rounds A B A B ... so noise cancels) and returns its
figures. `python -m bench` runs every module of its list and prints one table;
`python -m bench.<name>` runs one module alone and prints its rows the same way.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """One measured comparison: `measured` against `baseline`, and their ratio."""

    name: str
    #: What was measured, e.g. "412 req/s, p50 7.6 ms, p99 21 ms".
    measured: str
    #: What it is compared with, in the same words.
    baseline: str = ""
    #: measured / baseline (a median over rounds); None when a module has no ratio.
    ratio: float | None = None
    #: The target, as text: "≥ 0.75×", "< 1.2".
    goal: str = ""
    #: Anything a reader must know: "indicative", "not built yet".
    note: str = ""


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of values sorted in ascending order."""
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


def render(figures: Sequence[Figure]) -> str:
    """The table, in Markdown, so the README can hold it as printed."""
    header = ("figure", "measured", "baseline", "ratio", "goal", "note")
    rows = [header] + [
        (
            f.name,
            f.measured,
            f.baseline,
            f"{f.ratio:.2f}" if f.ratio is not None else "",
            f.goal,
            f.note,
        )
        for f in figures
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        return "| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(rows[0]), rule, *(line(row) for row in rows[1:])])
