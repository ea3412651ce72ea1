"""Revocation of live sockets on one server process: deleting an API key ends every
socket it opened, deleting the account every socket the account opened, closed with
4401 and the reason; the account's other sockets, and other accounts', go on."""

from __future__ import annotations

import asyncio
import base64
import time

import aiohttp
import pytest

from api.view import GraphQLApp
from api.websocket import ACCOUNT_DELETED, KEY_DELETED
from models.alert import AlertEventType, AlertSeverity
from models.api_key import ApiKey
from notifiers import bus
from notifiers.outbox import raise_alert
from tests.support.helpers import sign_up
from tests.support.ws import PROTOCOL, GraphQLSocket, graphql_socket

GENERATE_KEY = """
mutation($name: String!) { generateApiKey(input: {name: $name}) { secret apiKey { id } } }
"""
DELETE_KEY = "mutation($id: String!) { deleteApiKey(input: {id: $id}) { success } }"
DELETE_ACCOUNT = """
mutation($confirm: String!) { deleteAccount(input: {confirmUsername: $confirm}) { success } }
"""
#: How soon a revoked socket must be closed ("within seconds"); here it is at once.
WITHIN = 5.0


def basic(secret: str) -> str:
    return "Basic " + base64.b64encode(f"api:{secret}".encode()).decode()


async def new_key(api, account, name: str) -> tuple[str, str]:
    """A key of `account`: its id and its Authorization value."""
    made = (await api.signed_in(account).execute(GENERATE_KEY, {"name": name}))["generateApiKey"]
    return made["apiKey"]["id"], basic(made["secret"])


async def closed(socket: GraphQLSocket, timeout: float = WITHIN) -> tuple[int, str]:
    """The code and reason the server closed `socket` with; fails on any other message."""
    while True:
        message = await socket.ws.receive(timeout=timeout)
        if message.type == aiohttp.WSMsgType.TEXT and message.json()["type"] == "ping":
            await socket.ws.send_json({"type": "pong"})
            continue
        assert message.type == aiohttp.WSMsgType.CLOSE, (message.type, message.data)
        code: int = message.data
        return code, str(message.extra)


async def quiet_alert(user, title: str) -> None:
    """An alert with no delivery channel: recorded and published, nothing sent."""
    await raise_alert(
        user,
        type=AlertEventType.TEST,
        title=title,
        text="t",
        severity=AlertSeverity.INFO,
        channels=[],
    )


async def listening(*sockets: GraphQLSocket) -> None:
    for socket in sockets:
        await socket.subscribe()
    await asyncio.sleep(0.2)  # each subscription is on the bus


@pytest.fixture
async def alice(db):
    return await sign_up("alice")


async def test_deleting_a_key_closes_every_socket_it_opened(api, server, alice):
    key_id, key = await new_key(api, alice, "tracker")
    _, other_key = await new_key(api, alice, "laptop")
    async with (
        graphql_socket(server.url, key) as first,
        graphql_socket(server.url, key) as second,
        graphql_socket(server.url, other_key) as by_other_key,
        graphql_socket(server.url, alice.authorization) as by_token,
    ):
        await listening(first, second, by_other_key, by_token)

        started = time.monotonic()
        await api.signed_in(alice).execute(DELETE_KEY, {"id": key_id})
        ends = [await closed(first), await closed(second)]
        took = time.monotonic() - started
        await quiet_alert(alice.user, "after the deletion")
        still = [(await by_other_key.event())["title"], (await by_token.event())["title"]]

    assert ends == [(4401, KEY_DELETED), (4401, KEY_DELETED)]
    assert took < WITHIN
    assert still == ["after the deletion", "after the deletion"]


async def test_deleting_the_account_closes_every_socket_it_opened(api, server, alice):
    _, key = await new_key(api, alice, "tracker")
    bob = await sign_up("bob")
    async with (
        graphql_socket(server.url, key) as by_key,
        graphql_socket(server.url, alice.authorization) as by_token,
        graphql_socket(server.url, alice.authorization) as idle,
        graphql_socket(server.url, bob.authorization) as bobs,
    ):
        await listening(by_key, by_token, bobs)

        started = time.monotonic()
        await api.signed_in(alice).execute(DELETE_ACCOUNT, {"confirm": "alice"})
        ends = [await closed(by_key), await closed(by_token), await closed(idle)]
        took = time.monotonic() - started
        await quiet_alert(bob.user, "bob's")
        bobs_event = await bobs.event()

    assert ends == [(4401, ACCOUNT_DELETED)] * 3
    assert took < WITHIN
    assert bobs_event["title"] == "bob's"


async def test_a_revoked_socket_runs_no_operation_sent_after_the_revocation(api, server, alice):
    key_id, key = await new_key(api, alice, "tracker")
    async with graphql_socket(server.url, key) as socket:
        await api.signed_in(alice).execute(DELETE_KEY, {"id": key_id})
        await socket.subscribe(op="late")

        assert await closed(socket) == (4401, KEY_DELETED)


async def test_a_key_deleted_while_its_socket_signs_in_is_refused_at_acknowledgement(
    api, server, alice, monkeypatch
):
    key_id, key = await new_key(api, alice, "tracker")
    signed_in = GraphQLApp.on_ws_connect

    async def deleted_right_after_the_sign_in(self, context):
        answer = await signed_in(self, context)
        # Deleted after the key was read, and published before the socket listens:
        # this process hears nothing of it.
        await ApiKey.filter(id=int(key_id)).delete()
        return answer

    monkeypatch.setattr(GraphQLApp, "on_ws_connect", deleted_right_after_the_sign_in)
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(f"{server.url}/graphql", protocols=(PROTOCOL,)) as ws,
    ):
        await ws.send_json({"type": "connection_init", "payload": {"Authorization": key}})
        message = await ws.receive(timeout=WITHIN)

    assert (message.type, message.data, message.extra) == (
        aiohttp.WSMsgType.CLOSE,
        4401,
        KEY_DELETED,
    )


async def test_a_revocation_the_bus_missed_is_found_when_it_resynchronises(api, server, alice):
    key_id, key = await new_key(api, alice, "tracker")
    async with (
        graphql_socket(server.url, key) as by_key,
        graphql_socket(server.url, alice.authorization) as by_token,
    ):
        await listening(by_key, by_token)
        # Gone without a word on the bus, as when Redis was away for the publication.
        await ApiKey.filter(id=int(key_id)).delete()
        with pytest.raises(TimeoutError):
            await by_key.message(timeout=0.3)

        bus.current().resync_all()
        end = await closed(by_key)
        await quiet_alert(alice.user, "after the resync")
        token_event = await by_token.event()

    assert end == (4401, KEY_DELETED)
    assert token_event["title"] == "after the resync"
