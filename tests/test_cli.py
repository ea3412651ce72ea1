"""Operator commands, run as an operator would: `python cli.py ...`."""

from __future__ import annotations

import subprocess
import sys

import pytest

import config
from auth.tokens import verify_token
from tests.e2e.process import migrate, server_env
from tests.support.helpers import create_database, drop_database


@pytest.fixture
async def env():
    db = await create_database("sqlite", name="cli")
    environment = server_env(db.url)
    migrate(environment)
    yield environment
    await drop_database(db)


def cli(env, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own CLI
        [sys.executable, "cli.py", *args],
        cwd=config.ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def in_server_env(env, statement: str) -> str:
    """What `statement` (awaited, with the ORM up) prints, run as the server would."""
    code = (
        "import asyncio, config\n"
        "from tortoise import Tortoise\n"
        "from auth.accounts import user_for_claims\n"
        "from auth.tokens import Claims\n"
        "from models.user import User\n"
        "async def main():\n"
        "    await Tortoise.init(config=config.TORTOISE_ORM)\n"
        f"    print(await {statement})\n"
        "    await Tortoise.close_connections()\n"
        "asyncio.run(main())\n"
    )
    result = subprocess.run(  # noqa: S603 - fixed code
        [sys.executable, "-c", code], cwd=config.ROOT, env=env, capture_output=True, text=True
    )
    return result.stdout.strip()


def is_admin(env, username: str) -> str:
    return in_server_env(env, f"User.filter(username={username!r}).values_list('admin', flat=True)")


async def test_token_prints_a_token_the_server_accepts(env):
    result = cli(env, "token", "dana", "--email", "dana@example.com")

    claims = verify_token(result.stdout.strip())
    assert (result.returncode, claims.username, claims.email) == (0, "dana", "dana@example.com")


async def test_token_with_admin_creates_an_administrator(env):
    assert cli(env, "token", "dana", "--admin").returncode == 0

    assert is_admin(env, "dana") == "[True]"


async def test_grant_admin_of_an_unknown_account_fails_and_says_why(env):
    result = cli(env, "grant-admin", "ghost")

    assert result.returncode == 1
    assert "No account named 'ghost'" in result.stdout


async def test_grant_admin(env):
    in_server_env(env, "user_for_claims(Claims('eve', '', 'Eve', None))")
    assert is_admin(env, "eve") == "[False]"

    result = cli(env, "grant-admin", "EVE")

    assert result.returncode == 0
    assert is_admin(env, "eve") == "[True]"


async def test_token_refuses_an_invalid_username(env):
    result = cli(env, "token", "not a name")

    assert result.returncode == 2
    assert "not a valid username" in result.stdout


async def test_demo_link_opens_the_settings_page_signed_in_as_an_admin(env):
    result = cli(env, "demo-link", "demo", "--admin", "--base-url", "http://127.0.0.1:8000/")

    base, _, fragment = result.stdout.strip().partition("#token=")
    claims = verify_token(fragment)
    assert (result.returncode, base) == (0, "http://127.0.0.1:8000/settings")
    assert (claims.username, claims.email) == ("demo", "demo@example.com")
    assert is_admin(env, "demo") == "[True]"


async def test_demo_link_refuses_an_invalid_username(env):
    result = cli(env, "demo-link", "not a name")

    assert result.returncode == 2
    assert "not a valid username" in result.stdout
