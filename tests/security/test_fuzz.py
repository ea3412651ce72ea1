"""Schema fuzzing in the suite: a bounded run per backend and caller (see tests/fuzz.py)."""

from __future__ import annotations

import asyncio
import base64
import logging

import pytest

from seed import seed_catalog
from tests.support import fuzz
from tests.support.helpers import UNLIMITED, set_rate_limits, sign_up
from tests.support.team_helpers import make_team

GENERATE_KEY = 'mutation { generateApiKey(input: {name: "k"}) { secret } }'


class _Counter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


def summary(findings: list[fuzz.Finding]) -> str:
    """One example of each kind of failure, the shortest."""
    kinds: dict[tuple[str, str], fuzz.Finding] = {}
    for finding in findings:
        key = (finding.operation, finding.body.split(":")[0])
        if key not in kinds or len(finding.query) < len(kinds[key].query):
            kinds[key] = finding
    return f"{len(findings)} failing documents:\n\n" + "\n\n".join(map(str, kinds.values()))


@pytest.mark.parametrize("caller", ["anonymous", "user", "admin", "api-key"])
async def test_fuzzed_documents_never_fail_inside(api, monkeypatch, caller):
    # Fuzzed mutations must reach their checks, not stop at a rate limit.
    set_rate_limits(monkeypatch, UNLIMITED)
    alice, root = await sign_up("alice"), await sign_up("root", admin=True)
    await make_team("lab", alice, root)
    await seed_catalog()  # night-mode and the other beta features
    key = (await api.signed_in(alice).execute(GENERATE_KEY))["generateApiKey"]["secret"]
    headers = {
        "anonymous": {},
        "user": {"Authorization": alice.authorization},
        "admin": {"Authorization": root.authorization},
        "api-key": {"Authorization": "Basic " + base64.b64encode(f"api:{key}".encode()).decode()},
    }[caller]
    logged = _Counter()
    logging.getLogger("switchboard").addHandler(logged)

    def errors_logged() -> int:
        count, logged.count = logged.count, 0
        return count

    try:
        # The fuzzer blocks; the server goes on serving in this event loop.
        report = await asyncio.to_thread(fuzz.fuzz, api.url, headers, after_each=errors_logged)
    finally:
        logging.getLogger("switchboard").removeHandler(logged)

    print(
        f"\nfuzz as {caller}: {report.requests} documents in {report.seconds:.1f} s, "
        f"error codes {dict(sorted(report.codes.items()))}"
    )
    assert report.requests > 0
    assert not report.findings, summary(report.findings)
