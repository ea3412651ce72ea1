"""Real servers on loopback that receive webhooks, and fixtures for them.

`WebhookReceiver` records every request and checks its Standard Webhooks signature
with the spec's own library; `DiscordServer` plays Discord's execute-webhook endpoint;
both answer a script of replies, then their default. `Canary` counts every connection
made to it: an address the server must never reach.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

import config

#: A Discord webhook's token: the secret part of its URL, which no error message may show.
TOKEN = "tok-EN_s3cret-path"


def new_secret() -> str:
    """A Standard Webhooks secret, as a destination holds one."""
    return "whsec_" + base64.b64encode(os.urandom(24)).decode()


@dataclass
class Reply:
    """One scripted answer, after `delay` seconds; `hang` holds the request open until
    the server stops."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    text: str = ""
    json: Any = None
    hang: bool = False
    delay: float = 0.0


@dataclass
class Received:
    at: float
    path: str
    headers: dict[str, str]
    body: bytes
    #: The receiver's secrets with which `Webhook(secret).verify` accepted the request.
    verified_by: tuple[str, ...] = ()


@dataclass
class _Scripted:
    default: Reply = field(default_factory=Reply)
    replies: list[Reply] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    url: str = ""
    release: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def host(self) -> str:
        return self.url.removeprefix("http://")

    def script(self, *replies: int | Reply) -> None:
        """Answer these, in order, to the next requests; then the default."""
        self.replies = [r if isinstance(r, Reply) else Reply(r) for r in replies]

    async def _reply(self) -> web.Response:
        reply = self.replies.pop(0) if self.replies else self.default
        if reply.hang:
            await self.release.wait()
        if reply.delay:
            await asyncio.sleep(reply.delay)
        if reply.json is not None:
            return web.json_response(reply.json, status=reply.status, headers=reply.headers)
        return web.Response(status=reply.status, text=reply.text, headers=reply.headers)

    async def _record(self, request: web.Request) -> Received:
        body = await request.read()
        self.received.append(Received(time.time(), request.path, dict(request.headers), body))
        return self.received[-1]

    @contextlib.asynccontextmanager
    async def _serving(self, app: web.Application) -> AsyncIterator[None]:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        try:
            yield
        finally:
            self.release.set()
            await runner.cleanup()

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.received)} of {count} requests arrived")
            await asyncio.sleep(0.02)
        return self.received


@dataclass
class WebhookReceiver(_Scripted):
    """A Standard Webhooks receiver on 127.0.0.1 that knows `secrets`."""

    secrets: tuple[str, ...] = ()

    def hook(self, path: str = "events") -> str:
        return f"{self.url}/{path}"

    def verifiers(self, request: Received) -> tuple[str, ...]:
        accepted = []
        for secret in self.secrets:
            try:
                Webhook(secret).verify(request.body, request.headers)
            except WebhookVerificationError:
                continue
            accepted.append(secret)
        return tuple(accepted)

    async def _receive(self, request: web.Request) -> web.Response:
        received = await self._record(request)
        received.verified_by = self.verifiers(received)
        return await self._reply()

    @classmethod
    @contextlib.asynccontextmanager
    async def running(cls, *secrets: str) -> AsyncIterator[WebhookReceiver]:
        receiver = cls(secrets=secrets)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", receiver._receive)
        async with receiver._serving(app):
            yield receiver


@dataclass
class DiscordServer(_Scripted):
    """Discord's `POST /api/webhooks/{id}/{token}` on 127.0.0.1; answers 204 by default."""

    default: Reply = field(default_factory=lambda: Reply(204))

    def webhook(self, webhook_id: str = "112233445566778899", token: str = TOKEN) -> str:
        return f"{self.url}/api/webhooks/{webhook_id}/{token}"

    def bodies(self) -> list[Any]:
        return [json.loads(r.body) for r in self.received]

    async def _execute(self, request: web.Request) -> web.Response:
        await self._record(request)
        return await self._reply()

    @classmethod
    @contextlib.asynccontextmanager
    async def running(cls) -> AsyncIterator[DiscordServer]:
        discord = cls()
        app = web.Application()
        app.router.add_post("/api/webhooks/{id}/{token}", discord._execute)
        async with discord._serving(app):
            yield discord


@dataclass
class Canary:
    """A TCP server on 127.0.0.1 counting every connection; answers any request 200."""

    port: int = 0
    hits: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.hits += 1
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\ncanary")
            await writer.drain()
        writer.close()

    @classmethod
    @contextlib.asynccontextmanager
    async def running(cls) -> AsyncIterator[Canary]:
        canary = cls()
        server = await asyncio.start_server(canary._connected, "127.0.0.1", 0)
        canary.port = server.sockets[0].getsockname()[1]
        try:
            yield canary
        finally:
            server.close()
            await server.wait_closed()


def allow_hosts(monkeypatch: pytest.MonkeyPatch, host: str) -> None:
    """Let webhooks reach `host` (a loopback `host:port`) over plain HTTP."""
    monkeypatch.setattr(config, "WEBHOOK_ALLOW_HOSTS", config.WEBHOOK_ALLOW_HOSTS | {host})


@pytest.fixture
async def webhook_receiver(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[WebhookReceiver]:
    """A receiver knowing one fresh secret, allowed in WEBHOOK_ALLOW_HOSTS."""
    async with WebhookReceiver.running(new_secret()) as receiver:
        allow_hosts(monkeypatch, receiver.host)
        yield receiver


@pytest.fixture
async def discord(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[DiscordServer]:
    """Discord played on loopback: the only host of DISCORD_WEBHOOK_HOSTS."""
    async with DiscordServer.running() as server:
        allow_hosts(monkeypatch, server.host)
        monkeypatch.setattr(config, "DISCORD_WEBHOOK_HOSTS", frozenset({server.host}))
        yield server


@pytest.fixture
async def canary() -> AsyncIterator[Canary]:
    """A loopback server no test may reach (it is in no allow list)."""
    async with Canary.running() as server:
        yield server


@pytest.fixture
async def connects(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every address this test's loop connects a socket to. A tripwire: one outside
    127.0.0.1 is refused before it is tried (and recorded), so that a guard that failed
    can never reach the network, or a service on this machine's other addresses."""
    loop = asyncio.get_running_loop()
    tried: list[Any] = []
    real = loop.sock_connect

    async def sock_connect(sock: Any, address: Any) -> None:
        tried.append(address)
        if address[0] != "127.0.0.1":
            raise OSError(f"tripwire: the test tried to connect to {address[0]}")
        await real(sock, address)

    monkeypatch.setattr(loop, "sock_connect", sock_connect)
    return tried
