"""API keys as credentials: `Authorization: Basic base64(api:<key>)`, how sign-in reads
them, `lastUsedAt`, and the name W&B's SDK reads as the key. Scopes and expiry:
test_api_key_scopes.py, test_api_key_expiry.py."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from auth.api_keys import LAST_USED_RESOLUTION
from models.api_key import ApiKey
from tests.support.helpers import count_queries, sign_up
from tests.support.keys import GENERATE_INPUT, basic, new_key, scoped

DELETE = "mutation($id: String!) { deleteApiKey(input: {id: $id}) { success errors { code } } }"
VIEWER = "{ viewer { username } }"
KEYS = "{ viewer { apiKeys { edges { node { id name } } } } }"


async def test_api_key_signs_in_as_its_owner(api):
    alice = await sign_up("alice")
    secret, _ = await new_key(api, alice)

    data = await api.signed_in(basic(secret)).execute(VIEWER)

    assert data == {"viewer": {"username": "alice"}}


async def test_deleted_api_key_stops_working_at_once(api):
    alice = await sign_up("alice")
    secret, key_id = await new_key(api, alice)
    await api.signed_in(basic(secret)).execute(VIEWER)

    await api.signed_in(alice).execute(DELETE, {"id": key_id})
    status, body = await api.signed_in(basic(secret)).post(VIEWER)

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
    status, body = await api.signed_in(authorization).post(VIEWER)

    assert status == 401
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_api_key_under_another_login_is_refused(api):
    alice = await sign_up("alice")
    secret, _ = await new_key(api, alice)

    status, _ = await api.signed_in(basic(secret, login="alice")).post(VIEWER)

    assert status == 401


async def test_scopes_and_expiry_are_read_in_the_sign_in_statement(api):
    alice = await sign_up("alice")
    tracker = await scoped(api, alice, "READ", "RUNS")
    await api.signed_in(tracker).execute(VIEWER)  # its first use writes `lastUsedAt`

    with count_queries() as seen:
        await api.signed_in(tracker).execute(VIEWER)

    assert [s for s in seen if '"api_key"' in s and not s.startswith("SELECT")] == []
    assert len([s for s in seen if s.startswith("SELECT") and 'FROM "api_key"' in s]) == 1


async def test_last_used_at_is_written_once_per_resolution(api):
    alice = await sign_up("alice")
    secret, key_id = await new_key(api, alice)
    client = api.signed_in(basic(secret))

    await client.execute(VIEWER)
    first = (await ApiKey.get(id=int(key_id))).last_used_at
    with count_queries() as again:
        await client.execute(VIEWER)
    second = (await ApiKey.get(id=int(key_id))).last_used_at
    stale = datetime.now(UTC) - LAST_USED_RESOLUTION - timedelta(seconds=1)
    await ApiKey.filter(id=int(key_id)).update(last_used_at=stale)
    await client.execute(VIEWER)
    third = (await ApiKey.get(id=int(key_id))).last_used_at

    assert first is not None
    assert (second, [s for s in again if s.startswith("UPDATE")]) == (first, [])
    assert third is not None and third > stale


async def test_unnamed_key_is_answered_by_itself_and_stored_by_its_label(api):
    alice = await sign_up("alice")

    data = await api.signed_in(alice).execute(
        GENERATE_INPUT, {"input": {"description": "from the sdk"}}
    )
    listed = await api.signed_in(alice).execute(KEYS)

    generated = data["generateApiKey"]
    assert generated["apiKey"]["name"] == generated["secret"]
    [node] = [edge["node"] for edge in listed["viewer"]["apiKeys"]["edges"]]
    assert node["name"] == "from the sdk"
    row = await ApiKey.get(id=int(node["id"]))
    assert row.name == "from the sdk"
    stored = [str(value) for value in (await ApiKey.filter(id=row.id).values())[0].values()]
    assert not any(generated["secret"] in value for value in stored)
