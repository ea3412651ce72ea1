"""notifyScriptableRunAlert with its alerts delivered to Slack: its latency must not
depend on Slack's pace (goal: a ratio under 1.2), and its throughput with delivery on.

    python -m bench.alert_ingestion [--requests 150] [--rounds 3] [--seconds 3]
                                    [--database sqlite|postgres]

On SQLite, and on PostgreSQL too when TEST_DATABASE_URL is set: two `uvicorn app:app`
processes, each on a fresh database, with Slack connected through the real OAuth
flow to a loopback Slack that answers at once for one and waits 500 ms for the other.

- Latency: rounds of `--requests` sequential alerts (after 20 that warm the server
  up) alternate between the two servers, which one goes first alternating too; a
  round starts once no delivery of the one before is pending, so one server's
  deliveries never fall in the other's round. The ratio is of the medians of all
  latencies.
- Throughput: the load generator (`bench/loadgen.py`, its own process) against the
  server whose Slack answers at once, with the user's Slack subscription on (each
  alert writes a delivery and the dispatcher sends it, beside the requests) and off
  (no delivery), in alternating windows that each start with no delivery pending.
  The ratio is the median of the per-round ratios of requests/s.

Defaults come from BENCH_ALERT_REQUESTS, BENCH_ROUNDS and BENCH_SECONDS.
"""

from __future__ import annotations

from tests.support import settings

settings.apply()

import argparse  # noqa: E402
import asyncio  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sqlite3  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import AsyncIterator, Sequence  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import parse_qs, urlsplit  # noqa: E402

import aiohttp  # noqa: E402
import asyncpg  # noqa: E402

from auth.tokens import issue_token  # noqa: E402
from bench.figures import Figure, render  # noqa: E402
from bench.loadgen import CONNECTIONS, Load, LoadGenerator, Request  # noqa: E402
from bench.servers import on_each_backend, postgres_available  # noqa: E402
from bench.settings_page import describe, ratios  # noqa: E402
from tests.e2e.process import ServerProcess, migrate, server_env, server_process  # noqa: E402
from tests.support.fakes import SlackServer  # noqa: E402
from tests.support.helpers import (  # noqa: E402
    UNLIMITED_SETTING,
    Database,
    create_database,
    drop_database,
)

#: Sequential alerts a server, a round (after WARMUP more).
REQUESTS = int(os.environ.get("BENCH_ALERT_REQUESTS", "150"))
WARMUP = 20
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
#: Seconds of each throughput window.
SECONDS = float(os.environ.get("BENCH_SECONDS", "3"))
GOAL = "< 1.2"
NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}

START = "mutation { startSlackConnect(input: {}) { authorizeUrl } }"
CONNECT = """
mutation($state: String!) {
  connectSlack(input: {code: "bench", state: $state}) { errors { message } }
}
"""
SUBSCRIBE = """
mutation($channel: AlertChannel!, $enabled: Boolean!) {
  setAlertSubscription(input: {event: SCRIPTABLE, channel: $channel, enabled: $enabled}) {
    errors { message }
  }
}
"""
NOTIFY = """
mutation NotifyScriptableRunAlert($entityName: String!, $projectName: String!,
    $runName: String!, $title: String!, $text: String!,
    $severity: AlertSeverity = INFO, $waitDuration: Duration) {
  notifyScriptableRunAlert(input: {entityName: $entityName, projectName: $projectName,
      runName: $runName, title: $title, text: $text, severity: $severity,
      waitDuration: $waitDuration}) { success }
}
"""


def alert(title: str) -> dict[str, str]:
    return {
        "entityName": "bench",
        "projectName": "latency",
        "runName": "run-1",
        "title": title,
        "text": "loss = nan",
        "severity": "WARN",
    }


class Client:
    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self.http = http
        self.url = f"{url}/graphql"
        self.headers = {"Authorization": f"Bearer {issue_token('bench', email='b@bench.test')}"}

    async def __call__(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        body = {"query": query, "variables": variables or {}}
        async with self.http.post(self.url, json=body, headers=self.headers) as response:
            answer = await response.json()
        if answer.get("errors"):
            raise RuntimeError(answer["errors"])
        return answer["data"]


@contextlib.asynccontextmanager
async def alert_server(
    kind: str, slack: SlackServer, hook: str, http: aiohttp.ClientSession
) -> AsyncIterator[tuple[ServerProcess, Database, Client]]:
    """A server on a fresh database whose user's alerts go to Slack's webhook `hook` only."""
    db = await create_database(kind, name="bench")
    env = server_env(
        db.url,
        SLACK_CLIENT_ID="bench",
        SLACK_CLIENT_SECRET="bench-secret",  # noqa: S106 - the loopback fake accepts any
        SLACK_API_URL=f"{slack.url}/api",
        SLACK_WEBHOOK_HOSTS=slack.host,
        # One tracker's thousands of alerts: ingestion is measured, not its rate limit.
        RATE_LIMITS=UNLIMITED_SETTING,
    )
    try:
        await asyncio.to_thread(migrate, env)
        async with server_process(env) as server:
            call = Client(http, server.url)
            slack.oauth = slack.grant(hook)
            url = (await call(START))["startSlackConnect"]["authorizeUrl"]
            await call(CONNECT, {"state": parse_qs(urlsplit(url).query)["state"][0]})
            # Alerts go to Slack only: the measure is whether Slack's pace shows.
            await call(SUBSCRIBE, {"channel": "SLACK", "enabled": True})
            await call(SUBSCRIBE, {"channel": "EMAIL", "enabled": False})
            yield server, db, call
            await drained(db)  # a clean stop: nothing left for the dispatcher to send
    finally:
        await drop_database(db)


async def pending(db: Database) -> int:
    """Deliveries not yet sent, read from the server's database."""
    sql = "SELECT count(*) FROM alert_delivery WHERE status = 'PENDING'"
    if db.kind == "sqlite":

        def count() -> int:
            with contextlib.closing(sqlite3.connect(db.url.removeprefix("sqlite://"))) as c:
                found: int = c.execute(sql).fetchone()[0]
                return found

        return await asyncio.to_thread(count)
    connection = await asyncpg.connect(
        os.environ["TEST_DATABASE_URL"], server_settings={"search_path": db.schema or ""}
    )
    try:
        found: int = await connection.fetchval(sql)
        return found
    finally:
        await connection.close()


async def drained(db: Database, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while await pending(db):
        if time.monotonic() > deadline:
            raise TimeoutError(f"deliveries still pending after {timeout:.0f} s")
        await asyncio.sleep(0.2)


async def sequential(call: Client, requests: int) -> list[float]:
    """Latencies (seconds) of `requests` alerts sent one after another."""
    latencies = []
    for n in range(requests + WARMUP):
        started = time.perf_counter()
        data = await call(NOTIFY, alert(f"alert {n}"))
        if n >= WARMUP:
            latencies.append(time.perf_counter() - started)
        assert data["notifyScriptableRunAlert"]["success"] is True
    return latencies


async def under_load(
    load: LoadGenerator,
    server: ServerProcess,
    db: Database,
    call: Client,
    rounds: int,
    seconds: float,
) -> dict[str, list[Load]]:
    """Windows of load with the Slack subscription on and off, alternating."""
    # The very request of the latency rounds (whose answers were checked), title fixed.
    body = json.dumps({"query": NOTIFY, "variables": alert("under load")})
    headers = {"Content-Type": "application/json", **call.headers}
    request = Request("POST", "/graphql", headers, body)
    measured: dict[str, list[Load]] = {"on": [], "off": []}
    for n in range(rounds):
        for mode in ("on", "off") if n % 2 == 0 else ("off", "on"):
            await call(SUBSCRIBE, {"channel": "SLACK", "enabled": mode == "on"})
            await drained(db)
            measured[mode].append(await load.run([server.url], request, seconds=seconds))
    return measured


def latency(label: str, latencies: Sequence[float]) -> str:
    ordered = sorted(latencies)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return f"{label}: median {statistics.median(ordered) * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms"


async def compare(kind: str, requests: int, rounds: int, seconds: float) -> list[Figure]:
    async with contextlib.AsyncExitStack() as stack:
        slack = await stack.enter_async_context(SlackServer.running())
        slack.slow_seconds = 0.5
        http = await stack.enter_async_context(aiohttp.ClientSession())
        servers = {
            hook: await stack.enter_async_context(alert_server(kind, slack, hook, http))
            for hook in ("ok", "slow")
        }
        latencies: dict[str, list[float]] = {"ok": [], "slow": []}
        for n in range(rounds):
            # Alternate the order, so a noisy neighbour on the machine hurts both alike.
            for hook in ("ok", "slow") if n % 2 == 0 else ("slow", "ok"):
                _, db, call = servers[hook]
                latencies[hook] += await sequential(call, requests)
                await drained(db)
        load = await stack.enter_async_context(LoadGenerator.started())
        loads = await under_load(load, *servers["ok"], rounds, seconds)
    fast, slow = latencies["ok"], latencies["slow"]
    name = NAMES[kind]
    return [
        Figure(
            name=f"notifyScriptableRunAlert latency, Slack slow vs at once, {name}",
            measured=latency("Slack waits 500 ms", slow),
            baseline=latency("Slack at once", fast),
            ratio=statistics.median(slow) / statistics.median(fast),
            goal=GOAL,
            note=f"ratio of medians; {rounds} rounds × {requests} sequential requests a server",
        ),
        Figure(
            name=f"notifyScriptableRunAlert under load, delivery on vs off, {name}",
            measured=describe("delivery on", loads["on"]),
            baseline=describe("delivery off", loads["off"]),
            ratio=ratios(loads["on"], loads["off"]),
            note=(
                f"Slack at once; {rounds} rounds × {seconds:g} s, {CONNECTIONS} connections; "
                "each window starts with no delivery pending"
            ),
        ),
    ]


async def figures(kinds: Sequence[str], requests: int, rounds: int, seconds: float) -> list[Figure]:
    found = []
    for kind in kinds:
        found += await compare(kind, requests, rounds, seconds)
    return found


async def every_kind(requests: int, rounds: int, seconds: float) -> list[Figure]:
    """SQLite, and PostgreSQL when TEST_DATABASE_URL is set."""
    return await on_each_backend(
        "notifyScriptableRunAlert, PostgreSQL",
        lambda kind: figures([kind], requests, rounds, seconds),
    )


async def run() -> list[Figure]:
    return await every_kind(REQUESTS, ROUNDS, SECONDS)


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=REQUESTS, help="per server, per round")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--seconds", type=float, default=SECONDS, help="per throughput window")
    parser.add_argument("--database", choices=NAMES, help="one kind only")
    args = parser.parse_args()
    if args.database == "postgres" and not postgres_available():
        parser.error("PostgreSQL needs TEST_DATABASE_URL")
    if args.database:
        found = figures([args.database], args.requests, args.rounds, args.seconds)
    else:
        found = every_kind(args.requests, args.rounds, args.seconds)
    print(render(asyncio.run(found)))


if __name__ == "__main__":
    cli()
