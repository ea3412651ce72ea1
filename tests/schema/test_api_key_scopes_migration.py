"""Migration 0008 on a database that already holds API keys: they keep working, as run
trackers' keys (READ and RUNS), and never expire."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from tortoise.backends.base.executor import EXECUTOR_CACHE

from tests.e2e.process import ROOT, server_env
from tests.support.helpers import create_database, drop_database


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_keys_made_before_scopes_may_read_and_report_runs(kind):
    if kind == "postgres" and not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL tests skipped")
    db = await create_database(kind, name="scopes")
    try:
        done = subprocess.run(  # noqa: S603 - fixed arguments
            [sys.executable, "-c", _OLD_KEY_THEN_MIGRATE],
            cwd=ROOT,
            env=server_env(db.url),
            capture_output=True,
            text=True,
            check=False,
        )

        assert done.returncode == 0, done.stderr
        assert done.stdout.split() == ["READ,RUNS", "None"]
    finally:
        await drop_database(db)
        EXECUTOR_CACHE.clear()


# Run in the server's own environment: an account, the schema as 0007 left it, a key
# inserted in its columns, then the remaining migrations, then the key read back.
_OLD_KEY_THEN_MIGRATE = """
import asyncio
from tortoise import Tortoise, connections
from tortoise.migrations.api.migrate import migrate
import config
from auth.accounts import user_for_claims
from auth.tokens import Claims
from models.api_key import ApiKey

HASH = "0" * 64

async def main():
    # The account is made as the models are now, then the schema taken back to 0007.
    try:
        await migrate(config=config.TORTOISE_ORM)
    finally:
        await Tortoise.close_connections()
    await Tortoise.init(config=config.TORTOISE_ORM)
    try:
        user = await user_for_claims(Claims("ada", "ada@example.com", "Ada", issued_at=None))
    finally:
        await Tortoise.close_connections()
    try:
        await migrate(config=config.TORTOISE_ORM, target="models.0007_team_invites")
    finally:
        await Tortoise.close_connections()
    await Tortoise.init(config=config.TORTOISE_ORM)
    try:
        await connections.get("default").execute_script(
            "INSERT INTO api_key (user_id, name, prefix, key_hash, created_at) "
            f"VALUES ({user.id}, 'old', 'abcdefgh', '{HASH}', '2026-01-01T00:00:00+00:00')"
        )
    finally:
        await Tortoise.close_connections()
    try:
        await migrate(config=config.TORTOISE_ORM)
    finally:
        await Tortoise.close_connections()
    await Tortoise.init(config=config.TORTOISE_ORM)
    try:
        key = await ApiKey.get(key_hash=HASH)
        print(key.scopes, key.expires_at)
    finally:
        await Tortoise.close_connections()

asyncio.run(main())
"""
