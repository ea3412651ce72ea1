"""Automatic persisted queries against a real `uvicorn app:app` process."""

from __future__ import annotations

import hashlib

import aiohttp
import pytest

from auth.tokens import issue_token

pytestmark = pytest.mark.e2e
QUERY = "query Page { viewer { username betaFeatures { key enabled } } }"


def body(query: str | None, sha256: str) -> dict[str, object]:
    sent: dict[str, object] = {
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256}}
    }
    if query is not None:
        sent["query"] = query
    return sent


async def test_not_found_then_registered_then_run_by_hash_alone(live):
    headers = {"Authorization": f"Bearer {issue_token('erin')}"}
    sha256 = hashlib.sha256(QUERY.encode()).hexdigest()
    wrong = hashlib.sha256(b"{ viewer { name } }").hexdigest()
    answers = []

    async with aiohttp.ClientSession(headers=headers) as http:
        for sent in (
            body(None, sha256),
            body(QUERY, wrong),
            body(QUERY, sha256),
            body(None, sha256),
        ):
            async with http.post(f"{live.url}/graphql", json=sent) as response:
                answers.append((response.status, await response.json()))

    unknown, mismatched, registered, by_hash = answers
    assert unknown[1]["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert mismatched[1]["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert registered[0] == 200 and registered[1]["data"]["viewer"]["username"] == "erin"
    assert by_hash == registered
