"""Live alerts across real server processes sharing PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator

import aiohttp
import pytest

from auth.tokens import issue_token
from tests.e2e.process import ServerProcess, free_port, migrate, server_env, server_process
from tests.notifiers.test_bus import own_redis_server, wait_for_redis
from tests.support.helpers import create_database, drop_database
from tests.support.ws import graphql_socket

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not (os.environ.get("TEST_DATABASE_URL") and os.environ.get("TEST_REDIS_URL")),
        reason="needs TEST_DATABASE_URL and TEST_REDIS_URL",
    ),
]

TOKEN = issue_token("carol", ttl_seconds=3600)
AUTHORIZATION = f"Bearer {TOKEN}"
QUIET = """mutation {
  setAlertSubscription(input: {event: SCRIPTABLE, channel: EMAIL, enabled: false}) {
    errors { code }
  }
}"""
NOTIFY = """mutation($title: String!) {
  notifyScriptableRunAlert(input: {entityName: "carol", projectName: "p", runName: "r",
    title: $title, text: "t"}) { success errors { code } }
}"""


async def graphql(
    server: ServerProcess, query: str, variables: dict[str, object] | None = None
) -> dict[str, object]:
    async with (
        aiohttp.ClientSession(headers={"Authorization": AUTHORIZATION}) as http,
        http.post(f"{server.url}/graphql", json={"query": query, "variables": variables}) as r,
    ):
        body = await r.json()
    assert "errors" not in body, body
    return dict(body["data"])


async def raise_through(server: ServerProcess, title: str) -> None:
    data = await graphql(server, NOTIFY, {"title": title})
    assert data["notifyScriptableRunAlert"] == {"success": True, "errors": []}


@pytest.fixture
async def cluster_env() -> AsyncIterator[dict[str, str]]:
    db = await create_database("postgres", name="cluster")
    try:
        env = server_env(
            db.url,
            REDIS_URL=os.environ["TEST_REDIS_URL"],
            BUS_CHANNEL=f"test-cluster-{uuid.uuid4().hex}",
            # Each run's account ids start at 1: their counts must not meet in Redis.
            RATE_LIMIT_PREFIX=f"test-limits-{uuid.uuid4().hex}",
        )
        migrate(env)
        yield env
    finally:
        await drop_database(db)


async def test_subscriber_on_one_process_receives_an_alert_raised_through_another(cluster_env):
    async with server_process(cluster_env) as one, server_process(cluster_env) as other:
        await graphql(one, QUIET)
        async with graphql_socket(one.url, AUTHORIZATION) as socket:
            await socket.subscribe()
            await asyncio.sleep(0.3)

            await raise_through(other, "from the other process")
            event = await socket.event()

    assert event["title"] == "from the other process"


async def test_replay_with_after_across_a_restart_of_the_clients_server(cluster_env):
    async with server_process(cluster_env) as other:
        await graphql(other, QUIET)
        async with server_process(cluster_env) as connected:
            async with graphql_socket(connected.url, AUTHORIZATION) as socket:
                await socket.subscribe()
                await asyncio.sleep(0.3)
                await raise_through(other, "one")
                last_seen = (await socket.event())["id"]

                connected.kill()
                await raise_through(other, "two")
                await raise_through(other, "three")
                await connected.start()

            async with graphql_socket(connected.url, AUTHORIZATION) as socket:
                await socket.subscribe(variables={"after": last_seen})
                replayed = [(await socket.event())["title"] for _ in range(2)]
                await raise_through(other, "four")
                live = (await socket.event())["title"]

    assert replayed == ["two", "three"]
    assert live == "four"


@pytest.mark.skipif(not shutil.which("redis-server"), reason="redis-server is not installed")
async def test_alerts_still_arrive_after_redis_restarts(cluster_env):
    port = free_port()
    redis_url = f"redis://127.0.0.1:{port}/0"
    env = {**cluster_env, "REDIS_URL": redis_url}
    with own_redis_server(port) as redis_server:
        await wait_for_redis(redis_url)
        async with server_process(env) as one, server_process(env) as other:
            await graphql(one, QUIET)
            async with graphql_socket(one.url, AUTHORIZATION) as socket:
                await socket.subscribe()
                await asyncio.sleep(0.3)
                await raise_through(other, "before the restart")
                assert (await socket.event())["title"] == "before the restart"

                redis_server.terminate()
                redis_server.wait(timeout=10)
                await raise_through(other, "while Redis is down")
                with own_redis_server(port):
                    await wait_for_redis(redis_url)
                    missed = await socket.event(timeout=20)
                    await asyncio.sleep(1)  # both processes are subscribed again
                    await raise_through(other, "after the restart")
                    titles = [missed["title"]]
                    while titles[-1] != "after the restart":
                        titles.append((await socket.event(timeout=20))["title"])

    assert titles == ["while Redis is down", "after the restart"]
