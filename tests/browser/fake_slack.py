"""A real aiohttp server on loopback that plays Slack for a browser: the "Add to Slack"
consent page, the `oauth.v2.access` code exchange and the incoming webhook."""

from __future__ import annotations

import asyncio
import contextlib
import html
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

CLIENT_ID = "1111.2222"
CLIENT_SECRET = "fake-slack-client-secret"
TEAM_NAME = "ML Lab"
CHANNEL = "#ml-alerts"
WEBHOOK_PATH = "/services/T0001/B0001/fakewebhooksecret"
CODE = "slack-code-for-the-browser"


@dataclass
class FakeSlack:
    url: str = ""
    #: The form of each code exchange.
    exchanges: list[dict[str, str]] = field(default_factory=list)
    #: The JSON body of each message posted to the webhook.
    messages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"

    @property
    def authorize_url(self) -> str:
        return f"{self.url}/oauth/v2/authorize"

    @property
    def host(self) -> str:
        return self.url.removeprefix("http://")

    def settings(self) -> dict[str, str]:
        """The server settings that point Switchboard at this fake."""
        return {
            "SLACK_CLIENT_ID": CLIENT_ID,
            "SLACK_CLIENT_SECRET": CLIENT_SECRET,
            "SLACK_AUTHORIZE_URL": self.authorize_url,
            "SLACK_API_URL": self.api_url,
            "SLACK_WEBHOOK_HOSTS": self.host,
        }

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/oauth/v2/authorize", self.authorize)
        app.router.add_post("/api/oauth.v2.access", self.access)
        app.router.add_post(WEBHOOK_PATH, self.webhook)
        return app

    async def authorize(self, request: web.Request) -> web.Response:
        """Slack's consent page: "Allow" sends the browser back with a code."""
        query = request.query
        if query.get("client_id") != CLIENT_ID or "incoming-webhook" not in query.get("scope", ""):
            return web.Response(status=400, text="invalid_client_id or scope")
        back = f"{query['redirect_uri']}?{urlencode({'code': CODE, 'state': query['state']})}"
        page = (
            "<!doctype html><title>Add to Slack</title>"
            f"<h1>Switchboard wants to post to {html.escape(CHANNEL)}</h1>"
            f'<a id="allow" href="{html.escape(back)}">Allow</a>'
        )
        return web.Response(text=page, content_type="text/html")

    async def access(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.exchanges.append({k: str(v) for k, v in form.items()})
        if form.get("client_secret") != CLIENT_SECRET or form.get("code") != CODE:
            return web.json_response({"ok": False, "error": "invalid_code"})
        return web.json_response(
            {
                "ok": True,
                "access_token": "xoxb-fake",
                "team": {"id": "T0001", "name": TEAM_NAME},
                "incoming_webhook": {
                    "channel": CHANNEL,
                    "channel_id": "C0001",
                    "url": f"{self.url}{WEBHOOK_PATH}",
                },
            }
        )

    async def webhook(self, request: web.Request) -> web.Response:
        self.messages.append(await request.json())
        return web.Response(text="ok")

    async def wait_for_messages(self, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        """The webhook's messages once there are `count` of them."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.messages)} Slack messages, expected {count}")
            await asyncio.sleep(0.05)
        return self.messages


@contextlib.asynccontextmanager
async def fake_slack() -> AsyncIterator[FakeSlack]:
    slack = FakeSlack()
    runner = web.AppRunner(slack.app(), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    slack.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield slack
    finally:
        await runner.cleanup()
