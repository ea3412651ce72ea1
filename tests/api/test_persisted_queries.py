"""Automatic persisted queries (Apollo's protocol) and the checked-document cache."""

from __future__ import annotations

import hashlib
import json

import pytest
from graphql import validate

from api.documents import DOCUMENT_STORE, Checked, Documents
from tests.support.helpers import costing, sign_up

VIEWER = "query Viewer { viewer { username } }"
RENAME = """
mutation Rename($name: String!) { updateUser(input: {name: $name}) { user { name } } }
"""


def sha256(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


def persisted(query: str) -> dict[str, object]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256(query)}}


@pytest.fixture(autouse=True)
def empty_store():
    DOCUMENT_STORE.clear()
    yield
    DOCUMENT_STORE.clear()


@pytest.fixture
def validations(monkeypatch):
    """How many times a document is validated, in the server running in this process."""
    calls = []

    def counting(*args, **kwargs):
        calls.append(args[1])
        return validate(*args, **kwargs)

    monkeypatch.setattr("strawberry.schema.schema.validate", counting)
    return calls


async def test_unknown_hash_answers_persisted_query_not_found(api):
    status, body = await api.post(None, extensions=persisted(VIEWER))

    assert status == 200
    assert body == {
        "errors": [
            {
                "message": "PersistedQueryNotFound",
                "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
            }
        ],
    }


async def test_known_hash_runs_the_registered_document_without_validating_it_again(
    api, validations
):
    client = api.signed_in(await sign_up("ada"))
    _, registered = await client.post(VIEWER, extensions=persisted(VIEWER))
    validated_once = len(validations)

    status, body = await client.post(None, extensions=persisted(VIEWER))

    assert registered == costing(2, {"viewer": {"username": "ada"}})
    assert (status, body) == (200, registered)
    assert validated_once == 1
    assert len(validations) == 1


async def test_known_hash_takes_variables_and_runs_mutations(api):
    client = api.signed_in(await sign_up("ada"))
    await client.post(RENAME, {"name": "Ada L."}, extensions=persisted(RENAME))

    _, body = await client.post(None, {"name": "Countess"}, extensions=persisted(RENAME))

    assert body == costing(3, {"updateUser": {"user": {"name": "Countess"}}})


async def test_known_hash_works_over_get(api):
    client = api.signed_in(await sign_up("ada"))
    await client.post(VIEWER, extensions=persisted(VIEWER))
    params = {"extensions": json.dumps(persisted(VIEWER)), "variables": "{}"}

    async with client.http.get(client.url, params=params, headers=client.headers) as response:
        body = await response.json()

    assert body == costing(2, {"viewer": {"username": "ada"}})


async def test_hash_that_does_not_match_the_query_is_refused_and_not_registered(api):
    client = api.signed_in(await sign_up("ada"))
    other = "query Other { viewer { name } }"

    _, refused = await client.post(VIEWER, extensions=persisted(other))
    _, under_sent_hash = await client.post(None, extensions=persisted(other))
    _, under_own_hash = await client.post(None, extensions=persisted(VIEWER))

    assert "data" not in refused  # refused before it ran
    assert refused["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT"}
    assert "sha256Hash" in refused["errors"][0]["message"]
    for body in (under_sent_hash, under_own_hash):
        assert body["errors"][0]["extensions"] == {"code": "PERSISTED_QUERY_NOT_FOUND"}


async def test_invalid_document_is_not_registered(api):
    invalid = "query Broken { viewer { noSuchField } }"

    _, first = await api.post(invalid, extensions=persisted(invalid))
    _, again = await api.post(None, extensions=persisted(invalid))

    assert first["errors"][0]["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}
    assert again["errors"][0]["extensions"] == {"code": "PERSISTED_QUERY_NOT_FOUND"}


@pytest.mark.parametrize(
    ("extension", "code"),
    [
        ({"version": 2, "sha256Hash": "0" * 64}, "PERSISTED_QUERY_NOT_SUPPORTED"),
        ({"version": 1, "sha256Hash": "not-a-hash"}, "BAD_USER_INPUT"),
        ("a string", "PERSISTED_QUERY_NOT_SUPPORTED"),
    ],
    ids=["version-2", "malformed-hash", "not-an-object"],
)
async def test_malformed_persisted_query_is_refused(api, extension, code):
    _, body = await api.post(None, extensions={"persistedQuery": extension})

    assert "data" not in body  # refused before it ran
    assert body["errors"][0]["extensions"] == {"code": code}


async def test_same_document_is_validated_once(api, validations):
    client = api.signed_in(await sign_up("ada"))

    for _ in range(3):
        await client.execute(VIEWER)

    assert len(validations) == 1


def test_persisted_store_is_bounded_by_count_and_by_characters():
    store = Documents(persisted=2, persisted_characters=10)
    store.persist("a" * 64, "1234")
    store.persist("b" * 64, "5678")
    store.query_for("a" * 64)  # used: "b" is now the oldest
    store.persist("c" * 64, "90")
    store.persist("d" * 64, "x" * 11)  # larger than the whole store: never kept

    assert list(store.persisted) == ["a" * 64, "c" * 64]
    assert store.persisted_characters == 6


def test_checked_documents_are_bounded():
    store = Documents(documents=2)
    for n in range(3):
        store.put((f"q{n}", ()), Checked(document=None, errors=()))  # type: ignore[arg-type]

    assert [key for key, _ in store.checked] == ["q1", "q2"]
