"""Fan-out of a live alert: latency from the mutation to its receipt by every subscriber,
and the server memory an idle subscription costs.

    python -m bench.fanout [--counts 1000,5000] [--rounds 5]

One server process on SQLite with the in-process bus, for each subscriber count;
then, when TEST_DATABASE_URL and TEST_REDIS_URL are set, two processes on
PostgreSQL sharing Redis: subscribers on one, the alert raised through the other
(at the first count). Subscribers are WebSocket clients of this process (the load
generator), all of one user, so one alert reaches all of them; each round raises
one alert and waits for every receipt. Memory is the growth of the subscribers'
server process (RSS) once they are all listening, divided by their number.
Defaults come from BENCH_FANOUT_COUNTS and BENCH_ROUNDS. Figures are printed,
never asserted.
"""

from __future__ import annotations

from tests.support import settings

settings.apply()

import argparse  # noqa: E402
import asyncio  # noqa: E402
import contextlib  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import AsyncIterator, Sequence  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import aiohttp  # noqa: E402

from auth.tokens import issue_token  # noqa: E402
from bench.figures import Figure, render  # noqa: E402
from bench.sockets import subscribed_socket  # noqa: E402
from tests.e2e.process import ServerProcess, migrate, server_env, server_process  # noqa: E402
from tests.support.helpers import UNLIMITED_SETTING, create_database, drop_database  # noqa: E402

COUNTS = [int(c) for c in os.environ.get("BENCH_FANOUT_COUNTS", "1000,5000").split(",")]
#: Alerts raised (and waited for) at each count.
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
LATENCY_GOAL = "p99 < 250 ms"
#: Subscribers at which the latency goal applies.
LATENCY_GOAL_AT = 1000
MEMORY_GOAL = "< 100 KiB per idle subscription"

USER = "fanout"
AUTHORIZATION = f"Bearer {issue_token(USER, ttl_seconds=3600)}"
SUBSCRIBE = {
    "query": "subscription { alertEvents { id title deliveries { status } } }",
}
QUIET = """mutation {
  setAlertSubscription(input: {event: SCRIPTABLE, channel: EMAIL, enabled: false}) {
    errors { code }
  }
}"""
NOTIFY = """mutation($title: String!) {
  notifyScriptableRunAlert(input: {entityName: "fanout", projectName: "p", runName: "r",
    title: $title, text: "t"}) { success }
}"""


@dataclass
class Result:
    setup: str
    subscribers: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    received: int
    expected: int
    kib_per_subscription: float | None


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def post(
    http: aiohttp.ClientSession, server: ServerProcess, query: str, **variables: str
) -> None:
    async with http.post(
        f"{server.url}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": AUTHORIZATION},
    ) as response:
        body = await response.json()
    if "errors" in body:
        raise RuntimeError(body)


class Subscribers:
    """N WebSocket subscribers; each notes when it receives each titled alert."""

    def __init__(self) -> None:
        self.received: dict[str, list[float]] = {}
        self.sockets: list[aiohttp.ClientWebSocketResponse] = []
        self.tasks: list[asyncio.Task[None]] = []

    async def connect(self, http: aiohttp.ClientSession, url: str, count: int) -> None:
        for start in range(0, count, 200):
            await asyncio.gather(
                *(self._one(http, url) for _ in range(start, min(count, start + 200)))
            )

    async def _one(self, http: aiohttp.ClientSession, url: str) -> None:
        ws = await subscribed_socket(http, url, AUTHORIZATION, SUBSCRIBE)
        self.sockets.append(ws)
        self.tasks.append(asyncio.create_task(self._read(ws)))

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                return
            arrived = time.perf_counter()
            body = message.json()
            if body.get("type") == "next" and "data" in body["payload"]:
                title = body["payload"]["data"]["alertEvents"]["title"]
                self.received.setdefault(title, []).append(arrived)

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)


async def measure(
    setup: str, subscribe_to: ServerProcess, raise_on: ServerProcess, count: int, rounds: int
) -> Result:
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        await post(http, raise_on, QUIET)
        before = rss_kib(subscribe_to.process.pid) if subscribe_to.process else 0
        subscribers = Subscribers()
        try:
            await subscribers.connect(http, subscribe_to.url, count)
            await asyncio.sleep(2 + count / 1000)  # every subscription is listening
            after = rss_kib(subscribe_to.process.pid) if subscribe_to.process else 0
            latencies: list[float] = []
            for n in range(rounds):
                title = f"round-{n}-{uuid.uuid4().hex[:6]}"
                sent = time.perf_counter()
                await post(http, raise_on, NOTIFY, title=title)
                deadline = time.monotonic() + 60
                while len(subscribers.received.get(title, [])) < count:
                    if time.monotonic() > deadline:
                        break
                    await asyncio.sleep(0.01)
                latencies += [(t - sent) * 1000 for t in subscribers.received.get(title, [])]
                await asyncio.sleep(0.5)
        finally:
            await subscribers.close()
    ordered = sorted(latencies) or [float("nan")]
    return Result(
        setup=setup,
        subscribers=count,
        p50_ms=statistics.median(ordered),
        p99_ms=ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        max_ms=ordered[-1],
        received=len(latencies),
        expected=count * rounds,
        kib_per_subscription=(after - before) / count if subscribe_to.process else None,
    )


@contextlib.asynccontextmanager
async def database(kind: str) -> AsyncIterator[str]:
    db = await create_database(kind, name="bench")
    try:
        yield db.url
    finally:
        await drop_database(db)


#: One account's thousands of sockets, and its alerts: the caps are not what is measured.
UNCAPPED = {
    "MAX_SOCKETS_PER_ACCOUNT": "100000",
    "MAX_SUBSCRIPTIONS_PER_ACCOUNT": "100000",
    "RATE_LIMITS": UNLIMITED_SETTING,
}


async def measure_all(counts: Sequence[int], rounds: int) -> list[Result]:
    results = []
    for count in counts:
        async with database("sqlite") as url:
            env = server_env(url, **UNCAPPED)
            await asyncio.to_thread(migrate, env)
            async with server_process(env) as server:
                results.append(
                    await measure("1 process, in-process bus", server, server, count, rounds)
                )
    if redis_available():
        async with database("postgres") as url:
            env = server_env(
                url,
                REDIS_URL=os.environ["TEST_REDIS_URL"],
                BUS_CHANNEL=f"bench-{uuid.uuid4().hex}",
                RATE_LIMIT_PREFIX=f"bench-{uuid.uuid4().hex}",
                **UNCAPPED,
            )
            await asyncio.to_thread(migrate, env)
            async with server_process(env) as one, server_process(env) as other:
                results.append(await measure("2 processes, Redis", one, other, counts[0], rounds))
    return results


def redis_available() -> bool:
    return bool(os.environ.get("TEST_DATABASE_URL") and os.environ.get("TEST_REDIS_URL"))


def figure(r: Result, rounds: int) -> Figure:
    measured = f"p50 {r.p50_ms:,.1f} ms, p99 {r.p99_ms:,.1f} ms, max {r.max_ms:,.1f} ms"
    if r.kib_per_subscription is not None:
        measured += f"; {r.kib_per_subscription:.1f} KiB per idle subscription"
    goals = [LATENCY_GOAL] if r.subscribers == LATENCY_GOAL_AT else []
    return Figure(
        name=f"live-alert fan-out, {r.setup}, {r.subscribers:,} subscribers",
        measured=measured,
        goal="; ".join([*goals, MEMORY_GOAL]),
        note=f"{r.received:,} of {r.expected:,} receipts ({rounds} × {r.subscribers:,})",
    )


async def figures(counts: Sequence[int], rounds: int) -> list[Figure]:
    found = [figure(r, rounds) for r in await measure_all(counts, rounds)]
    if not redis_available():
        skipped = "skipped: TEST_DATABASE_URL and TEST_REDIS_URL not set"
        found.append(Figure("live-alert fan-out, 2 processes, Redis", skipped))
    return found


async def run() -> list[Figure]:
    return await figures(COUNTS, ROUNDS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default=",".join(map(str, COUNTS)))
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args()
    counts = [int(c) for c in args.counts.split(",")]
    print(render(asyncio.run(figures(counts, args.rounds))))


if __name__ == "__main__":
    main()
