"""Delivery across real server processes: two dispatchers sharing one PostgreSQL
database send each alert once, and a process SIGKILLed mid-delivery loses nothing."""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
from collections import Counter
from typing import Any

import aiohttp
import asyncpg
import pytest

from auth.tokens import issue_token
from tests.e2e.process import ServerProcess, free_port, migrate, server_env
from tests.support.fakes import MailServer
from tests.support.helpers import UNLIMITED_SETTING, Database, create_database, drop_database

pytestmark = pytest.mark.e2e

NOTIFY = """
mutation($input: NotifyScriptableRunAlertInput!) {
  notifyScriptableRunAlert(input: $input) { success errors { code message } }
}
"""

STATUSES = """
{ viewer { alertEvents(first: 100) { edges { node { title deliveries { status attempts } } } } } }
"""


def needs(kind: str) -> None:
    if kind == "postgres" and not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL tests skipped")


class Tracker:
    """A run tracker signed in as alice, talking to server processes."""

    def __init__(self, http: aiohttp.ClientSession) -> None:
        self.http = http
        self.headers = {"Authorization": f"Bearer {issue_token('alice', email='alice@lab.test')}"}

    async def graphql(
        self, server: ServerProcess, query: str, variables: dict[str, Any] | None = None
    ) -> Any:
        body = {"query": query, "variables": variables or {}}
        async with self.http.post(
            f"{server.url}/graphql", json=body, headers=self.headers
        ) as response:
            answer = await response.json()
        assert response.status == 200 and not answer.get("errors"), answer
        return answer["data"]

    async def alert(self, server: ServerProcess, title: str) -> None:
        alert = {
            "entityName": "alice",
            "projectName": "mnist",
            "runName": "run-1",
            "title": title,
            "text": "loss = nan",
        }
        data = await self.graphql(server, NOTIFY, {"input": alert})
        assert data["notifyScriptableRunAlert"] == {"success": True, "errors": []}


async def database(kind: str, env: dict[str, str]) -> Database:
    db = await create_database(kind, name="e2e")
    env["DATABASE_URL"] = db.url
    await asyncio.to_thread(migrate, env)
    return db


def sender_pids(messages: list[Any]) -> Counter[int]:
    # make_msgid() puts the sending process's pid in the Message-ID.
    pids = (re.match(r"<\d+\.(\d+)\.", str(m["Message-ID"])) for m in messages)
    return Counter(int(match.group(1)) for match in pids if match)


async def test_two_dispatchers_on_one_postgres_deliver_each_alert_once():
    needs("postgres")
    async with MailServer.running() as mail:
        # 500 alerts from one tracker: far over its rate limit, which is not the subject.
        env = server_env(
            "", SMTP_HOST="127.0.0.1", SMTP_PORT=str(mail.port), RATE_LIMITS=UNLIMITED_SETTING
        )
        db = await database("postgres", env)
        servers = [ServerProcess(env=env, port=free_port()) for _ in range(2)]
        try:
            await asyncio.gather(*(s.start() for s in servers))
            async with aiohttp.ClientSession() as http:
                tracker = Tracker(http)
                await tracker.alert(servers[0], "alert 0")  # the account exists from here on
                limit = asyncio.Semaphore(16)

                async def raise_one(n: int) -> None:
                    async with limit:
                        await tracker.alert(servers[n % 2], f"alert {n}")

                await asyncio.gather(*(raise_one(n) for n in range(1, 500)))
                messages = await mail.wait_for(500, timeout=60)
                await asyncio.sleep(1.0)  # time for any duplicate to show up

            titles = Counter(str(m["Subject"]).split("] ", 1)[1].split(" in ")[0] for m in messages)
            assert len(mail.messages) == 500
            assert titles == Counter(f"alert {n}" for n in range(500))
            senders = sender_pids(messages)
            assert set(senders) == {s.process.pid for s in servers if s.process}
        finally:
            for server in servers:
                server.stop()
            await drop_database(db)


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_deliveries_pending_when_a_process_is_killed_are_sent_after_restart(kind):
    needs(kind)
    async with MailServer.running("stall") as stalling, MailServer.running() as mail:
        env = server_env(
            "", SMTP_HOST="127.0.0.1", SMTP_PORT=str(stalling.port), DELIVERY_LEASE_SECONDS="2"
        )
        db = await database(kind, env)
        first = ServerProcess(env=env, port=free_port())
        second = ServerProcess(env={**env, "SMTP_PORT": str(mail.port)}, port=free_port())
        try:
            await first.start()
            async with aiohttp.ClientSession() as http:
                tracker = Tracker(http)
                for n in range(20):
                    await tracker.alert(first, f"alert {n}")
                while stalling.stalled < 1:  # deliveries are claimed and mid-send
                    await asyncio.sleep(0.02)

                first.kill()
                left = await _rows(db)

                assert len(left) == 20 and {status for status, _, _ in left} == {"PENDING"}
                assert any(leased for _, _, leased in left)  # claims of the dead process
                await second.start()
                messages = await mail.wait_for(20, timeout=30)
                await asyncio.sleep(0.5)
                assert len(mail.messages) == 20
                assert {str(m["Subject"]).split("] ")[1].split(" in ")[0] for m in messages} == {
                    f"alert {n}" for n in range(20)
                }
                delivered = await _statuses(tracker, second)
                assert set(delivered.values()) <= {("DELIVERED", 1), ("DELIVERED", 2)}
                assert len(delivered) == 20
        finally:
            first.kill()
            second.stop()
            await drop_database(db)


async def _rows(db: Database) -> list[tuple[str, int, bool]]:
    """(status, attempts, leased) of every delivery, read straight from the database."""
    query = "SELECT status, attempts, lease_until IS NOT NULL FROM alert_delivery"
    if db.kind == "sqlite":
        with sqlite3.connect(db.url.removeprefix("sqlite://")) as connection:
            return [(s, a, bool(leased)) for s, a, leased in connection.execute(query)]
    connection = await asyncpg.connect(os.environ["TEST_DATABASE_URL"])
    try:
        await connection.execute(f'SET search_path TO "{db.schema}"')
        return [(r[0], r[1], r[2]) for r in await connection.fetch(query)]
    finally:
        await connection.close()


async def _statuses(tracker: Tracker, server: ServerProcess) -> dict[str, tuple[str, int]]:
    """Each alert's (status, attempts), as the server answers."""
    data = await tracker.graphql(server, STATUSES)
    result = {}
    for edge in data["viewer"]["alertEvents"]["edges"]:
        [delivery] = edge["node"]["deliveries"]
        result[edge["node"]["title"]] = (delivery["status"], delivery["attempts"])
    return result


async def test_a_process_without_a_delivery_worker_leaves_the_sending_to_another():
    async with MailServer.running() as mail:
        env = server_env("", SMTP_HOST="127.0.0.1", SMTP_PORT=str(mail.port))
        db = await database("sqlite", env)
        answering = ServerProcess(env={**env, "DELIVERY_WORKER": "off"}, port=free_port())
        sending = ServerProcess(env=env, port=free_port())
        try:
            await answering.start()
            async with aiohttp.ClientSession() as http:
                tracker = Tracker(http)
                for n in range(3):
                    await tracker.alert(answering, f"alert {n}")
                await asyncio.sleep(1.5)  # over a poll: a dispatcher there would have sent
                assert mail.messages == []

                await sending.start()
                messages = await mail.wait_for(3, timeout=20)

            assert set(sender_pids(messages)) == {sending.process.pid if sending.process else 0}
        finally:
            answering.stop()
            sending.stop()
            await drop_database(db)
