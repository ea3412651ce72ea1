"""The fast path keeps to API keys' scopes: each document of the differential test, and
mutations a key may not send, asked with keys of each scope (and an expired one),
answer exactly what stock execution answers, refusals included, first and as a known
query."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.documents import DOCUMENT_STORE
from app import create_app
from models.api_key import ApiKey
from schema import build_schema, schema
from tests.fastpath.documents import generated
from tests.fastpath.test_differential import WEB_DOCUMENTS, WEB_VARIABLES, answer, seeded
from tests.support.helpers import GraphQL
from tests.support.world import World

pytestmark = pytest.mark.skipif(
    getattr(schema, "fast_path", None) is None, reason="FAST_PATH=off: nothing to compare"
)

GENERATE = """
mutation($scopes: [ApiKeyScope!]) {
  generateApiKey(input: {name: "scoped", scopes: $scopes}) { apiKey { id } secret }
}
"""
#: Mutations each key below is refused (none runs: their answers would differ by the
#: rows the first app's call made).
REFUSED_MUTATIONS = {
    "generate a key": ('mutation { generateApiKey(input: {name: "x"}) { secret } }', None),
    "report a run": (
        'mutation { reportRunState(input: {entityName: "alice", projectName: "p", '
        'runName: "r", state: CRASHED}) { success } }',
        None,
    ),
}


def _basic(secret: str) -> str:
    return "Basic " + base64.b64encode(f"api:{secret}".encode()).decode()


async def key_callers(api: GraphQL, world: World) -> dict[str, dict[str, str]]:
    """Alice's keys: one per scope, and an expired one of every scope."""
    callers = {}
    for name, scopes in (
        ("READ key", ["READ"]),
        ("RUNS key", ["RUNS"]),
        ("ACCOUNT key", ["ACCOUNT"]),
        ("expired key", ["READ", "RUNS", "ACCOUNT"]),
    ):
        made = (await api.signed_in(world.admin).execute(GENERATE, {"scopes": scopes}))[
            "generateApiKey"
        ]
        callers[name] = {"Authorization": _basic(made["secret"])}
        if name == "expired key":
            await ApiKey.filter(id=int(made["apiKey"]["id"])).update(
                expires_at=datetime.now(UTC) - timedelta(seconds=1)
            )
    return callers


async def differences(
    callers: dict[str, dict[str, str]], documents: dict[str, tuple[str, Any]]
) -> tuple[list[Any], set[str]]:
    """Each (document, caller) whose answers differ, and the codes of the refusals seen."""
    fast, stock = (
        create_app(init_orm=False),
        create_app(init_orm=False, schema=build_schema(fast_path=False)),
    )
    DOCUMENT_STORE.clear()
    found, codes = [], set()
    for name, (document, variables) in documents.items():
        for caller, headers in callers.items():
            expected = await answer(stock, headers, document, variables)
            codes |= {e["extensions"]["code"] for e in expected[1].get("errors", [])}
            for attempt in ("first", "known"):
                got = await answer(fast, headers, document, variables)
                if got != expected:
                    found.append((name, caller, attempt, document, variables, got, expected))
    return found, codes


async def test_the_web_uis_queries_answer_keys_as_stock_execution_does(api):
    world = await seeded(api)
    callers = await key_callers(api, world)
    documents = {
        name: (document, WEB_VARIABLES.get(name)) for name, document in WEB_DOCUMENTS.items()
    }

    found, codes = await differences(callers, documents)

    assert found == []
    assert {"FORBIDDEN", "UNAUTHENTICATED"} <= codes


async def test_generated_queries_answer_keys_as_stock_execution_does(api):
    world = await seeded(api)
    callers = await key_callers(api, world)
    documents = {f"generated {n}": generated(schema._schema, n) for n in range(20)}

    found, codes = await differences(callers, documents)

    assert found == []
    assert "FORBIDDEN" in codes


async def test_refused_mutations_answer_as_stock_execution_does(api):
    world = await seeded(api)
    callers = await key_callers(api, world)
    refused = {name: callers[name] for name in ("READ key", "expired key")}

    found, codes = await differences(refused, REFUSED_MUTATIONS)

    assert found == []
    assert codes == {"FORBIDDEN", "UNAUTHENTICATED"}
