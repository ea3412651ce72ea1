"""API key management: generate (secret shown once), list, rename, delete."""

from __future__ import annotations

import hashlib

import pytest

from models.api_key import ApiKey
from tests.support.helpers import sign_up

GENERATE = """
mutation($input: GenerateApiKeyInput!) {
  generateApiKey(input: $input) {
    secret
    apiKey { id name description prefix createdAt lastUsedAt }
    errors { field message code }
  }
}
"""
LIST = "{ viewer { apiKeys { edges { node { id name description prefix lastUsedAt } } } } }"
RENAME = """
mutation($id: ID!, $name: String!) {
  renameApiKey(input: {id: $id, name: $name}) { apiKey { id name } errors { field code } }
}
"""
DELETE = (
    "mutation($id: String!) { deleteApiKey(input: {id: $id}) { success errors { field code } } }"
)


async def test_generated_key_is_shown_once_and_stored_only_as_a_hash(api):
    alice = await sign_up("alice")

    data = await api.signed_in(alice).execute(
        GENERATE, {"input": {"name": "laptop", "description": "my laptop"}}
    )

    payload = data["generateApiKey"]
    secret = payload["secret"]
    assert len(secret) == 40 and secret.isalnum()
    assert payload["apiKey"]["prefix"] == secret[:8]
    assert payload["apiKey"]["name"] == "laptop"
    row = await ApiKey.get(id=int(payload["apiKey"]["id"]))
    assert row.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    stored = [str(v) for v in (await ApiKey.filter(id=row.id).values())[0].values()]
    assert not any(secret in value for value in stored)
    listed = await api.signed_in(alice).execute(LIST)
    assert [edge["node"] for edge in listed["viewer"]["apiKeys"]["edges"]] == [
        {
            "id": payload["apiKey"]["id"],
            "name": "laptop",
            "description": "my laptop",
            "prefix": secret[:8],
            "lastUsedAt": None,
        }
    ]
    assert "secret" not in str(listed)


async def test_every_key_is_different(api):
    alice = await sign_up("alice")

    secrets = {
        (await api.signed_in(alice).execute(GENERATE, {"input": {"name": f"k{i}"}}))[
            "generateApiKey"
        ]["secret"]
        for i in range(5)
    }

    assert len(secrets) == 5


@pytest.mark.parametrize(
    ("name", "field"),
    [("", "name"), ("x" * 129, "name"), ("tab\there", "name")],
)
async def test_bad_key_name_is_invalid_and_creates_nothing(api, name, field):
    alice = await sign_up("alice")

    data = await api.signed_in(alice).execute(GENERATE, {"input": {"name": name}})

    assert data["generateApiKey"]["secret"] is None
    assert [(e["field"], e["code"]) for e in data["generateApiKey"]["errors"]] == [
        (field, "INVALID")
    ]
    assert await ApiKey.all().count() == 0


async def test_description_over_its_limit_is_invalid(api):
    alice = await sign_up("alice")

    data = await api.signed_in(alice).execute(
        GENERATE, {"input": {"name": "ok", "description": "d" * 1025}}
    )

    assert [e["field"] for e in data["generateApiKey"]["errors"]] == ["description"]


async def test_rename_key(api):
    alice = await sign_up("alice")
    made = await api.signed_in(alice).execute(GENERATE, {"input": {"name": "old"}})
    key_id = made["generateApiKey"]["apiKey"]["id"]

    data = await api.signed_in(alice).execute(RENAME, {"id": key_id, "name": "new"})

    assert data["renameApiKey"] == {"apiKey": {"id": key_id, "name": "new"}, "errors": []}
    assert (await ApiKey.get(id=int(key_id))).name == "new"


@pytest.mark.parametrize("mutation", [RENAME, DELETE])
async def test_another_users_key_is_not_found_and_unchanged(api, mutation):
    alice, bob = await sign_up("alice"), await sign_up("bob")
    made = await api.signed_in(alice).execute(GENERATE, {"input": {"name": "alice's"}})
    key_id = made["generateApiKey"]["apiKey"]["id"]

    data = await api.signed_in(bob).execute(mutation, {"id": key_id, "name": "stolen"})

    [payload] = data.values()
    assert payload["errors"] == [{"field": "id", "code": "NOT_FOUND"}]
    assert (await ApiKey.get(id=int(key_id))).name == "alice's"


@pytest.mark.parametrize("key_id", ["999999", "abc", "-1", "9" * 40, "9" * 18, "²", "٣"])
async def test_unknown_key_id_is_not_found(api, key_id):
    alice = await sign_up("alice")

    data = await api.signed_in(alice).execute(DELETE, {"id": key_id})

    assert data["deleteApiKey"] == {
        "success": False,
        "errors": [{"field": "id", "code": "NOT_FOUND"}],
    }


async def test_delete_key(api):
    alice = await sign_up("alice")
    made = await api.signed_in(alice).execute(GENERATE, {"input": {"name": "k"}})

    data = await api.signed_in(alice).execute(
        DELETE, {"id": made["generateApiKey"]["apiKey"]["id"]}
    )

    assert data["deleteApiKey"] == {"success": True, "errors": []}
    assert await ApiKey.all().count() == 0
