"""Real servers on loopback that play the mail relay and Slack, and fixtures for them.

`MailServer` is aiosmtpd in this event loop: it accepts, answers 451 a number of
times before accepting, answers 550, or stalls in DATA. `SlackServer` is an aiohttp
app serving `oauth.v2.access` and incoming webhooks whose path says how they behave.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiohttp import web
from aiosmtpd.smtp import SMTP, Envelope, Session

import config
from auth.sealing import seal
from models.alert import AlertDelivery, DeliveryStatus
from models.integration import SlackIntegration


class _MailHandler:
    def __init__(self, server: MailServer) -> None:
        self.server = server

    async def handle_RCPT(
        self, smtp: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.server.mode == "reject":
            return "550 5.1.1 No such mailbox here"
        if self.server.mode == "temporary" and self.server.refusals_left > 0:
            self.server.refusals_left -= 1
            return "451 4.3.0 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, smtp: SMTP, session: Session, envelope: Envelope) -> str:
        if self.server.mode == "stall":
            self.server.stalled += 1
            await asyncio.Event().wait()  # until the client goes away
        content = envelope.content if isinstance(envelope.content, bytes) else b""
        message = email.message_from_bytes(content, policy=email.policy.default)
        self.server.messages.append(message)
        self.server.received.set()
        return "250 2.0.0 Accepted"


@dataclass
class MailServer:
    """An SMTP server on 127.0.0.1; `mode` is accept, temporary, reject or stall."""

    mode: str = "accept"
    refusals_left: int = 1
    port: int = 0
    messages: list[EmailMessage] = field(default_factory=list)
    stalled: int = 0
    received: asyncio.Event = field(default_factory=asyncio.Event)

    @classmethod
    @contextlib.asynccontextmanager
    async def running(cls, mode: str = "accept", *, refusals: int = 1) -> AsyncIterator[MailServer]:
        mail = cls(mode=mode, refusals_left=refusals)
        sessions: list[SMTP] = []

        def protocol() -> SMTP:
            smtp = SMTP(_MailHandler(mail), hostname="127.0.0.1")
            sessions.append(smtp)
            return smtp

        server = await asyncio.get_running_loop().create_server(protocol, "127.0.0.1", 0)
        mail.port = server.sockets[0].getsockname()[1]
        try:
            yield mail
        finally:
            server.close()
            for smtp in sessions:
                if smtp.transport is not None:
                    smtp.transport.close()
            await server.wait_closed()

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.messages)} of {count} emails arrived")
            await asyncio.sleep(0.02)
        return self.messages


@dataclass
class HookCall:
    at: float
    body: dict[str, Any]


@dataclass
class SlackServer:
    """Slack on 127.0.0.1: `oauth` sets what oauth.v2.access answers, and a webhook's
    path its behaviour: /hooks/ok, /hooks/flaky (500, then 200), /hooks/limited
    (429 with Retry-After: 1, then 200), /hooks/gone (404 channel_not_found),
    /hooks/down (always 500), /hooks/slow (200 after `slow_seconds`)."""

    url: str = ""
    oauth: dict[str, Any] = field(default_factory=dict)
    oauth_delay: float = 0.0
    oauth_status: int = 200
    exchanges: list[dict[str, str]] = field(default_factory=list)
    calls: dict[str, list[HookCall]] = field(default_factory=lambda: defaultdict(list))
    slow_seconds: float = 0.5

    @property
    def host(self) -> str:
        return self.url.removeprefix("http://")

    def hook(self, name: str) -> str:
        return f"{self.url}/hooks/{name}"

    def grant(self, hook: str = "ok", **extra: Any) -> dict[str, Any]:
        """A successful oauth.v2.access answer granting the webhook `hook`."""
        return {
            "ok": True,
            "app_id": "A0TEST",
            "team": {"id": "T0TEST", "name": "Lab Workspace"},
            "incoming_webhook": {
                "channel": "#training-runs",
                "channel_id": "C0TEST",
                "configuration_url": "https://example.slack.com/services/B0TEST",
                "url": self.hook(hook),
            },
            **extra,
        }

    async def _exchange(self, request: web.Request) -> web.Response:
        self.exchanges.append(dict(await request.post()))  # type: ignore[arg-type]
        if self.oauth_delay:
            await asyncio.sleep(self.oauth_delay)
        if self.oauth_status != 200:
            return web.Response(status=self.oauth_status, text="upstream trouble")
        return web.json_response(self.oauth or self.grant())

    async def _webhook(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        calls = self.calls[name]
        calls.append(HookCall(at=time.monotonic(), body=await request.json()))
        first = len(calls) == 1
        if name == "flaky" and first or name == "down":
            return web.Response(status=500, text="internal_error")
        if name == "limited" and first:
            return web.Response(status=429, text="rate_limited", headers={"Retry-After": "1"})
        if name == "gone":
            return web.Response(status=404, text="channel_not_found")
        if name == "slow":
            await asyncio.sleep(self.slow_seconds)
        return web.Response(text="ok")

    @classmethod
    @contextlib.asynccontextmanager
    async def running(cls) -> AsyncIterator[SlackServer]:
        slack = cls()
        app = web.Application()
        app.router.add_post("/api/oauth.v2.access", slack._exchange)
        app.router.add_post("/hooks/{name}", slack._webhook)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        slack.url = f"http://127.0.0.1:{port}"
        try:
            yield slack
        finally:
            await runner.cleanup()

    async def wait_for(self, name: str, count: int, timeout: float = 10.0) -> list[HookCall]:
        deadline = time.monotonic() + timeout
        while len(self.calls[name]) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.calls[name])} of {count} posts to {name}")
            await asyncio.sleep(0.02)
        return self.calls[name]


@pytest.fixture
async def mail(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[MailServer]:
    """An accepting mail relay that the server's dispatcher sends to."""
    async with MailServer.running() as server:
        use_mail_server(monkeypatch, server)
        yield server


def use_mail_server(monkeypatch: pytest.MonkeyPatch, server: MailServer) -> None:
    monkeypatch.setattr(config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setattr(config, "SMTP_PORT", server.port)
    monkeypatch.setattr(config, "SMTP_STARTTLS", False)
    monkeypatch.setattr(config, "MAIL_FROM", "alerts@switchboard.test")


@pytest.fixture
async def slack(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[SlackServer]:
    """Slack played on loopback, and the settings that point the server at it."""
    async with SlackServer.running() as server:
        monkeypatch.setattr(config, "SLACK_CLIENT_ID", "1234.5678")
        monkeypatch.setattr(config, "SLACK_CLIENT_SECRET", "slack-client-secret")
        monkeypatch.setattr(config, "SLACK_AUTHORIZE_URL", f"{server.url}/oauth/v2/authorize")
        monkeypatch.setattr(config, "SLACK_API_URL", f"{server.url}/api")
        monkeypatch.setattr(config, "SLACK_WEBHOOK_HOSTS", frozenset({server.host}))
        yield server


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries after 50 ms, 100 ms, ...: delivery tests stay quick."""
    monkeypatch.setattr(config, "DELIVERY_RETRY_BASE_SECONDS", 0.05)
    monkeypatch.setattr(config, "DELIVERY_MAX_ATTEMPTS", 3)


async def connect_slack(user_id: int, webhook_url: str) -> None:
    """A Slack connection as connectSlack stores it, without the OAuth dance."""
    await SlackIntegration.create(
        user_id=user_id,
        team_name="Lab Workspace",
        channel_name="#training-runs",
        webhook_url_sealed=seal(webhook_url),
    )


async def settled(user_id: int, timeout: float = 10.0) -> list[AlertDelivery]:
    """The user's deliveries once none is PENDING any more, oldest first."""
    deadline = time.monotonic() + timeout
    while True:
        rows = await AlertDelivery.filter(user_id=user_id).order_by("id")
        if all(row.status != DeliveryStatus.PENDING for row in rows):
            return rows
        if time.monotonic() > deadline:
            pending = [row.id for row in rows if row.status == DeliveryStatus.PENDING]
            raise AssertionError(f"deliveries still pending: {pending}")
        await asyncio.sleep(0.02)
