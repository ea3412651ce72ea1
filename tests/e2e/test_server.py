"""The real server process: `cli.py migrate`, then `uvicorn app:app`, over HTTP and WebSocket."""

from __future__ import annotations

import json

import aiohttp
import pytest

from auth.tokens import issue_token
from tests.support.helpers import costing

pytestmark = pytest.mark.e2e
PROTOCOL = "graphql-transport-ws"


async def test_http_query_and_mutation(live):
    headers = {"Authorization": f"Bearer {issue_token('erin', email='erin@example.com')}"}
    mutation = 'mutation { updateUser(input: {bio: "from e2e"}) { user { bio } errors { code } } }'

    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.post(f"{live.url}/graphql", json={"query": mutation}) as response:
            updated = await response.json()
        async with http.post(
            f"{live.url}/graphql", json={"query": "{ viewer { username email bio } }"}
        ) as response:
            viewer = await response.json()

    assert updated == costing(104, {"updateUser": {"user": {"bio": "from e2e"}, "errors": []}})
    assert viewer == costing(
        4, {"viewer": {"username": "erin", "email": "erin@example.com", "bio": "from e2e"}}
    )


async def test_websocket_runs_an_operation_after_connection_init(live):
    token = issue_token("erin")

    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(f"{live.url}/graphql", protocols=(PROTOCOL,)) as ws,
    ):
        await ws.send_json(
            {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        )
        ack = await ws.receive_json(timeout=5)
        await ws.send_json(
            {"id": "1", "type": "subscribe", "payload": {"query": "{ viewer { username } }"}}
        )
        result = await ws.receive_json(timeout=5)
        complete = await ws.receive_json(timeout=5)

    assert ws.protocol == PROTOCOL
    assert ack["type"] == "connection_ack"
    assert result == {
        "id": "1",
        "type": "next",
        "payload": costing(2, {"viewer": {"username": "erin"}}),
    }
    assert complete == {"id": "1", "type": "complete"}


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({}, "connection_init payload"),
        ({"Authorization": "Bearer not-a-token"}, "malformed"),
        ({"Authorization": f"Bearer {issue_token('erin', ttl_seconds=-3600)}"}, "expired"),
    ],
    ids=["missing", "malformed", "expired"],
)
@pytest.mark.attack("jwt")
async def test_websocket_without_good_credentials_is_closed_with_4401(live, payload, reason):
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(f"{live.url}/graphql", protocols=(PROTOCOL,)) as ws,
    ):
        await ws.send_json({"type": "connection_init", "payload": payload})
        message = await ws.receive(timeout=5)

    assert message.type == aiohttp.WSMsgType.CLOSE
    assert message.data == 4401
    assert reason in (message.extra or "")


@pytest.mark.attack("graphql")
async def test_legacy_graphql_ws_protocol_is_not_served(live):
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(f"{live.url}/graphql", protocols=("graphql-ws",)) as ws,
    ):
        message = await ws.receive(timeout=5)

    assert message.type == aiohttp.WSMsgType.CLOSE
    assert message.data == 4406


async def test_health_and_readiness(live):
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{live.url}/healthz") as health:
            assert health.status == 200
        async with http.get(f"{live.url}/readyz") as ready:
            assert json.loads(await ready.text()) == {"status": "ok", "database": "ok"}
