"""Schema fuzzing with schemathesis: documents generated from the schema, valid and
not, for every query and mutation, sent to a live server over HTTP.

What every answer must be: not a 5xx, a JSON object with `data` or `errors`, each
error with an `extensions.code`, and none of them an internal failure (masked or
not: a masked one is still a crash the fuzzer found). `tests/security/test_fuzz.py` runs a
bounded number of examples; `make fuzz` sets FUZZ_EXAMPLES higher.
"""

from __future__ import annotations

import http.client
import json
import os
import time
import unittest
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.result import Err
from schemathesis.graphql import nodes

from schema import schema as app_schema

#: Examples per operation, generation mode and caller.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))

_INT64 = 2**63
schemathesis.graphql.scalar(
    "Int64",
    st.one_of(
        st.integers(min_value=-_INT64, max_value=_INT64 - 1),
        st.sampled_from([0, -1, 2**31, 2**53 + 1, _INT64 - 1, -_INT64]),
    ).map(nodes.Int),
)
schemathesis.graphql.scalar(
    "Duration",
    st.one_of(st.integers(min_value=-(2**70), max_value=2**70), st.floats()).map(
        lambda n: nodes.Int(n) if isinstance(n, int) else nodes.Float(n)
    ),
)
# A JSON request cannot carry a file: whatever stands in its place must be refused.
schemathesis.graphql.scalar("Upload", st.text(max_size=20).map(nodes.String))
schemathesis.graphql.scalar("DateTime", st.datetimes().map(lambda d: nodes.String(d.isoformat())))
#: Names the test world has (tests/security/test_fuzz.py): drawn often enough that documents
#: get past "not found" into the code that acts, with the other fields still fuzzed.
KNOWN_NAMES = ("alice", "root", "lab", "night-mode", "p", "r", "https://example.com")
schemathesis.graphql.scalar(
    "String", st.one_of(st.sampled_from(KNOWN_NAMES), st.text(max_size=80)).map(nodes.String)
)
schemathesis.graphql.scalar(
    "ID",
    st.one_of(st.integers(min_value=-1, max_value=5).map(str), st.text(max_size=20)).map(
        nodes.String
    ),
)

SCHEMA = schemathesis.graphql.from_dict(app_schema.introspect())


def operations() -> list[Any]:
    """Every root query and mutation field (subscriptions are tested over WebSocket)."""
    found = []
    for result in SCHEMA.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        found.append(result.ok())
    return found


@dataclass
class Finding:
    operation: str
    mode: str
    query: str
    status: int
    body: str

    def __str__(self) -> str:
        return f"{self.operation} ({self.mode}) -> HTTP {self.status}\n{self.query}\n{self.body}"


@dataclass
class Report:
    requests: int = 0
    seconds: float = 0.0
    findings: list[Finding] = field(default_factory=list)
    codes: dict[str, int] = field(default_factory=dict)


def problems(status: int, text: str) -> Iterator[str]:
    """What is wrong with one answer, if anything."""
    if status >= 500:
        yield f"HTTP {status}"
    try:
        body = json.loads(text)
    except json.JSONDecodeError:
        yield "not JSON"
        return
    if not isinstance(body, dict) or not ("data" in body or "errors" in body):
        yield "not a GraphQL response"
        return
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        if not code:
            yield f"error without extensions.code: {error.get('message')!r}"
        elif code == "INTERNAL_SERVER_ERROR":
            yield f"internal error at {error.get('path')}"


def error_codes(text: str) -> list[str]:
    try:
        body = json.loads(text)
        return [str((e.get("extensions") or {}).get("code")) for e in body.get("errors") or []]
    except (json.JSONDecodeError, AttributeError):
        return []


def fuzz(
    url: str,
    headers: dict[str, str],
    *,
    examples: int = EXAMPLES,
    seed: int | None = None,
    after_each: Callable[[], int] | None = None,
) -> Report:
    """Runs the fuzzer against `url` (blocking: call it from a thread while the
    server runs in the event loop). `after_each` returns how many errors the
    server logged, so a failure logged but answered politely is found too."""
    report = Report()
    started = time.monotonic()
    client = _Client(url, headers)
    try:
        for operation in operations():
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                _fuzz_one(client, operation, mode, examples, seed, report, after_each)
    finally:
        client.close()
    report.seconds = time.monotonic() - started
    return report


class _Client:
    """POSTs GraphQL documents on one kept-alive connection (the standard library's)."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        parts = urlsplit(url)
        self.host, self.port, self.path = parts.hostname or "", parts.port or 80, parts.path
        self.headers = {**headers, "Content-Type": "application/json"}
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=30)

    def post(self, query: str) -> tuple[int, str]:
        body = json.dumps({"query": query})
        try:
            self.connection.request("POST", self.path, body, self.headers)
            response = self.connection.getresponse()
        except (http.client.HTTPException, ConnectionError):
            # The server closed the connection (after a 4xx, say): open another.
            self.connection.close()
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
            self.connection.request("POST", self.path, body, self.headers)
            response = self.connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")

    def close(self) -> None:
        self.connection.close()


def _fuzz_one(
    client: _Client,
    operation: Any,
    mode: GenerationMode,
    examples: int,
    seed: int | None,
    report: Report,
    after_each: Callable[[], int] | None,
) -> None:
    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        derandomize=seed is None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        status, text = client.post(case.body)
        report.requests += 1
        for code in error_codes(text):
            report.codes[code] = report.codes.get(code, 0) + 1
        found = list(problems(status, text))
        if after_each is not None and after_each():
            found.append("the server logged an error")
        if found:
            report.findings.append(
                Finding(
                    operation=operation.label,
                    mode=mode.value,
                    query=case.body,
                    status=status,
                    body=f"{'; '.join(found)}: {text[:500]}",
                )
            )

    if seed is not None:
        run = hypothesis_seed(seed)(run)
    try:
        run()
    except unittest.SkipTest:  # no negative document exists for this field
        pass
