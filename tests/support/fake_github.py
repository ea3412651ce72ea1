"""A real aiohttp server on loopback that plays GitHub: the OAuth token exchange,
`/user`, `/user/orgs` and the grant revocation, with the failures GitHub has."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

CLIENT_ID = "Iv1.testclientid"
CLIENT_SECRET = "test-client-secret"
TOKEN = "gho_the_access_token_of_octocat"

#: The code the exchange turns into TOKEN; the others fail as GitHub does.
GOOD_CODE = "good-code"
BAD_CODE = "bad-code"
DENIED_CODE = "denied-code"
BROKEN_CODE = "http-500-code"
SLOW_CODE = "slow-code"


@dataclass
class FakeGithub:
    url: str = ""
    #: (method, path) of every request, in order.
    calls: list[tuple[str, str]] = field(default_factory=list)
    #: The form of each token exchange.
    exchanges: list[dict[str, str]] = field(default_factory=list)
    #: The body of each grant revocation that passed the app's basic auth.
    revocations: list[dict[str, Any]] = field(default_factory=list)
    revoke_status: int = 204
    revoke_delay: float = 0.0
    orgs: list[str] = field(default_factory=lambda: ["octo-org", "ml-lab"])
    #: Released at shutdown, so a "slow" handler does not outlive its test.
    released: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/login/oauth/access_token", self.access_token)
        app.router.add_get("/api/user", self.user)
        app.router.add_get("/api/user/orgs", self.user_orgs)
        app.router.add_delete("/api/applications/{client_id}/grant", self.revoke)
        app.middlewares.append(self.record)
        return app

    @web.middleware
    async def record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.calls.append((request.method, request.path))
        response: web.StreamResponse = await handler(request)
        return response

    async def access_token(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.exchanges.append({k: str(v) for k, v in form.items()})
        if request.headers.get("Accept") != "application/json":
            # What GitHub does without the JSON accept header.
            return web.Response(text=f"access_token={TOKEN}&scope=read%3Aorg&token_type=bearer")
        if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
            return _oauth_error("incorrect_client_credentials", "The client_id is incorrect.")
        code = form.get("code")
        if code == GOOD_CODE:
            return web.json_response(
                {"access_token": TOKEN, "token_type": "bearer", "scope": "read:org"}
            )
        if code == DENIED_CODE:
            return _oauth_error("access_denied", "The user has denied your application access.")
        if code == BROKEN_CODE:
            return web.Response(status=500, text="Internal Server Error")
        if code == SLOW_CODE:
            await self.released.wait()
            return web.json_response({"error": "too late"})
        return _oauth_error("bad_verification_code", "The code passed is incorrect or expired.")

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {TOKEN}"

    async def user(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"message": "Bad credentials"}, status=401)
        return web.json_response(
            {"login": "octocat", "id": 1, "avatar_url": "https://avatars.example/u/1"}
        )

    async def user_orgs(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return web.json_response({"message": "Bad credentials"}, status=401)
        page = int(request.query.get("page", "1"))
        orgs = self.orgs if page == 1 else []
        return web.json_response([{"login": name, "id": i} for i, name in enumerate(orgs)])

    async def revoke(self, request: web.Request) -> web.Response:
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            return web.json_response({"message": "Requires authentication"}, status=401)
        if request.match_info["client_id"] != CLIENT_ID:
            return web.json_response({"message": "Not Found"}, status=404)
        if self.revoke_delay:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.released.wait(), self.revoke_delay)
        if self.revoke_status != 204:
            return web.json_response({"message": "Server Error"}, status=self.revoke_status)
        self.revocations.append(await request.json())
        return web.Response(status=204)


def _oauth_error(error: str, description: str) -> web.Response:
    # GitHub answers OAuth errors with HTTP 200.
    return web.json_response(
        {
            "error": error,
            "error_description": description,
            "error_uri": "https://docs.github.com/apps/troubleshooting-oauth-app-access-token-request-errors",
        }
    )


@contextlib.asynccontextmanager
async def serve_fake_github() -> AsyncIterator[FakeGithub]:
    fake = FakeGithub()
    runner = web.AppRunner(fake.app(), shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    fake.url = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        fake.released.set()
        await runner.cleanup()
