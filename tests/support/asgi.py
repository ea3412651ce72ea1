"""An ASGI application called in this process, as an HTTP server would call it."""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message


async def call(app: ASGIApp, method: str, path: str, headers: dict[str, str], body: bytes) -> bytes:
    """One request to the ASGI app; the response body."""
    return (await respond(app, method, path, headers, body))[1]


async def respond(
    app: ASGIApp, method: str, path: str, headers: dict[str, str], body: bytes
) -> tuple[int, bytes]:
    """One request to the ASGI app; the response's status and body."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[bytes] = []
    status = 0

    async def receive() -> Message:
        if messages:
            return messages.pop()
        await asyncio.Event().wait()  # the client never disconnects
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        if message["type"] == "http.response.body":
            sent.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(sent)
