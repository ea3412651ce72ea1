"""Soak: many clients and live subscribers against one server process for a minute.

    TEST_DATABASE_URL=postgres://... TEST_REDIS_URL=redis://... python -m bench.soak
        [--clients 200] [--subscribers 500] [--seconds 60] [--users 50] [--rounds 1] [--mix ...]

One `uvicorn app:app` process on PostgreSQL (a schema of its own) with Redis as the
alert bus, and an SMTP sink on loopback for its alert emails. `--clients` HTTP
clients, each sending its next request when the last is answered, mix the settings
page query (50 %), profile updates (15 %), beta-feature toggles (15 %) and alerts
from runs (`notifyScriptableRunAlert`, 20 %), as `--users` accounts; `--subscribers`
WebSocket clients follow those accounts' alerts live. It prints the requests, the
errors (any GraphQL error or payload error), the 5xx answers, p50/p99 latency, what
the subscribers received, and the server's resident memory at the start of the
load, 10 seconds in and at the end. Goals: 0 errors, 0 5xx, and at most 10 % more
memory at the end than 10 seconds in. Figures are printed, never asserted; the
load generator shares the machine with the server.
"""

from __future__ import annotations

from tests.support import settings

settings.apply()

import argparse  # noqa: E402
import asyncio  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections import Counter, defaultdict  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

import aiohttp  # noqa: E402

from auth.tokens import issue_token  # noqa: E402
from bench.fanout import rss_kib  # noqa: E402
from bench.sockets import subscribed_socket  # noqa: E402
from tests.e2e.process import ServerProcess, migrate, server_env, server_process  # noqa: E402
from tests.support.fakes import MailServer  # noqa: E402
from tests.support.helpers import UNLIMITED_SETTING, create_database, drop_database  # noqa: E402

SETTINGS_PAGE = """
query SettingsPage {
  viewer {
    id username email name institution bio location websiteUrl photoUrl admin createdAt
    hideTeamsFromPublic
    projectDefaults { entity { name isTeam } privacy codeSavingEnabled }
    availableEntities { name isTeam }
    teams { edges { node {
      id name memberCount viewerRole members { profile { username } role }
    } } }
    betaFeatures { key name enabled }
    alertSubscriptions { event channel enabled }
    apiKeys { edges { node { id name prefix createdAt lastUsedAt } } }
    storageUsage { usedBytes limitBytes fraction }
  }
}
"""
UPDATE_USER = """
mutation($bio: String!) { updateUser(input: {bio: $bio}) { user { bio } errors { code } } }
"""
TOGGLE = """
mutation($on: Boolean!) {
  setBetaFeature(input: {key: "night-mode", enabled: $on}) {
    betaFeature { enabled } errors { code }
  }
}
"""
ALERT = """
mutation($entity: String!, $title: String!) {
  notifyScriptableRunAlert(input: {entityName: $entity, projectName: "soak", runName: "r1",
    title: $title, text: "loss is nan", severity: WARN}) { success errors { code } }
}
"""
SUBSCRIBE = {"query": "subscription { alertEvents { id title deliveries { status } } }"}
MIX = {"settings page": 50, "updateUser": 15, "setBetaFeature": 15, "alert": 20}


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    server_errors: int = 0
    samples: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    def error(self, kind: str, detail: str) -> None:
        self.errors[kind] += 1
        if len(self.samples) < 5:
            self.samples.append(f"{kind}: {detail[:300]}")


@dataclass
class Subscribers:
    events: int = 0
    errors: int = 0
    closed: int = 0
    sockets: list[aiohttp.ClientWebSocketResponse] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def connect(self, http: aiohttp.ClientSession, url: str, tokens: list[str]) -> None:
        for start in range(0, len(tokens), 100):
            await asyncio.gather(*(self._one(http, url, t) for t in tokens[start : start + 100]))

    async def _one(self, http: aiohttp.ClientSession, url: str, token: str) -> None:
        ws = await subscribed_socket(http, url, token, SUBSCRIBE)
        self.sockets.append(ws)
        self.tasks.append(asyncio.create_task(self._read(ws)))

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            body = message.json()
            if body.get("type") == "next" and not body["payload"].get("errors"):
                self.events += 1
            elif body.get("type") != "pong":
                self.errors += 1
        self.closed += 1

    async def close(self) -> None:
        open_sockets = [t for t in self.tasks if not t.done()]
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)
        self.closed -= len(open_sockets) - len([t for t in open_sockets if not t.cancelled()])


async def request(
    http: aiohttp.ClientSession, url: str, token: str, kind: str, user: str, rng: random.Random
) -> tuple[int, dict[str, Any] | None]:
    query, variables = {
        "settings page": (SETTINGS_PAGE, {}),
        "updateUser": (UPDATE_USER, {"bio": f"Soaking {rng.randrange(10**6)}"}),
        "setBetaFeature": (TOGGLE, {"on": rng.random() < 0.5}),
        "alert": (ALERT, {"entity": user, "title": f"loss {rng.randrange(1000)}"}),
    }[kind]
    async with http.post(
        f"{url}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": token},
    ) as response:
        try:
            body = await response.json(content_type=None)
        except ValueError:
            body = None
        return response.status, body


async def client(
    http: aiohttp.ClientSession,
    url: str,
    users: list[tuple[str, str]],
    number: int,
    deadline: float,
    tally: Tally,
    mix: dict[str, int],
) -> None:
    rng = random.Random(number)
    user, token = users[number % len(users)]
    kinds, weights = zip(*mix.items(), strict=True)
    while time.monotonic() < deadline:
        kind = rng.choices(kinds, weights)[0]
        started = time.perf_counter()
        try:
            status, body = await request(http, url, token, kind, user, rng)
        except (aiohttp.ClientError, TimeoutError) as failure:
            tally.error(kind, f"connection: {failure!r}")
            continue
        tally.latencies[kind].append((time.perf_counter() - started) * 1000)
        if status >= 500:
            tally.server_errors += 1
        if status != 200 or body is None:
            tally.error(kind, f"HTTP {status}: {body}")
        elif body.get("errors"):
            tally.error(kind, str(body["errors"]))
        elif any(isinstance(p, dict) and p.get("errors") for p in body["data"].values()):
            tally.error(kind, str(body["data"]))


async def sample_memory(pid: int, started: float, samples: list[tuple[float, int]]) -> None:
    while True:
        samples.append((time.monotonic() - started, rss_kib(pid)))
        await asyncio.sleep(1)


async def drain(subscribers: Subscribers, mail: MailServer, limit: float) -> tuple[float, int]:
    """Waits, up to `limit` seconds, until neither live events nor emails have arrived
    for 3 seconds: what the server still had queued when the load stopped."""

    def arrived() -> int:
        return subscribers.events + len(mail.messages)

    started, last, last_change = time.monotonic(), arrived(), time.monotonic()
    while time.monotonic() - started < limit and time.monotonic() - last_change < 3:
        await asyncio.sleep(0.5)
        if arrived() != last:
            last, last_change = arrived(), time.monotonic()
    return last_change - started, subscribers.events


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] if ordered else 0.0


async def soak(server: ServerProcess, mail: MailServer, args: argparse.Namespace) -> str:
    assert server.process is not None
    users = [
        (f"soak{n}", f"Bearer {issue_token(f'soak{n}', email=f'soak{n}@example.com')}")
        for n in range(args.users)
    ]
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=60)
    reports = [
        f"soak: {args.clients} clients, {args.subscribers} subscribers ({args.users} accounts), "
        f"{args.seconds:.0f} s a round, one server process on PostgreSQL and Redis; "
        f"{os.cpu_count()} cores shared by the server, PostgreSQL, Redis and the load generator"
    ]
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        for name, token in users:  # accounts are made at their first request
            status, _ = await request(
                http, server.url, token, "settings page", name, random.Random()
            )
            if status != 200:
                raise RuntimeError(f"setup: HTTP {status}")
        subscribers = Subscribers()
        await subscribers.connect(
            http, server.url, [users[n % len(users)][1] for n in range(args.subscribers)]
        )
        await asyncio.sleep(2)
        for number in range(1, args.rounds + 1):
            if args.rounds > 1:
                reports.append(f"-- round {number}")
            reports.append(await load(http, server, mail, users, subscribers, args))
        await subscribers.close()
    return "\n".join(reports)


async def load(
    http: aiohttp.ClientSession,
    server: ServerProcess,
    mail: MailServer,
    users: list[tuple[str, str]],
    subscribers: Subscribers,
    args: argparse.Namespace,
) -> str:
    """One round of load, and what the subscribers still received after it."""
    assert server.process is not None
    tally = Tally()
    memory: list[tuple[float, int]] = []
    events_before, emails_before = subscribers.events, len(mail.messages)
    started = time.monotonic()
    server_cpu, own_cpu = cpu_seconds(server.process.pid), time.process_time()
    sampler = asyncio.create_task(sample_memory(server.process.pid, started, memory))
    deadline = started + args.seconds
    await asyncio.gather(
        *(
            client(http, server.url, users, n, deadline, tally, args.mix)
            for n in range(args.clients)
        )
    )
    elapsed = time.monotonic() - started
    server_cpu = cpu_seconds(server.process.pid) - server_cpu
    own_cpu = time.process_time() - own_cpu
    sampler.cancel()
    end_kib = rss_kib(server.process.pid)
    events = subscribers.events - events_before
    emails = len(mail.messages) - emails_before
    drained_after, drained = await drain(subscribers, mail, args.drain)
    drained_kib = rss_kib(server.process.pid)
    start_kib = memory[0][1]
    at_10 = next((kib for t, kib in memory if t >= 10), memory[-1][1])
    growth = (end_kib - at_10) / at_10 * 100
    all_latencies = [v for values in tally.latencies.values() for v in values]
    lines = [
        f"requests       {tally.requests} in {elapsed:.0f} s ({tally.requests / elapsed:.0f}/s)",
        f"errors         {sum(tally.errors.values())} {dict(tally.errors) or ''}",
        f"5xx            {tally.server_errors}",
        f"latency ms     p50 {statistics.median(all_latencies):.0f}   "
        f"p99 {_percentile(all_latencies, 0.99):.0f}",
    ]
    for kind in args.mix:
        values = tally.latencies[kind] or [0.0]
        lines.append(
            f"  {kind:<14} {len(values):>7}   p50 {statistics.median(values):6.0f}   "
            f"p99 {_percentile(values, 0.99):6.0f}"
        )
    lines += [
        f"live events    {events} received by {args.subscribers} subscribers during the load, "
        f"{subscribers.errors} errors, {subscribers.closed} closed; "
        f"{drained - events_before - events} more in the {drained_after:.0f} s after it",
        f"alert emails   {emails} received by the SMTP sink during the load, "
        f"{len(mail.messages) - emails_before - emails} more after it",
        f"CPU            server {server_cpu / elapsed:.0%} of a core, "
        f"load generator {own_cpu / elapsed:.0%}",
        f"server memory  start {start_kib / 1024:.0f} MiB, at 10 s {at_10 / 1024:.0f} MiB, "
        f"end {end_kib / 1024:.0f} MiB: {growth:+.1f} % after the first 10 s; "
        f"{drained_kib / 1024:.0f} MiB once the subscribers had caught up",
        "memory, MiB    "
        + " ".join(f"{kib / 1024:.0f}" for t, kib in memory if round(t) % 10 == 0 and t < elapsed),
        *(f"error sample   {s}" for s in tally.samples),
    ]
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> str:
    db = await create_database("postgres", name="soak")
    try:
        async with MailServer.running() as mail:
            env = server_env(
                db.url,
                REDIS_URL=os.environ["TEST_REDIS_URL"],
                BUS_CHANNEL=f"soak-{uuid.uuid4().hex}",
                RATE_LIMIT_PREFIX=f"soak-{uuid.uuid4().hex}",
                # 200 clients' alerts and 500 subscribers: load, not the limits, is measured.
                RATE_LIMITS=UNLIMITED_SETTING,
                MAX_SUBSCRIPTIONS_PER_ACCOUNT="100000",
                SMTP_HOST="127.0.0.1",
                SMTP_PORT=str(mail.port),
            )
            migrate(env)
            async with server_process(env) as server:
                return await soak(server, mail, args)
    finally:
        await drop_database(db)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--subscribers", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument(
        "--drain", type=float, default=120, help="seconds to wait for late events and emails"
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="rounds of load on the same server process"
    )
    parser.add_argument(
        "--mix",
        type=lambda text: {k: int(v) for k, v in (p.split("=") for p in text.split(","))},
        default=MIX,
        help="weights, e.g. 'settings page=50,alert=20'",
    )
    args = parser.parse_args()
    if not (os.environ.get("TEST_DATABASE_URL") and os.environ.get("TEST_REDIS_URL")):
        sys.exit(
            "bench.soak runs on PostgreSQL and Redis: set TEST_DATABASE_URL and TEST_REDIS_URL"
        )
    print(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
