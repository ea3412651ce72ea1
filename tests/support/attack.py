"""The attack corpus: every test marked `@pytest.mark.attack("kind")` sends one attack
(a bad token, an abusive document, a hostile upload...) and checks that it is refused
with a clear error and that nothing was written. This plugin counts them, by kind and
backend, and prints the slowest of each kind at the end of the run: "fast" is shown,
not asserted. A test that sends several attacks records how many with
`count_as("attacks", n)`, and its time is shared among them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

KINDS = (
    "jwt",
    "graphql",
    "upload",
    "oauth",
    "slack",
    "injection",
    "flood",
    "server",
    "storage",
    "names",
)


@dataclass
class _Tally:
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    slowest: float = 0.0
    backends: dict[str, int] = field(default_factory=lambda: defaultdict(int))


_kinds: dict[str, str] = {}
_tallies: dict[str, _Tally] = defaultdict(_Tally)
#: Cells of the permission matrix (tests/security/test_permission_matrix.py) answered as expected.
_cells: dict[str, int] = defaultdict(int)


@pytest.fixture
def count_as(request: pytest.FixtureRequest) -> Callable[[str, int], None]:
    """Records a count on the test's report (what pytest's `record_property` does,
    without its warning under --junitxml, which CI uses)."""

    def record(name: str, value: int) -> None:
        request.node.user_properties.append((name, value))

    return record


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        marker = item.get_closest_marker("attack")
        if marker is None:
            continue
        kind = marker.args[0] if marker.args else ""
        if kind not in KINDS:
            raise pytest.UsageError(f"{item.nodeid}: attack kind must be one of {KINDS}")
        _kinds[item.nodeid] = kind


def _backend(nodeid: str) -> str:
    for backend in ("sqlite", "postgres"):
        if f"[{backend}" in nodeid:
            return backend
    return "no database"


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    cells = dict(report.user_properties).get("cells")
    if cells is not None and report.when == "call" and report.passed:
        _cells[_backend(report.nodeid)] += int(str(cells))
    kind = _kinds.get(report.nodeid)
    if kind is None:
        return
    tally = _tallies[kind]
    if report.when == "call":
        # A test that sends many attacks says how many; each is counted.
        count = int(str(dict(report.user_properties).get("attacks", 1)))
        tally.slowest = max(tally.slowest, report.duration / count)
        if report.passed:
            tally.passed += count
            tally.backends[_backend(report.nodeid)] += count
        elif report.failed:
            tally.failed += 1
    elif report.failed:  # setup or teardown
        tally.failed += 1
    elif report.skipped and report.when == "setup":
        tally.skipped += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _tallies and not _cells:
        return
    write = terminalreporter.write_line
    total = sum(t.passed for t in _tallies.values())
    failed = sum(t.failed for t in _tallies.values())
    terminalreporter.section("attack corpus and permission matrix")
    for kind in KINDS:
        tally = _tallies.get(kind)
        if tally is None:
            continue
        where = ", ".join(f"{n} {b}" for b, n in sorted(tally.backends.items()))
        write(
            f"{kind:<10} {tally.passed:>4} refused ({where})"
            f"{f', {tally.failed} FAILED' if tally.failed else ''}"
            f"{f', {tally.skipped} skipped' if tally.skipped else ''}"
            f"; slowest {tally.slowest * 1000:.0f} ms"
        )
    if _tallies:
        write(f"attack corpus: {total} attacks refused, {failed} failed")
    if _cells:
        where = ", ".join(f"{n} {b}" for b, n in sorted(_cells.items()))
        write(f"permission matrix: {sum(_cells.values())} cells as expected ({where})")
