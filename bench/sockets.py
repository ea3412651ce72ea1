"""Live subscribers for the benchmarks: WebSockets that subscribe and then only read."""

from __future__ import annotations

from typing import Any

import aiohttp

PROTOCOL = "graphql-transport-ws"


async def subscribed_socket(
    http: aiohttp.ClientSession, url: str, authorization: str, subscribe: dict[str, Any]
) -> aiohttp.ClientWebSocketResponse:
    """A socket past `connection_ack` with one subscription sent as operation "1"."""
    ws = await http.ws_connect(f"{url}/graphql", protocols=(PROTOCOL,), heartbeat=None)
    await ws.send_json({"type": "connection_init", "payload": {"Authorization": authorization}})
    ack = await ws.receive_json(timeout=60)
    if ack["type"] != "connection_ack":
        raise RuntimeError(ack)
    await ws.send_json({"id": "1", "type": "subscribe", "payload": subscribe})
    return ws
