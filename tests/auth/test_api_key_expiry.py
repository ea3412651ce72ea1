"""API keys' expiry: what `expiresAt` may be, and an expired key refused over HTTP, at a
socket's `connection_init`, and on a socket it opened before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiohttp

from models.api_key import ApiKey
from resolvers.api_keys import MAX_LIFETIME
from tests.support.helpers import sign_up
from tests.support.keys import basic, generate, new_key
from tests.support.ws import PROTOCOL, graphql_socket

VIEWER = "{ viewer { username } }"


def in_(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).isoformat()


async def test_expiry_in_the_past_too_far_or_without_a_time_zone_is_invalid(api):
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    too_far = datetime.now(UTC) + MAX_LIFETIME + timedelta(days=1)

    answers = [
        await generate(client, expiresAt=value)
        for value in (
            in_(-timedelta(seconds=1)),
            too_far.isoformat(),
            datetime.now().replace(tzinfo=None).isoformat(),
        )
    ]

    for generated in answers:
        assert [(e["field"], e["code"]) for e in generated["errors"]] == [("expiresAt", "INVALID")]
    assert await ApiKey.all().count() == 0


async def test_key_keeps_the_expiry_it_was_given(api):
    alice = await sign_up("alice")
    expires_at = (datetime.now(UTC) + timedelta(days=7)).replace(microsecond=0)

    generated = await generate(api.signed_in(alice), expiresAt=expires_at.isoformat())

    assert datetime.fromisoformat(generated["apiKey"]["expiresAt"]) == expires_at
    row = await ApiKey.get(id=int(generated["apiKey"]["id"]))
    assert row.expires_at == expires_at


async def test_key_minted_by_an_expiring_key_expires_no_later_than_it(api):
    alice = await sign_up("alice")
    ceiling = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0)
    parent = await generate(api.signed_in(alice), scopes=["ACCOUNT"], expiresAt=ceiling.isoformat())
    by_parent = api.signed_in(basic(parent["secret"]))

    defaulted = await generate(by_parent)
    later = await generate(by_parent, expiresAt=(ceiling + timedelta(hours=1)).isoformat())
    never = await generate(api.signed_in(alice))

    assert datetime.fromisoformat(defaulted["apiKey"]["expiresAt"]) == ceiling
    assert [(e["field"], e["code"]) for e in later["errors"]] == [("expiresAt", "INVALID")]
    # A session's own expiry does not pass on: only keys bound the keys they mint.
    assert never["apiKey"]["expiresAt"] is None


async def test_expired_key_is_refused_and_its_use_not_recorded(api):
    alice = await sign_up("alice")
    secret, key_id = await new_key(api, alice)
    expired_at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    await ApiKey.filter(id=int(key_id)).update(expires_at=expired_at)

    status, body = await api.signed_in(basic(secret)).post(VIEWER)

    assert status == 401
    [error] = body["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert error["message"] == "The API key expired at 2026-01-02T03:04:05+00:00."
    assert (await ApiKey.get(id=int(key_id))).last_used_at is None


async def test_expired_key_is_refused_at_connection_init(api, server):
    alice = await sign_up("alice")
    secret, key_id = await new_key(api, alice)
    await ApiKey.filter(id=int(key_id)).update(expires_at=datetime.now(UTC) - timedelta(seconds=1))

    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(f"{server.url}/graphql", protocols=(PROTOCOL,)) as ws,
    ):
        await ws.send_json({"type": "connection_init", "payload": {"Authorization": basic(secret)}})
        message = await ws.receive(timeout=10)

    assert (message.type, message.data) == (aiohttp.WSMsgType.CLOSE, 4401)
    assert str(message.extra).startswith("The API key expired at ")


async def test_socket_signed_in_with_a_key_is_closed_when_the_key_expires(api, server):
    alice = await sign_up("alice")
    secret, key_id = await new_key(api, alice)
    await ApiKey.filter(id=int(key_id)).update(expires_at=datetime.now(UTC) + timedelta(seconds=2))

    async with graphql_socket(server.url, basic(secret)) as socket:
        await socket.subscribe()
        while (message := await socket.ws.receive(timeout=10)).type == aiohttp.WSMsgType.TEXT:
            # The subscription may report the expiry before the socket closes.
            assert message.json()["type"] in ("next", "complete", "ping"), message.data

    assert (message.type, message.data) == (aiohttp.WSMsgType.CLOSE, 4401)
    assert str(message.extra).startswith("The API key expired at ")
