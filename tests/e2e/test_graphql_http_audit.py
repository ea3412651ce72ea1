"""graphql-http's server audit (the GraphQL over HTTP spec's conformance checks,
https://github.com/graphql/graphql-http) against a real `python cli.py serve`:
no audit may fail or warn.

The npm package is pinned in `audit/package-lock.json` and installed there with
`npm ci` on first use (`audit/node_modules`, not committed). Without node and npm
the test is skipped; with CI_REQUIRE_AUDIT=1 (set by .ci/run) it fails instead.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

AUDIT = Path(__file__).parent / "audit"
RUNNER = AUDIT / "graphql_http_audit.mjs"


def unavailable(reason: str) -> None:
    if os.environ.get("CI_REQUIRE_AUDIT") == "1":
        pytest.fail(f"CI_REQUIRE_AUDIT=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def node() -> str:
    """The node executable, with the audit's pinned packages installed."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        unavailable("node and npm are needed to run graphql-http's audit")
    assert node is not None and npm is not None  # noqa: S101 - for mypy: unavailable raised
    if not (AUDIT / "node_modules" / "graphql-http" / "package.json").exists():
        installed = subprocess.run(  # noqa: S603 - npm, fixed arguments
            [npm, "ci", "--no-audit", "--no-fund"], cwd=AUDIT, capture_output=True, text=True
        )
        if installed.returncode != 0:
            unavailable(f"npm ci failed: {installed.stderr[-2000:]}")
    return node


async def test_graphql_http_audit_finds_nothing_to_fix(live, node):
    audit = await asyncio.create_subprocess_exec(
        node, str(RUNNER), f"{live.url}/graphql", stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    stdout, stderr = await asyncio.wait_for(audit.communicate(), timeout=120)

    assert audit.returncode == 0, stderr.decode()
    results = [json.loads(line) for line in stdout.decode().splitlines()]
    assert len(results) >= 60  # graphql-http 1.23 has 61 audits
    assert [r for r in results if r["status"] != "ok"] == []
