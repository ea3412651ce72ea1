"""Fixtures of the browser tests: Debian's Chromium driven by Playwright, against a real
`uvicorn app:app` process with its own SQLite database, and loopback Slack, GitHub and
webhook receiver.

Locally the tests skip, saying why, when Playwright or Chromium is missing; with
CI_REQUIRE_BROWSER=1 (set by .ci/run) a missing browser fails them instead.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.browser.fakes import FakeGithub, FakeSlack, serve
from tests.browser.helpers import CHROMIUM, CHROMIUM_ARGS, DESKTOP, Site, open_page
from tests.e2e.process import ServerProcess, free_port, migrate, server_env
from tests.support.helpers import create_database, drop_database
from tests.support.receivers import WebhookReceiver


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if importlib.util.find_spec("playwright") is None:
        return "Playwright for Python is not installed (pip install '.[dev]')"
    if not os.access(CHROMIUM, os.X_OK):
        return f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium)"
    return None


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    reason = missing_browser()
    if reason is not None:
        if os.environ.get("CI_REQUIRE_BROWSER") == "1":
            pytest.fail(f"CI_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(f"browser tests skipped: {reason}")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture(scope="session")
async def slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    async with serve(fake):
        yield fake


@pytest.fixture(scope="session")
async def github() -> AsyncIterator[FakeGithub]:
    fake = FakeGithub()
    async with serve(fake):
        yield fake


@pytest.fixture(scope="session")
async def hooks() -> AsyncIterator[WebhookReceiver]:
    """A Standard Webhooks receiver on loopback that the server may send to. The server
    runs in a process of its own, where the `webhook_receiver` fixture's monkeypatched
    setting does not reach: this one goes in its WEBHOOK_ALLOW_HOSTS. Shared by the
    tests, each at paths of its own; add a webhook's secret to `secrets` to verify."""
    async with WebhookReceiver.running() as receiver:
        yield receiver


@pytest.fixture(scope="session")
async def site(
    browser: Any, slack: FakeSlack, github: FakeGithub, hooks: WebhookReceiver
) -> AsyncIterator[Site]:
    """One server process for the browser tests; each test signs in as its own user."""
    db = await create_database("sqlite", name="browser")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = server_env(
        db.url,
        PUBLIC_URL=url,
        OAUTH_REDIRECT_URIS=f"{url}/settings/connected",
        DELIVERY_RETRY_BASE_SECONDS="0.2",
        DELIVERY_POLL_SECONDS="0.2",
        # Email alerts go to a loopback port where nothing listens: they fail, locally.
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(free_port()),
        GITHUB_TIMEOUT_SECONDS="5",
        WEBHOOK_ALLOW_HOSTS=hooks.host,
        **slack.settings(),
        **github.settings(),
    )
    migrate(env)
    server = ServerProcess(env=env, port=port)
    await server.start()
    try:
        yield Site(server=server, env=env)
    finally:
        server.stop()
        await drop_database(db)


@pytest.fixture
async def context(browser: Any) -> AsyncIterator[Any]:
    """A fresh browser profile (its own sessionStorage) at desktop width."""
    context = await browser.new_context(viewport=DESKTOP, locale="en-US")
    try:
        yield context
    finally:
        await context.close()


@pytest.fixture
async def page(context: Any) -> AsyncIterator[Any]:
    """A tab that fails the test on an uncaught script error or a policy violation."""
    async with open_page(context) as tab:
        yield tab
