"""The serving limits of `python cli.py serve`, on a real server process and real sockets:
request heads (size and deadline), WebSocket messages, and each account's sockets and
live subscriptions."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

import config
from auth.tokens import issue_token
from tests.e2e.process import (
    ServerProcess,
    cpu_seconds,
    migrate,
    raw_request,
    server_env,
    server_process,
)
from tests.support.helpers import create_database, drop_database

pytestmark = pytest.mark.e2e

PROTOCOL = Subprotocol("graphql-transport-ws")
HEAD_TIMEOUT = 1.0
SOCKETS_PER_ACCOUNT = 3
SUBSCRIPTIONS_PER_ACCOUNT = 4
ALERT_EVENTS = 'subscription { alertEvents(after: "0") { title } }'
QUIET = """mutation {
  setAlertSubscription(input: {event: SCRIPTABLE, channel: EMAIL, enabled: false}) {
    errors { code }
  }
}"""
NOTIFY = """mutation($entity: String!, $title: String!) {
  notifyScriptableRunAlert(input: {entityName: $entity, projectName: "p", runName: "r",
    title: $title, text: "t"}) { success errors { code } }
}"""


@pytest.fixture(scope="module")
async def limited() -> AsyncIterator[ServerProcess]:
    """`cli.py serve` with a short head deadline and small per-account caps. The limits
    are the server's, not the database's: SQLite only."""
    db = await create_database("sqlite", name="limits")
    try:
        env = server_env(
            db.url,
            HEAD_TIMEOUT_SECONDS=str(HEAD_TIMEOUT),
            MAX_SOCKETS_PER_ACCOUNT=str(SOCKETS_PER_ACCOUNT),
            MAX_SUBSCRIPTIONS_PER_ACCOUNT=str(SUBSCRIPTIONS_PER_ACCOUNT),
        )
        migrate(env)
        async with server_process(env) as server:
            yield server
    finally:
        await drop_database(db)


async def healthz(server: ServerProcess) -> int:
    async with aiohttp.ClientSession() as http, http.get(f"{server.url}/healthz") as response:
        return response.status


# Request heads.


@pytest.mark.attack("server")
async def test_a_32_mb_header_is_refused_with_431_at_little_cpu(limited):
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (32 << 20) + b"\r\n\r\n"
    before = cpu_seconds(limited.pid)

    started = time.monotonic()
    answer = await asyncio.to_thread(raw_request, limited.port, head)
    took = time.monotonic() - started
    await asyncio.sleep(0.2)  # anything the server still does is counted
    spent = cpu_seconds(limited.pid) - before

    assert answer.startswith(b"HTTP/1.1 431 "), answer[:100]
    assert b"the limit is 65536 bytes" in answer
    # uvicorn with httptools, unguarded: 1.8 s of CPU for this header (serving.py).
    assert spent < 0.3, f"{spent:.2f} s of server CPU"
    assert took < 2
    assert await healthz(limited) == 200


async def test_a_head_under_the_limit_with_a_body_in_the_same_read_is_answered(limited):
    # One write: the head (with a 60 KiB header) and a 1 MB body arrive in reads that
    # pass the head limit together; only the head is counted against it.
    body = json.dumps({"query": "{ __typename }", "variables": {"pad": "x" * 1_000_000}})
    head = (
        "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"X-Padding: {'p' * 60_000}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )

    answer = await asyncio.to_thread(raw_request, limited.port, head.encode() + body.encode())

    assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]


@pytest.mark.attack("server")
async def test_half_open_connections_are_closed_after_the_head_deadline(limited, count_as):
    count = 250
    count_as("attacks", count)
    connections = await asyncio.gather(
        *(asyncio.open_connection("127.0.0.1", limited.port) for _ in range(count))
    )
    for n, (_, writer) in enumerate(connections):
        # A head that never ends, or nothing at all.
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" if n % 5 else b"")
    started = time.monotonic()

    answered_meanwhile = await healthz(limited)
    async with asyncio.timeout(HEAD_TIMEOUT + 5):
        endings = await asyncio.gather(*(reader.read() for reader, _ in connections))
    took = time.monotonic() - started
    for _, writer in connections:
        writer.close()

    assert endings == [b""] * count  # closed by the server, without an answer
    assert HEAD_TIMEOUT * 0.8 < took < HEAD_TIMEOUT + 3
    assert answered_meanwhile == 200
    assert await healthz(limited) == 200


@pytest.mark.attack("server")
async def test_a_head_sent_a_byte_at_a_time_is_closed_at_its_deadline(limited):
    reader, writer = await asyncio.open_connection("127.0.0.1", limited.port)
    # A first request, answered: the deadline is per head, from its first byte.
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    first = await reader.readuntil(b"}")
    started = time.monotonic()

    with contextlib.suppress(ConnectionError):
        for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"s" * 100:
            writer.write(bytes([byte]))
            await writer.drain()
            if reader.at_eof():
                break
            await asyncio.sleep(0.1)
    async with asyncio.timeout(5):
        rest = await reader.read()
    took = time.monotonic() - started
    writer.close()

    assert first.startswith(b"HTTP/1.1 200 ")
    assert rest == b""
    assert took < HEAD_TIMEOUT + 1


async def test_a_keep_alive_connection_outlives_the_head_deadline(limited):
    reader, writer = await asyncio.open_connection("127.0.0.1", limited.port)

    answers = []
    for _ in range(4):  # over 2.4 s, more than twice the deadline
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        answers.append(await reader.readuntil(b"}"))
        await asyncio.sleep(HEAD_TIMEOUT * 0.6)
    writer.close()

    assert all(answer.startswith(b"HTTP/1.1 200 ") for answer in answers)


# WebSockets.


def ws_url(server: ServerProcess) -> str:
    return f"ws://127.0.0.1:{server.port}/graphql"


async def open_socket(server: ServerProcess, authorization: str) -> ClientConnection:
    """A graphql-transport-ws socket, after connection_init; its first answer is read
    by the caller."""
    ws = await connect(ws_url(server), subprotocols=[PROTOCOL])
    payload = {"Authorization": authorization}
    await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
    return ws


@contextlib.asynccontextmanager
async def acked(server: ServerProcess, authorization: str) -> AsyncIterator[ClientConnection]:
    ws = await open_socket(server, authorization)
    try:
        assert json.loads(await ws.recv(decode=True))["type"] == "connection_ack"
        yield ws
    finally:
        await ws.close()


async def closed_with(ws: ClientConnection) -> tuple[int, str]:
    """The code and reason the server closes `ws` with, after any messages."""
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(5):
            while True:
                await ws.recv()
    assert closed.value.rcvd is not None, "closed without a close frame"
    return closed.value.rcvd.code, closed.value.rcvd.reason


@pytest.mark.attack("server")
async def test_a_websocket_message_over_the_limit_closes_the_socket_before_authentication(
    limited,
):
    async with connect(ws_url(limited), subprotocols=[PROTOCOL]) as ws:
        await ws.send("x" * (config.MAX_BODY_BYTES + 1))  # no connection_init first
        code, reason = await closed_with(ws)

    assert code == 1009
    assert reason == f"frame exceeds limit of {config.MAX_BODY_BYTES} bytes"  # websockets
    assert await healthz(limited) == 200


@pytest.mark.attack("server")
async def test_sockets_past_the_account_cap_are_closed_with_4429(limited, count_as):
    count_as("attacks", 2)
    ann = f"Bearer {issue_token('ann')}"
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(SOCKETS_PER_ACCOUNT):
            await stack.enter_async_context(acked(limited, ann))

        refused = await closed_with(await open_socket(limited, ann))
        again = await closed_with(await open_socket(limited, ann))
        async with acked(limited, f"Bearer {issue_token('bob')}"):
            pass  # another account is not affected

    assert (
        refused
        == again
        == (4429, f"Too many open sockets: at most {SOCKETS_PER_ACCOUNT} per account.")
    )


async def test_an_accounts_sockets_are_given_back_when_they_close_or_drop(limited):
    cat = f"Bearer {issue_token('cat')}"
    sockets = [await open_socket(limited, cat) for _ in range(SOCKETS_PER_ACCOUNT)]
    for ws in sockets:
        assert json.loads(await ws.recv(decode=True))["type"] == "connection_ack"

    await sockets[0].close()  # a goodbye
    sockets[1].transport.abort()  # a dropped connection, no close frame
    reopened = [await eventually_acked(limited, cat) for _ in range(2)]
    over = await closed_with(await open_socket(limited, cat))
    for ws in [*sockets[2:], *reopened]:
        await ws.close()

    assert over[0] == 4429


async def eventually_acked(server: ServerProcess, authorization: str) -> ClientConnection:
    """A socket acknowledged within a few seconds: the server hears of a closed socket
    soon after, not at once."""
    deadline = time.monotonic() + 5
    while True:
        ws = await open_socket(server, authorization)
        try:
            if json.loads(await ws.recv(decode=True))["type"] == "connection_ack":
                return ws
        except ConnectionClosed:
            if time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.1)


# Live subscriptions.


async def raise_alert(server: ServerProcess, who: str, title: str) -> None:
    headers = {"Authorization": f"Bearer {issue_token(who)}"}
    async with aiohttp.ClientSession(headers=headers) as http:
        for query, variables in ((QUIET, {}), (NOTIFY, {"entity": who, "title": title})):
            async with http.post(
                f"{server.url}/graphql", json={"query": query, "variables": variables}
            ) as response:
                body = await response.json()
            assert "errors" not in body, body


async def subscribe(ws: ClientConnection, op: str) -> None:
    payload = {"query": ALERT_EVENTS}
    await ws.send(json.dumps({"id": op, "type": "subscribe", "payload": payload}))


async def answers(ws: ClientConnection, count: int) -> dict[str, Any]:
    """The next `count` messages, by operation id (the last of each)."""
    found: dict[str, Any] = {}
    async with asyncio.timeout(5):
        for _ in range(count):
            message = json.loads(await ws.recv(decode=True))
            found[message["id"]] = message
    return found


def titles(messages: dict[str, Any]) -> dict[str, str]:
    return {op: m["payload"]["data"]["alertEvents"]["title"] for op, m in messages.items()}


async def refused_or_live(ws: ClientConnection, op: str) -> str:
    """Subscribes as `op`; "live" once it replays the first alert, else the error code."""
    await subscribe(ws, op)
    message = (await answers(ws, 1))[op]
    if "errors" in message["payload"]:
        assert (await answers(ws, 1))[op]["type"] == "complete"
        return str(message["payload"]["errors"][0]["extensions"]["code"])
    assert titles({op: message}) == {op: "first"}
    return "live"


async def eventually_live(ws: ClientConnection, op: str) -> str:
    """Like `refused_or_live`, tried again for a few seconds: an ended subscription is
    given back once its task has unwound, soon after it ends."""
    for attempt in range(50):
        outcome = await refused_or_live(ws, f"{op}.{attempt}")
        if outcome == "live":
            return outcome
        await asyncio.sleep(0.1)
    return outcome


@pytest.mark.attack("server")
async def test_subscriptions_past_the_account_cap_are_refused_over_all_its_sockets(limited):
    dee = f"Bearer {issue_token('dee')}"
    await raise_alert(limited, "dee", "first")
    async with acked(limited, dee) as one, acked(limited, dee) as two:
        for ws, op in ((one, "1"), (one, "2"), (two, "3"), (two, "4")):
            await subscribe(ws, op)
        live = titles({**await answers(one, 2), **await answers(two, 2)})

        refused = await refused_or_live(two, "5")
        async with acked(limited, f"Bearer {issue_token('eve')}") as other:
            await raise_alert(limited, "eve", "first")
            others = await refused_or_live(other, "1")

    assert live == {"1": "first", "2": "first", "3": "first", "4": "first"}
    assert refused == "LIMIT_EXCEEDED"
    assert others == "live"


async def test_subscriptions_are_given_back_when_completed_failed_or_their_socket_closes(
    limited,
):
    fay = f"Bearer {issue_token('fay')}"
    await raise_alert(limited, "fay", "first")
    async with acked(limited, fay) as keeper:
        async with acked(limited, f"Bearer {issue_token('fay', ttl_seconds=2)}") as expiring:
            for ws, op in ((expiring, "1"), (expiring, "2"), (keeper, "a"), (keeper, "b")):
                await subscribe(ws, op)
            await answers(expiring, 2)
            await answers(keeper, 2)
            full = await refused_or_live(keeper, "z")

            # Completed by the client.
            await keeper.send(json.dumps({"id": "a", "type": "complete"}))
            after_complete = await eventually_live(keeper, "c")
            # Ended by an error: the token expired.
            ended = await answers(expiring, 4)
            after_error = await eventually_live(keeper, "d")
        # Cancelled with its socket.
        async with acked(limited, fay) as third:
            await subscribe(third, "x")
            await answers(third, 1)
        after_close = await eventually_live(keeper, "f")
        # b, c, d and f: no more, and no fewer.
        full_again = await refused_or_live(keeper, "g")

    assert full == full_again == "LIMIT_EXCEEDED"
    assert after_complete == after_error == after_close == "live"
    assert {op: m["type"] for op, m in ended.items()} == {"1": "complete", "2": "complete"}
