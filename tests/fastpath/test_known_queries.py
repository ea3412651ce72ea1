"""A known, valid query runs by its plan without Strawberry's extension hooks, and
answers what the usual way answers; everything else still goes the usual way."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from api.documents import DOCUMENT_STORE, CheckedDocuments
from api.view import GraphQLApp
from fastpath import PlannedSchema
from schema import schema
from tests.support.helpers import costing, sign_up

pytestmark = pytest.mark.skipif(
    not isinstance(schema, PlannedSchema), reason="FAST_PATH=off: no known query takes a short way"
)

VIEWER = "query Viewer { viewer { username teams { edges { node { name } } } } }"
ORGANIZATIONS = "query Organizations { organizations { name } }"
RENAME = "mutation Rename($name: String!) { updateUser(input: {name: $name}) { user { name } } }"


@pytest.fixture(autouse=True)
def empty_store() -> Iterator[None]:
    DOCUMENT_STORE.clear()
    yield
    DOCUMENT_STORE.clear()


@pytest.fixture
def hooked(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """The documents of the requests that went through Strawberry's extension hooks
    (in the server running in this process)."""
    documents: list[str | None] = []
    usual = CheckedDocuments.on_operation

    def counted(self: CheckedDocuments) -> Iterator[None]:
        documents.append(self.execution_context.query)
        yield from usual(self)

    monkeypatch.setattr(CheckedDocuments, "on_operation", counted)
    return documents


def persisted(query: str) -> dict[str, Any]:
    digest = hashlib.sha256(query.encode()).hexdigest()
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


async def test_a_known_query_skips_the_hooks_and_answers_the_same(api, hooked):
    client = api.signed_in(await sign_up("ada"))

    first = await client.post(VIEWER)
    again = await client.post(VIEWER)

    assert (
        first
        == again
        == (200, costing(104, {"viewer": {"username": "ada", "teams": {"edges": []}}}))
    )
    assert hooked == [VIEWER]


async def test_a_known_persisted_query_sent_by_hash_skips_the_hooks(api, hooked):
    client = api.signed_in(await sign_up("ada"))
    registered = await client.post(VIEWER, extensions=persisted(VIEWER))

    by_hash = await client.post(None, extensions=persisted(VIEWER))
    both = await client.post(VIEWER, extensions=persisted(VIEWER))

    assert registered == by_hash == both
    assert hooked == [VIEWER, VIEWER]  # a hash with its document is checked again


async def test_a_known_query_its_plan_cannot_answer_reports_as_the_usual_way(api, hooked, caplog):
    first = await api.post(ORGANIZATIONS)
    with caplog.at_level(logging.ERROR):
        again = await api.post(ORGANIZATIONS)

    assert first == again
    status, body = again
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
    assert hooked == [ORGANIZATIONS, ORGANIZATIONS]
    assert not caplog.records


async def test_mutations_invalid_documents_and_bad_variables_go_the_usual_way(api, hooked):
    client = api.signed_in(await sign_up("ada"))
    invalid = "query Invalid { viewer { nosuchfield } }"
    named = "query Named($name: String!) { user(username: $name) { username } }"

    renamed = [await client.post(RENAME, {"name": name}) for name in ("A", "B")]
    refused = [await client.post(invalid) for _ in range(2)]
    known = await client.post(named, {"name": "ada"})
    uncoerced = [await client.post(named, {"name": 7}) for _ in range(2)]

    assert [body["data"]["updateUser"]["user"]["name"] for _, body in renamed] == ["A", "B"]
    assert refused[0] == refused[1] and refused[0][1]["errors"]
    assert known == (200, costing(2, {"user": {"username": "ada"}}))
    assert uncoerced[0] == uncoerced[1] and uncoerced[0][1]["errors"]
    assert hooked == [RENAME, RENAME, invalid, invalid, named, named, named]


async def test_the_named_operation_of_a_known_document_runs(api, hooked):
    client = api.signed_in(await sign_up("ada"))
    document = f"{VIEWER}\n{ORGANIZATIONS}"

    viewer = [await client.post(document, operationName="Viewer") for _ in range(2)]
    organizations = await client.post(document, operationName="Organizations")
    unnamed = [await client.post(document) for _ in range(2)]

    assert (
        viewer[0]
        == viewer[1]
        == (200, costing(104, {"viewer": {"username": "ada", "teams": {"edges": []}}}))
    )
    assert organizations == (200, costing(21, {"organizations": []}))
    assert unnamed[0] == unnamed[1]  # no operation named: whatever the usual way makes of it
    assert hooked == [document, document, document]


@pytest.fixture
def viewed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The requests Strawberry's view answered (`GraphQLApp.run`), by method."""
    requests: list[str] = []
    usual = GraphQLApp.run

    async def counted(self: GraphQLApp, request: Any, *args: Any) -> Any:
        requests.append(request.scope.get("method", "WEBSOCKET"))
        return await usual(self, request, *args)

    monkeypatch.setattr(GraphQLApp, "run", counted)
    return requests


async def raw_post(
    api: Any, authorization: str, body: bytes, content_type: str = "application/json"
) -> tuple[int, str, bytes]:
    headers = {"Authorization": authorization, "Content-Type": content_type}
    async with api.http.post(api.url, data=body, headers=headers) as response:
        return response.status, response.headers["Content-Type"], await response.read()


async def test_a_known_query_posted_as_json_skips_the_view_and_answers_the_same(api, viewed):
    ada = await sign_up("ada")
    body = json.dumps({"query": VIEWER, "variables": None, "operationName": "Viewer"}).encode()

    first = await raw_post(api, ada.authorization, body)
    again = await raw_post(api, ada.authorization, body)
    with_charset = await raw_post(api, ada.authorization, body, "application/json; charset=utf-8")

    assert first == again == with_charset
    assert first[:2] == (200, "application/json")
    assert json.loads(first[2]) == costing(
        104, {"viewer": {"username": "ada", "teams": {"edges": []}}}
    )
    assert viewed == ["POST"]  # the first, which checked the document


async def test_what_the_short_way_does_not_take_the_view_answers(api, viewed):
    ada = await sign_up("ada")
    known = json.dumps({"query": VIEWER}).encode()
    await raw_post(api, ada.authorization, known)
    viewed.clear()

    cases = [
        (known, "text/plain"),  # not JSON by its content type
        (b"{", "application/json"),  # not JSON
        (b'"a string"', "application/json"),  # not an object
        (b"[" + known + b"]", "application/json"),  # a batch
        (json.dumps({"query": VIEWER, "variables": [1]}).encode(), "application/json"),
        (json.dumps({"query": VIEWER, "operationName": 7}).encode(), "application/json"),
        (json.dumps({"query": VIEWER, "extensions": "x"}).encode(), "application/json"),
    ]
    answers = [await raw_post(api, ada.authorization, b, t) for b, t in cases]

    assert viewed == ["POST"] * len(cases)
    assert [status for status, _, _ in answers] == [400] * len(cases)


async def test_sibling_fields_that_query_the_database_directly_both_answer(api):
    # Each root field queries the database itself, not through a DataLoader: on
    # SQLite the first holds the connection's lock until it is resumed.
    client = api.signed_in(await sign_up("ada"))
    document = '{ team(name: "none") { name } organizations(search: "x") { name } }'

    answers = [await asyncio.wait_for(client.post(document), 10) for _ in range(2)]

    assert answers[0] == answers[1] == (200, costing(23, {"team": None, "organizations": []}))
