"""Operator commands, run as an operator would: `python cli.py ...`."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys

import aiohttp
import pytest

import config
import serving
from auth.tokens import verify_token
from tests.e2e.process import ServerProcess, migrate, raw_request, server_env
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
        "from datetime import UTC, datetime, timedelta\n"
        "from models.alert import AlertEvent\n"
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


async def test_prune_deletes_alert_events_past_the_retention(env):
    in_server_env(env, "user_for_claims(Claims('eve', '', 'Eve', None))")
    for title in ("old", "new"):
        in_server_env(
            env,
            "AlertEvent.create(user=await User.get(username='eve'), type='TEST', "
            f"title={title!r}, text='x', entity_name='eve', project_name='', run_name='')",
        )
    in_server_env(
        env,
        "AlertEvent.filter(title='old').update("
        "created_at=datetime.now(UTC) - timedelta(days=config.ALERT_RETENTION_DAYS + 1))",
    )

    result = cli(env, "prune")

    assert result.returncode == 0
    assert result.stdout.startswith("Deleted 1 rows")
    assert in_server_env(env, "AlertEvent.all().values_list('title', flat=True)") == "['new']"


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


def test_serve_configures_uvicorn_with_the_serving_limits():
    built = serving.uvicorn_config("127.0.0.2", 8123)

    assert {
        "where": (built.host, built.port),
        "loop": built.loop,
        "http": built.http,
        "ws": built.ws,
        "ws_max_size": built.ws_max_size,
        "limit_concurrency": built.limit_concurrency,
        "backlog": built.backlog,
        "timeout_keep_alive": built.timeout_keep_alive,
        "timeout_graceful_shutdown": built.timeout_graceful_shutdown,
        "proxy_headers": built.proxy_headers,
        "forwarded_allow_ips": built.forwarded_allow_ips,
    } == {
        "where": ("127.0.0.2", 8123),
        "loop": "uvloop",
        "http": serving.GuardedHttpTools,
        "ws": "websockets-sansio",
        "ws_max_size": config.MAX_BODY_BYTES,
        "limit_concurrency": config.MAX_CONNECTIONS,
        "backlog": config.LISTEN_BACKLOG,
        "timeout_keep_alive": config.KEEP_ALIVE_TIMEOUT_SECONDS,
        "timeout_graceful_shutdown": config.SHUTDOWN_TIMEOUT_SECONDS,
        "proxy_headers": True,
        "forwarded_allow_ips": config.FORWARDED_ALLOW_IPS,
    }
    assert (config.MAX_HEAD_BYTES, config.HEAD_TIMEOUT_SECONDS) == (64 * 1024, 10.0)


async def test_serve_answers_and_applies_the_head_limit_from_its_settings(env):
    # ServerProcess runs `python cli.py serve --host 127.0.0.1 --port P`.
    server = ServerProcess({**env, "MAX_HEAD_BYTES": "4096"})
    await server.start()
    try:
        async with aiohttp.ClientSession() as http, http.get(f"{server.url}/healthz") as health:
            status = health.status
        small = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"p" * 3000 + b"\r\n\r\n"
        large = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"p" * 5000 + b"\r\n\r\n"
        answers = [await asyncio.to_thread(raw_request, server.port, h) for h in (small, large)]
    finally:
        server.stop()

    assert server.command()[1:3] == ["cli.py", "serve"]
    assert status == 200
    assert answers[0].startswith(b"HTTP/1.1 200 ")
    assert answers[1].startswith(b"HTTP/1.1 431 ")


async def test_serve_fails_when_its_port_is_taken(env):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        result = cli(env, "serve", "--port", str(port), "--log-level", "error")

    assert result.returncode == 3  # uvicorn's: the server did not start
    assert "address already in use" in result.stderr.lower()
