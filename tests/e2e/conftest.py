"""A migrated server process per backend, shared by the tests of a module."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest

from tests.e2e.process import ServerProcess, migrate, server_env, server_process
from tests.support.helpers import create_database, drop_database


@pytest.fixture(params=["sqlite", "postgres"], scope="module")
async def live(request: pytest.FixtureRequest) -> AsyncIterator[ServerProcess]:
    """`python cli.py serve` on a freshly migrated database: SQLite, and PostgreSQL when
    TEST_DATABASE_URL is set."""
    if request.param == "postgres" and not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL tests skipped")
    db = await create_database(request.param, name="e2e")
    try:
        env = server_env(db.url)
        migrate(env)
        async with server_process(env) as server:
            yield server
    finally:
        await drop_database(db)
