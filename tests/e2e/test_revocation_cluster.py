"""Revocation of live sockets across real server processes sharing PostgreSQL and Redis:
a key or an account deleted through one process ends the sockets it opened on another,
closed with 4401, within seconds."""

from __future__ import annotations

import asyncio
import base64
import os
import time
import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest

from api.websocket import ACCOUNT_DELETED, KEY_DELETED
from auth.tokens import issue_token
from tests.e2e.process import ServerProcess, migrate, server_env, server_process
from tests.support.helpers import create_database, drop_database
from tests.support.ws import GraphQLSocket, graphql_socket

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not (os.environ.get("TEST_DATABASE_URL") and os.environ.get("TEST_REDIS_URL")),
        reason="needs TEST_DATABASE_URL and TEST_REDIS_URL",
    ),
]

#: How soon a revoked socket on the other process must be closed.
WITHIN = 5.0
GENERATE_KEY = """
mutation($name: String!) { generateApiKey(input: {name: $name}) { secret apiKey { id } } }
"""
DELETE_KEY = "mutation($id: String!) { deleteApiKey(input: {id: $id}) { success } }"
DELETE_ACCOUNT = """
mutation($confirm: String!) { deleteAccount(input: {confirmUsername: $confirm}) { success } }
"""
NOTIFY = """mutation($title: String!) {
  notifyScriptableRunAlert(input: {entityName: "dora", projectName: "p", runName: "r",
    title: $title, text: "t"}) { success errors { code } }
}"""
QUIET = """mutation {
  setAlertSubscription(input: {event: SCRIPTABLE, channel: EMAIL, enabled: false}) {
    errors { code }
  }
}"""


def bearer(username: str) -> str:
    return f"Bearer {issue_token(username, ttl_seconds=3600)}"


async def graphql(
    server: ServerProcess, authorization: str, query: str, variables: dict[str, object]
) -> dict[str, object]:
    async with (
        aiohttp.ClientSession(headers={"Authorization": authorization}) as http,
        http.post(f"{server.url}/graphql", json={"query": query, "variables": variables}) as r,
    ):
        body = await r.json()
    assert "errors" not in body, body
    return dict(body["data"])


async def new_key(server: ServerProcess, authorization: str, name: str) -> tuple[str, str]:
    """A key made through `server`: its id and its Authorization value."""
    data = await graphql(server, authorization, GENERATE_KEY, {"name": name})
    made = data["generateApiKey"]
    assert isinstance(made, dict)
    secret = base64.b64encode(f"api:{made['secret']}".encode()).decode()
    return str(made["apiKey"]["id"]), f"Basic {secret}"


async def closed(socket: GraphQLSocket) -> tuple[int, str]:
    """The code and reason `socket` was closed with; fails on any other message."""
    while True:
        message = await socket.ws.receive(timeout=WITHIN)
        if message.type == aiohttp.WSMsgType.TEXT and message.json()["type"] == "ping":
            await socket.ws.send_json({"type": "pong"})
            continue
        assert message.type == aiohttp.WSMsgType.CLOSE, (message.type, message.data)
        code: int = message.data
        return code, str(message.extra)


async def listening(*sockets: GraphQLSocket) -> None:
    for socket in sockets:
        await socket.subscribe()
    await asyncio.sleep(0.3)  # each subscription is on the bus


@pytest.fixture
async def cluster_env() -> AsyncIterator[dict[str, str]]:
    db = await create_database("postgres", name="revoke")
    try:
        env = server_env(
            db.url,
            REDIS_URL=os.environ["TEST_REDIS_URL"],
            BUS_CHANNEL=f"test-revoke-{uuid.uuid4().hex}",
            RATE_LIMIT_PREFIX=f"test-limits-{uuid.uuid4().hex}",
        )
        migrate(env)
        yield env
    finally:
        await drop_database(db)


async def test_deleting_a_key_through_one_process_closes_its_sockets_on_another(cluster_env):
    dora = bearer("dora")
    async with server_process(cluster_env) as one, server_process(cluster_env) as other:
        await graphql(one, dora, QUIET, {})
        key_id, key = await new_key(one, dora, "tracker")
        async with (
            graphql_socket(one.url, key) as by_key,
            graphql_socket(one.url, dora) as by_token,
        ):
            await listening(by_key, by_token)

            started = time.monotonic()
            await graphql(other, dora, DELETE_KEY, {"id": key_id})
            end = await closed(by_key)
            took = time.monotonic() - started
            await graphql(other, dora, NOTIFY, {"title": "after the deletion"})
            still = (await by_token.event())["title"]

    assert end == (4401, KEY_DELETED)
    assert took < WITHIN
    assert still == "after the deletion"


async def test_deleting_an_account_through_one_process_closes_its_sockets_on_another(
    cluster_env,
):
    dora, eve = bearer("dora"), bearer("eve")
    async with server_process(cluster_env) as one, server_process(cluster_env) as other:
        _, key = await new_key(one, dora, "tracker")
        await graphql(one, eve, "{ viewer { username } }", {})
        async with (
            graphql_socket(one.url, key) as by_key,
            graphql_socket(one.url, dora) as by_token,
            graphql_socket(one.url, eve) as eves,
        ):
            await listening(by_key, by_token, eves)

            started = time.monotonic()
            await graphql(other, dora, DELETE_ACCOUNT, {"confirm": "dora"})
            ends = [await closed(by_key), await closed(by_token)]
            took = time.monotonic() - started
            await eves.ws.send_json({"type": "ping"})
            eve_still_connected = await eves.ws.receive(timeout=WITHIN)

    assert ends == [(4401, ACCOUNT_DELETED), (4401, ACCOUNT_DELETED)]
    assert took < WITHIN
    assert eve_still_connected.json() == {"type": "pong"}
