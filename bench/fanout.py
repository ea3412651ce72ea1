"""Fan-out of a live alert: latency from the mutation to its receipt by every subscriber,
and the server memory an idle subscription costs.

    python -m bench.fanout [--counts 1000,5000] [--rounds 5]

One server process on SQLite with the in-process bus, for each subscriber count;
then, when TEST_DATABASE_URL and TEST_REDIS_URL are set, two processes on
PostgreSQL sharing Redis: subscribers on one, the alert raised through the other.
Subscribers are WebSocket clients of this process (the load generator), all of one
user, so one alert reaches all of them. Figures are printed, never asserted.
"""

from __future__ import annotations

from tests import settings

settings.apply()

import argparse  # noqa: E402
import asyncio  # noqa: E402
import contextlib  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import AsyncIterator  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import aiohttp  # noqa: E402

from auth.tokens import issue_token  # noqa: E402
from tests.e2e.process import ServerProcess, migrate, server_env, server_process  # noqa: E402
from tests.helpers import create_database, drop_database  # noqa: E402

PROTOCOL = "graphql-transport-ws"
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
        ws = await http.ws_connect(f"{url}/graphql", protocols=(PROTOCOL,), heartbeat=None)
        await ws.send_json({"type": "connection_init", "payload": {"Authorization": AUTHORIZATION}})
        ack = await ws.receive_json(timeout=60)
        if ack["type"] != "connection_ack":
            raise RuntimeError(ack)
        await ws.send_json({"id": "1", "type": "subscribe", "payload": SUBSCRIBE})
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


async def run(counts: list[int], rounds: int) -> list[Result]:
    results = []
    for count in counts:
        async with database("sqlite") as url:
            env = server_env(url)
            migrate(env)
            async with server_process(env) as server:
                results.append(
                    await measure("1 process, in-process bus", server, server, count, rounds)
                )
    if os.environ.get("TEST_DATABASE_URL") and os.environ.get("TEST_REDIS_URL"):
        async with database("postgres") as url:
            env = server_env(
                url, REDIS_URL=os.environ["TEST_REDIS_URL"], BUS_CHANNEL=f"bench-{uuid.uuid4().hex}"
            )
            migrate(env)
            async with server_process(env) as one, server_process(env) as other:
                results.append(await measure("2 processes, Redis", one, other, counts[0], rounds))
    return results


def table(results: list[Result]) -> str:
    lines = [
        "setup                        subscribers   p50 ms   p99 ms   max ms  received   KiB/sub",
    ]
    for r in results:
        per_sub = (
            f"{r.kib_per_subscription:9.1f}" if r.kib_per_subscription is not None else "        -"
        )
        lines.append(
            f"{r.setup:<28} {r.subscribers:>11} {r.p50_ms:>8.1f} {r.p99_ms:>8.1f} {r.max_ms:>8.1f}"
            f" {r.received:>5}/{r.expected:<5} {per_sub}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="1000,5000")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    counts = [int(c) for c in args.counts.split(",")]
    print(table(asyncio.run(run(counts, args.rounds))))


if __name__ == "__main__":
    main()
