"""API keys as credentials: `Authorization: Basic base64(api:<key>)`."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from models.api_key import ApiKey
from tests.support.helpers import sign_up

GENERATE = """
mutation($name: String!) {
  generateApiKey(input: {name: $name}) { secret apiKey { id prefix } errors { field code } }
}
"""
DELETE = "mutation($id: String!) { deleteApiKey(input: {id: $id}) { success errors { code } } }"
VIEWER = "{ viewer { username apiKeys { lastUsedAt } } }"


def basic(secret: str, login: str = "api") -> str:
    return "Basic " + base64.b64encode(f"{login}:{secret}".encode()).decode()


async def _new_key(api, account) -> tuple[str, str]:
    data = await api.signed_in(account).execute(GENERATE, {"name": "laptop"})
    return data["generateApiKey"]["secret"], data["generateApiKey"]["apiKey"]["id"]


async def test_api_key_signs_in_as_its_owner(api):
    alice = await sign_up("alice")
    secret, _ = await _new_key(api, alice)

    data = await api.signed_in(basic(secret)).execute("{ viewer { username } }")

    assert data == {"viewer": {"username": "alice"}}


async def test_deleted_api_key_stops_working_at_once(api):
    alice = await sign_up("alice")
    secret, key_id = await _new_key(api, alice)
    await api.signed_in(basic(secret)).execute("{ viewer { username } }")

    await api.signed_in(alice).execute(DELETE, {"id": key_id})
    status, body = await api.signed_in(basic(secret)).post("{ viewer { username } }")

    assert status == 401
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    "authorization",
    [
        basic("x" * 40),  # well-formed, unknown
        basic("short"),
        basic("y" * 39 + "!"),
        "Basic !!!not-base64!!!",
        "Basic " + base64.b64encode(b"no-colon").decode(),
    ],
)
async def test_malformed_or_unknown_api_key_is_refused(api, authorization):
    status, body = await api.signed_in(authorization).post("{ viewer { username } }")

    assert status == 401
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_api_key_under_another_login_is_refused(api):
    alice = await sign_up("alice")
    secret, _ = await _new_key(api, alice)

    status, _ = await api.signed_in(basic(secret, login="alice")).post("{ viewer { username } }")

    assert status == 401


async def test_last_used_at_is_written_at_most_once_a_minute(api):
    alice = await sign_up("alice")
    secret, key_id = await _new_key(api, alice)

    await api.signed_in(basic(secret)).execute("{ viewer { username } }")
    first = (await ApiKey.get(id=int(key_id))).last_used_at
    await api.signed_in(basic(secret)).execute("{ viewer { username } }")
    second = (await ApiKey.get(id=int(key_id))).last_used_at
    await ApiKey.filter(id=int(key_id)).update(
        last_used_at=datetime.now(UTC) - timedelta(minutes=2)
    )
    await api.signed_in(basic(secret)).execute("{ viewer { username } }")
    third = (await ApiKey.get(id=int(key_id))).last_used_at

    assert first is not None
    assert second == first
    assert third is not None and third > first - timedelta(seconds=1)
    assert third > datetime.now(UTC) - timedelta(seconds=30)
