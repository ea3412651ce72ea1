"""What the browser tests share: the browser's settings, the site under test, signing
in, screenshots and asserting through the public API."""

from __future__ import annotations

import base64
import contextlib
import os
import re
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

import config
from auth.tokens import issue_token
from tests.e2e.process import ServerProcess

try:
    from playwright.async_api import expect as expect
except ImportError:  # the `browser` fixture says why, and skips (or fails in CI)
    expect = None  # type: ignore[assignment]

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
#: Debian's Chromium, headless, with nothing of its own reaching out to the network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
#: Where screenshots go: SCREENSHOT_DIR, or .ci/out/screenshots in the checkout.
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", config.ROOT / ".ci" / "out" / "screenshots"))
SECTIONS = [
    "profile",
    "project-defaults",
    "teams",
    "beta-features",
    "alerts",
    "destinations",
    "alert-routes",
    "github",
    "api-keys",
    "storage",
    "delete-account",
]


@dataclass
class Site:
    server: ServerProcess
    env: dict[str, str]

    @property
    def url(self) -> str:
        return self.server.url

    def token(self, username: str, *, admin: bool = False) -> str:
        if not admin:
            return issue_token(username, email=f"{username}@example.com")
        # As an operator makes one: the account is created and made an admin first.
        result = subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
            [sys.executable, "cli.py", "token", username, "--admin"],
            cwd=config.ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout.strip()

    async def graphql(
        self, authorization: str, query: str, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The whole answer of `/graphql`, for checking what the page did."""
        headers = {"Authorization": authorization}
        body = {"query": query, "variables": variables or {}}
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"{self.url}/graphql", json=body, headers=headers) as response,
        ):
            answer: dict[str, Any] = await response.json(content_type=None)
            return answer

    async def data(self, token: str, query: str, variables: dict[str, Any] | None = None) -> Any:
        answer = await self.graphql(f"Bearer {token}", query, variables)
        assert not answer.get("errors"), answer
        return answer["data"]


def api_key_authorization(secret: str) -> str:
    return "Basic " + base64.b64encode(f"api:{secret}".encode()).decode()


def unique(prefix: str) -> str:
    """A fresh username or team name: the tests share one server."""
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


@contextlib.asynccontextmanager
async def open_page(context: Any) -> AsyncIterator[Any]:
    """A tab whose uncaught script errors and Content-Security-Policy violations fail
    the test when it closes."""
    tab = await context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))
    tab.on(
        "console",
        lambda message: (
            problems.append(f"console: {message.text}")
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    try:
        yield tab
    finally:
        await tab.close()
    assert problems == []


async def sign_in(page: Any, site: Site, token: str) -> None:
    """Open the settings page with the token in the fragment, as `make run`'s link does."""
    await page.goto(f"{site.url}/settings#token={token}")
    await ready(page)


async def ready(page: Any) -> None:
    """Wait until every section has loaded or said why it could not."""
    await page.wait_for_selector("body[data-ready]", timeout=15_000)


def section(page: Any, section_id: str) -> Any:
    return page.locator(f"#{section_id}")


async def expect_ready(page: Any, section_id: str) -> Any:
    """The section, once it has loaded (not "not available on this server")."""
    root = section(page, section_id)
    await expect(root).to_have_attribute("data-state", "ready")
    return root


async def screenshot(page: Any, section_id: str, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await section(page, section_id).screenshot(path=str(path))
    return path


def exactly(text: str) -> re.Pattern[str]:
    return re.compile(rf"^\s*{re.escape(text)}\s*$")
