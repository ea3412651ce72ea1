"""Fixtures: a real database per backend (SQLite always, PostgreSQL when
TEST_DATABASE_URL is set), the app served by uvicorn on loopback, and accounts."""

from __future__ import annotations

from tests.support import settings

settings.apply()

import os  # noqa: E402
import shutil  # noqa: E402
from collections.abc import AsyncIterator, Iterator  # noqa: E402

import aiohttp  # noqa: E402
import pytest  # noqa: E402
from tortoise import Tortoise  # noqa: E402
from tortoise.backends.base.executor import EXECUTOR_CACHE  # noqa: E402

import config  # noqa: E402
from app import create_app  # noqa: E402
from schema import schema  # noqa: E402
from services import rate_limits  # noqa: E402
from tests.support.fake_github import CLIENT_ID, CLIENT_SECRET, FakeGithub, serve_fake_github  # noqa: E402
from tests.support.helpers import (  # noqa: E402
    Database,
    GraphQL,
    LiveServer,
    create_database,
    drop_database,
    reset_database,
)

pytest_plugins = ["tests.support.fakes", "tests.support.receivers", "tests.support.attack"]

BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(autouse=True)
def plans_answer_what_they_claim() -> Iterator[None]:
    """A plan that gave up on a query that stock execution then answered without an
    error claimed an answer it could not give: a defect of the engine, whatever the
    test was about (`fastpath.abandons`)."""
    fast_path = getattr(schema, "fast_path", None)
    if fast_path is None:  # FAST_PATH=off
        yield
        return
    unexpected = fast_path.abandons.unexpected
    before = len(unexpected)
    yield
    assert unexpected[before:] == [], "plans gave up on queries stock execution answered"


@pytest.fixture(scope="session", params=BACKENDS)
async def database(request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    """One database per backend for the whole session; tables emptied per test."""
    kind = request.param
    if kind == "postgres" and not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL tests skipped")
    db = await create_database(kind, name="suite")
    # Tortoise caches INSERT statements by table, not by dialect: forget SQLite's
    # placeholders before the same models talk to PostgreSQL.
    EXECUTOR_CACHE.clear()
    await Tortoise.init(config=config.tortoise_config(db.url), _enable_global_fallback=True)
    await Tortoise.generate_schemas(safe=False)
    try:
        yield db
    finally:
        await Tortoise.close_connections()
        await drop_database(db)


@pytest.fixture
async def db(database: Database) -> Database:
    await reset_database(database)
    # Every test starts with every rate limit's count at zero (one process, one storage).
    await rate_limits.limiter.storage.reset()
    shutil.rmtree(config.MEDIA_ROOT, ignore_errors=True)
    config.MEDIA_ROOT.mkdir(parents=True, exist_ok=True)
    return database


@pytest.fixture(scope="session")
async def server(database: Database) -> AsyncIterator[LiveServer]:
    async with LiveServer.start(create_app(init_orm=False)) as live:
        yield live


@pytest.fixture
async def api(db: Database, server: LiveServer) -> AsyncIterator[GraphQL]:
    """An anonymous GraphQL client of the live server; `api.signed_in(...)` for others."""
    async with aiohttp.ClientSession() as http:
        yield GraphQL(http, server.url)


@pytest.fixture
async def github(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeGithub]:
    """A loopback server playing GitHub, with the GitHub settings pointing at it."""
    async with serve_fake_github() as fake:
        monkeypatch.setattr(config, "GITHUB_CLIENT_ID", CLIENT_ID)
        monkeypatch.setattr(config, "GITHUB_CLIENT_SECRET", CLIENT_SECRET)
        monkeypatch.setattr(config, "GITHUB_URL", fake.url)
        monkeypatch.setattr(config, "GITHUB_API_URL", fake.api_url)
        monkeypatch.setattr(config, "GITHUB_TIMEOUT_SECONDS", 0.5)
        yield fake
