"""Serving limits that hold however the app is served, and the uvicorn internals
`serving.py` relies on. The limits of `cli.py serve` itself, on a real process, are in
tests/e2e/test_server_limits.py."""

from __future__ import annotations

import asyncio
import inspect
import json

import pytest
import uvicorn
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

import config
from serving import GuardedHttpTools
from tests.support.helpers import sign_up

PROTOCOL = Subprotocol("graphql-transport-ws")


def test_the_uvicorn_internals_serving_relies_on_keep_their_shape():
    async def app(scope: object, receive: object, send: object) -> None:
        raise NotImplementedError

    settings = uvicorn.Config(app, log_config=None)
    settings.load()
    protocol = GuardedHttpTools(settings, ServerState(), {}, _loop=asyncio.new_event_loop())
    protocol.loop.close()

    assert uvicorn.__version__.split(".")[:2] == ["0", "55"], "check serving.py again"
    assert STATUS_LINE[431] == b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    for callback in ("on_message_begin", "on_headers_complete", "on_message_complete"):
        assert list(inspect.signature(getattr(HttpToolsProtocol, callback)).parameters) == [
            "self"
        ], callback
    assert list(inspect.signature(HttpToolsProtocol.data_received).parameters) == [
        "self",
        "data",
    ]
    assert protocol.transport is None  # set by connection_made
    assert protocol.server_state.default_headers == []
    assert protocol.logger.name == "uvicorn.error"


@pytest.mark.parametrize(
    "text",
    ["x" * (config.MAX_BODY_BYTES + 1), "é" * (config.MAX_BODY_BYTES // 2 + 1)],
    ids=["ascii", "two-byte characters"],
)
@pytest.mark.attack("server")
async def test_a_websocket_message_over_the_limit_is_refused_unparsed(db, server, text):
    # The test server is uvicorn with its defaults (16 MiB messages): the view refuses.
    # Not JSON: parsed, it would be closed with 4400, not 1009.
    url = server.url.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=[PROTOCOL]) as ws:
        await ws.send(text)
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)

    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (
        1009,
        f"Message too big: the limit is {config.MAX_BODY_BYTES} bytes.",
    )


async def test_a_websocket_message_at_the_limit_is_read(db, server):
    account = await sign_up("gus")
    url = server.url.replace("http://", "ws://") + "/graphql"
    init = {"type": "connection_init", "payload": {"Authorization": account.authorization}}
    padded = json.dumps(init)[:-1] + ', "pad": "'
    padded += "p" * (config.MAX_BODY_BYTES - len(padded) - 2) + '"}'

    async with connect(url, subprotocols=[PROTOCOL]) as ws:
        await ws.send(padded)
        ack = json.loads(await asyncio.wait_for(ws.recv(), 5))

    assert len(padded.encode()) == config.MAX_BODY_BYTES
    assert ack["type"] == "connection_ack"
