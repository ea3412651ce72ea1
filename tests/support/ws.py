"""A graphql-transport-ws client for tests: what a subscription client sends and reads."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import socket
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp

PROTOCOL = "graphql-transport-ws"

ALERT_EVENTS = """
subscription($after: ID) {
  alertEvents(after: $after) {
    id type title text severity entityName projectName runName
    deliveries { channel status attempts lastError }
  }
}
"""


@dataclass
class GraphQLSocket:
    ws: aiohttp.ClientWebSocketResponse

    async def subscribe(
        self, query: str = ALERT_EVENTS, variables: dict[str, Any] | None = None, op: str = "1"
    ) -> None:
        payload = {"query": query, "variables": variables or {}}
        await self.ws.send_json({"id": op, "type": "subscribe", "payload": payload})

    async def message(self, timeout: float = 10.0) -> dict[str, Any]:
        """The next protocol message, answering pings on the way."""
        while True:
            message = await self.ws.receive(timeout=timeout)
            if message.type != aiohttp.WSMsgType.TEXT:
                raise ConnectionError(
                    f"socket ended: {message.type} {message.data} {message.extra}"
                )
            body: dict[str, Any] = message.json()
            if body["type"] == "ping":
                await self.ws.send_json({"type": "pong"})
                continue
            return body

    async def event(self, timeout: float = 10.0) -> dict[str, Any]:
        """The next alert event of the subscription; fails on anything else."""
        body = await self.message(timeout)
        assert body["type"] == "next", body
        assert "errors" not in body["payload"], body
        event: dict[str, Any] = body["payload"]["data"]["alertEvents"]
        return event


@contextlib.asynccontextmanager
async def graphql_socket(
    base_url: str, authorization: str | None, **session: Any
) -> AsyncIterator[GraphQLSocket]:
    async with (
        aiohttp.ClientSession(**session) as http,
        http.ws_connect(f"{base_url}/graphql", protocols=(PROTOCOL,), heartbeat=None) as ws,
    ):
        payload = {"Authorization": authorization} if authorization else {}
        await ws.send_json({"type": "connection_init", "payload": payload})
        socket = GraphQLSocket(ws)
        ack = await socket.message()
        assert ack["type"] == "connection_ack", ack
        yield socket


class RawSocket:
    """A WebSocket client on a bare TCP stream with a tiny receive buffer: once it
    stops reading, the server's writes back up within a few kilobytes, as they do
    for a client on a stalled network."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, base_url: str, authorization: str) -> RawSocket:
        host, port = base_url.removeprefix("http://").split(":")
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
        reader, writer = await asyncio.open_connection(sock=sock, limit=1024)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                f"GET /graphql HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {PROTOCOL}\r\n\r\n"
            ).encode()
        )
        status = await reader.readuntil(b"\r\n\r\n")
        assert status.startswith(b"HTTP/1.1 101"), status
        raw = cls(reader, writer)
        await raw.send({"type": "connection_init", "payload": {"Authorization": authorization}})
        assert (await raw.receive())["type"] == "connection_ack"
        return raw

    async def send(self, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode()
        mask = os.urandom(4)
        length = len(payload)
        header = bytes([0x81]) + (
            bytes([0x80 | length])
            if length < 126
            else bytes([0x80 | 126]) + struct.pack("!H", length)
        )
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.writer.write(header + mask + masked)
        await self.writer.drain()

    async def receive(self, timeout: float = 10.0) -> dict[str, Any]:
        """The next text message; ConnectionError when the server closed the socket."""
        async with asyncio.timeout(timeout):
            first, second = await self.reader.readexactly(2)
            length = second & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", await self.reader.readexactly(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", await self.reader.readexactly(8))
            payload = await self.reader.readexactly(length)
        if first & 0x0F == 0x8:
            raise ConnectionError(f"closed: {payload!r}")
        body: dict[str, Any] = json.loads(payload)
        return body

    def close(self) -> None:
        self.writer.close()
