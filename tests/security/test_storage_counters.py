"""Attacks on the storage counters: reports that add up past what a BIGINT holds
(2^63 - 1). Each is refused with LIMIT_EXCEEDED on `files` before any write, costs
a few reads, and leaves the entity able to report again, on every backend."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from resolvers.storage import MAX_FILE_BYTES, MAX_FILES_PER_CALL
from services.storage_ledger import MAX_ENTITY_BYTES
from tests.resolvers.test_storage import (
    assert_counters_match_files,
    files,
    record,
    viewer_usage,
)
from tests.support.helpers import count_queries, sign_up
from tests.support.rows import snapshot

CATEGORIES = ("RUN_FILES", "ARTIFACTS", "MEDIA")
#: Bytes of one call of the largest files the API takes: 10^18.
FULL_CALL_BYTES = MAX_FILES_PER_CALL * MAX_FILE_BYTES
#: Full calls that fit under the ceiling (4 of 10^18 under 2^62).
FULL_CALLS_ACCEPTED = MAX_ENTITY_BYTES // FULL_CALL_BYTES
#: Statements of a refused full call: the account, the entity's lock, the files
#: already recorded (two chunks of 500), the counters; and one to spare.
MAX_STATEMENTS_PER_REFUSAL = 6
WRITES = ("INSERT", "UPDATE", "DELETE")


def full_call(tag: str, size: int = MAX_FILE_BYTES) -> list[dict[str, Any]]:
    """The most files a call takes, each of the largest size, in every category."""
    return files(*[(f"{tag}/{i}", CATEGORIES[i % 3], size) for i in range(MAX_FILES_PER_CALL)])


def refused_for_the_ceiling(payload: dict[str, Any]) -> bool:
    ceiling = f"over the {MAX_ENTITY_BYTES} bytes that can be counted"
    errors = [(e["field"], e["code"], ceiling in e["message"]) for e in payload["errors"]]
    return payload["storageUsage"] is None and errors == [("files", "LIMIT_EXCEEDED", True)]


async def fill_near_the_ceiling(client: Any) -> None:
    for call in range(FULL_CALLS_ACCEPTED):
        payload = await record(client, "alice", f"p{call}", full_call(f"c{call}"))
        assert payload["errors"] == []


@pytest.mark.attack("storage")
async def test_twenty_full_reports_stop_at_the_ceiling(api, count_as):
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    await fill_near_the_ceiling(client)
    before, usage = await snapshot(), await viewer_usage(client)

    with count_queries() as statements:
        refused = [
            await record(client, "alice", f"p{call % 3}", full_call(f"more{call}"))
            for call in range(FULL_CALLS_ACCEPTED, 20)
        ]
    count_as("attacks", len(refused))

    assert all(refused_for_the_ceiling(payload) for payload in refused)
    assert await snapshot() == before
    assert await viewer_usage(client) == usage
    assert usage["usedBytes"] == FULL_CALLS_ACCEPTED * FULL_CALL_BYTES
    assert len(statements) <= MAX_STATEMENTS_PER_REFUSAL * len(refused)
    assert not [s for s in statements if s.lstrip().upper().startswith(WRITES)]
    later = await record(client, "alice", "p0", files(("later.log", "RUN_FILES", 10**15)))
    assert later["errors"] == []
    assert later["storageUsage"]["usedBytes"] == usage["usedBytes"] + 10**15
    await assert_counters_match_files()


@pytest.mark.attack("storage")
async def test_growing_recorded_files_past_the_ceiling_is_refused(api):
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    await fill_near_the_ceiling(client)
    assert (await record(client, "alice", "p", full_call("empty", size=0)))["errors"] == []
    before = await snapshot()

    payload = await record(client, "alice", "p", full_call("empty"))

    assert refused_for_the_ceiling(payload)
    assert await snapshot() == before
    await assert_counters_match_files()


@pytest.mark.attack("storage")
async def test_concurrent_full_reports_never_pass_the_ceiling(api, count_as):
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    calls = 2 * FULL_CALLS_ACCEPTED

    payloads = await asyncio.gather(
        *(record(client, "alice", f"p{call}", full_call(f"c{call}")) for call in range(calls))
    )
    count_as("attacks", calls - FULL_CALLS_ACCEPTED)

    refused = [p for p in payloads if p["errors"]]
    assert len(refused) == calls - FULL_CALLS_ACCEPTED
    assert all(refused_for_the_ceiling(payload) for payload in refused)
    assert (await viewer_usage(client))["usedBytes"] == FULL_CALLS_ACCEPTED * FULL_CALL_BYTES
    await assert_counters_match_files()
