"""Real aiohttp servers on loopback that play Slack and GitHub for a browser: each
provider's consent page (an "Allow" link back to Switchboard with a code), the code
exchange, and what Switchboard calls afterwards."""

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

SLACK_CLIENT_ID = "1111.2222"
SLACK_CLIENT_SECRET = "fake-slack-client-secret"
SLACK_TEAM = "ML Lab"
SLACK_CHANNEL = "#ml-alerts"
SLACK_WEBHOOK_PATH = "/services/T0001/B0001/fakewebhooksecret"
SLACK_CODE = "slack-code-for-the-browser"

GITHUB_CLIENT_ID = "Iv1.browserclient"
GITHUB_CLIENT_SECRET = "fake-github-client-secret"
GITHUB_CODE = "github-code-for-the-browser"
GITHUB_TOKEN = "gho_fake_token_of_octocat"
GITHUB_LOGIN = "octocat"
GITHUB_ORGS = ["octo-org", "ml-lab"]


def consent_page(title: str, redirect_uri: str, code: str, state: str) -> web.Response:
    back = f"{redirect_uri}?{urlencode({'code': code, 'state': state})}"
    page = (
        f"<!doctype html><title>{html.escape(title)}</title>"
        f"<h1>{html.escape(title)}</h1>"
        f'<a id="allow" href="{html.escape(back)}">Allow</a>'
    )
    return web.Response(text=page, content_type="text/html")


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
            "SLACK_CLIENT_ID": SLACK_CLIENT_ID,
            "SLACK_CLIENT_SECRET": SLACK_CLIENT_SECRET,
            "SLACK_AUTHORIZE_URL": self.authorize_url,
            "SLACK_API_URL": self.api_url,
            "SLACK_WEBHOOK_HOSTS": self.host,
        }

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/oauth/v2/authorize", self.authorize)
        app.router.add_post("/api/oauth.v2.access", self.access)
        app.router.add_post(SLACK_WEBHOOK_PATH, self.webhook)
        return app

    async def authorize(self, request: web.Request) -> web.Response:
        """Slack's consent page: "Allow" sends the browser back with a code."""
        query = request.query
        if query.get("client_id") != SLACK_CLIENT_ID or "incoming-webhook" not in query.get(
            "scope", ""
        ):
            return web.Response(status=400, text="invalid_client_id or scope")
        title = f"Switchboard wants to post to {SLACK_CHANNEL}"
        return consent_page(title, query["redirect_uri"], SLACK_CODE, query["state"])

    async def access(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.exchanges.append({k: str(v) for k, v in form.items()})
        if form.get("client_secret") != SLACK_CLIENT_SECRET or form.get("code") != SLACK_CODE:
            return web.json_response({"ok": False, "error": "invalid_code"})
        return web.json_response(
            {
                "ok": True,
                "access_token": "xoxb-fake",
                "team": {"id": "T0001", "name": SLACK_TEAM},
                "incoming_webhook": {
                    "channel": SLACK_CHANNEL,
                    "channel_id": "C0001",
                    "url": f"{self.url}{SLACK_WEBHOOK_PATH}",
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


@dataclass
class FakeGithub:
    url: str = ""
    #: The body of each grant revocation.
    revocations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"

    def settings(self) -> dict[str, str]:
        return {
            "GITHUB_CLIENT_ID": GITHUB_CLIENT_ID,
            "GITHUB_CLIENT_SECRET": GITHUB_CLIENT_SECRET,
            "GITHUB_URL": self.url,
            "GITHUB_API_URL": self.api_url,
        }

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/login/oauth/authorize", self.authorize)
        app.router.add_post("/login/oauth/access_token", self.access_token)
        app.router.add_get("/api/user", self.user)
        app.router.add_get("/api/user/orgs", self.orgs)
        app.router.add_delete("/api/applications/{client_id}/grant", self.revoke)
        return app

    async def authorize(self, request: web.Request) -> web.Response:
        query = request.query
        if query.get("client_id") != GITHUB_CLIENT_ID:
            return web.Response(status=404, text="Not Found")
        title = "Authorize Switchboard to read your organizations"
        return consent_page(title, query["redirect_uri"], GITHUB_CODE, query["state"])

    async def access_token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("code") != GITHUB_CODE or form.get("client_secret") != GITHUB_CLIENT_SECRET:
            return web.json_response({"error": "bad_verification_code"})
        return web.json_response(
            {"access_token": GITHUB_TOKEN, "token_type": "bearer", "scope": "read:org"}
        )

    async def user(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {GITHUB_TOKEN}":
            return web.json_response({"message": "Bad credentials"}, status=401)
        # No avatar: a real one is on an https host, which a test must not reach.
        return web.json_response({"login": GITHUB_LOGIN, "id": 1, "avatar_url": None})

    async def orgs(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {GITHUB_TOKEN}":
            return web.json_response({"message": "Bad credentials"}, status=401)
        page = GITHUB_ORGS if request.query.get("page", "1") == "1" else []
        return web.json_response([{"login": login, "id": i} for i, login in enumerate(page)])

    async def revoke(self, request: web.Request) -> web.Response:
        self.revocations.append(await request.json())
        return web.Response(status=204)


@contextlib.asynccontextmanager
async def serve(fake: FakeSlack | FakeGithub) -> AsyncIterator[None]:
    """Serve `fake` on a loopback port, setting its `url`."""
    runner = web.AppRunner(fake.app(), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    fake.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield
    finally:
        await runner.cleanup()
