"""Alerts to webhooks: how fast the dispatcher sends them, and what routing costs ingestion.

    python -m bench.deliveries [--deliveries 1000] [--requests 150] [--rounds 3]
                               [--seconds 3] [--database sqlite|postgres]

Receivers are `WebhookReceiver`s (tests/support/receivers.py) on loopback in this
process, named in the servers' WEBHOOK_ALLOW_HOSTS; those of the figures answer at once.

- Deliveries per second, on SQLite and on PostgreSQL (when TEST_DATABASE_URL is set):
  `--deliveries` PENDING webhook deliveries, due already, are written in bulk as
  `record_alert` writes them, to a destination made through the API; then one
  `uvicorn` process, or two sharing the database, start and their dispatchers send
  them, in alternating rounds. A round lasts from the first request received to the
  last delivery marked DELIVERED; the ratio is the median of the rounds' ratios.
  Each delivery must arrive exactly once (its `webhook-id`), signed, logged as one
  attempt: otherwise the bench fails.
- Three webhooks routed vs none: the load generator (`bench/loadgen.py`) sends
  notifyScriptableRunAlert to one server for an account routing its alerts to three
  webhooks and for one whose alerts go nowhere (its email off, no route), in alternating
  windows that each start with no delivery pending; the median of the per-round ratios
  of requests/s. Twice: to a server that also sends them (its dispatcher shares its
  core), and (goal ≥ 0.8) to one with DELIVERY_WORKER=off, the first one sending.
- Slow receiver (goal < 1.2): on that server, rounds of `--requests` sequential alerts
  (after 20 that warm up) of an account routed to a webhook that waits 500 ms before it
  answers and of one routed to a webhook answering at once, alternating, each round
  starting once no delivery is pending; the ratio of the medians.

Both ingestion figures are measured on PostgreSQL, or on SQLite without it (or on the
one `--database`). Defaults come from BENCH_DELIVERIES, BENCH_ALERT_REQUESTS,
BENCH_ROUNDS and BENCH_SECONDS.
"""

from __future__ import annotations

from tests.support import settings

settings.apply()

import argparse  # noqa: E402
import asyncio  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import AsyncIterator, Iterator, Sequence  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from typing import TypeVar  # noqa: E402

import aiohttp  # noqa: E402

import config  # noqa: E402
from auth.tokens import issue_token  # noqa: E402
from bench.alert_ingestion import NOTIFY, SUBSCRIBE, WARMUP, Client, alert, drained  # noqa: E402
from bench.alert_ingestion import latency as describe_latency  # noqa: E402
from bench.figures import Figure, median, render  # noqa: E402
from bench.loadgen import CONNECTIONS, Load, LoadGenerator, Request  # noqa: E402
from bench.servers import orm, postgres_available, servers  # noqa: E402
from bench.settings_page import describe, ratios  # noqa: E402
from models.alert import (  # noqa: E402
    AlertChannel,
    AlertDelivery,
    AlertEvent,
    AlertEventType,
    AlertSeverity,
    DeliveryAttempt,
    DeliveryStatus,
)
from models.user import User  # noqa: E402
from notifiers.messages import message_id  # noqa: E402
from tests.e2e.process import migrate, server_env, server_process  # noqa: E402
from tests.support.helpers import (  # noqa: E402
    UNLIMITED_SETTING,
    Database,
    create_database,
    drop_database,
)
from tests.support.receivers import Received, Reply, WebhookReceiver  # noqa: E402

#: Deliveries pre-loaded a round of the dispatch rate.
DELIVERIES = int(os.environ.get("BENCH_DELIVERIES", "1000"))
REQUESTS = int(os.environ.get("BENCH_ALERT_REQUESTS", "150"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "3"))
#: How long the slow receiver waits before it answers.
SLOW_SECONDS = 0.5
NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
T = TypeVar("T")

CREATE = """
mutation($name: String!, $url: String!) {
  createWebhookDestination(input: {name: $name, url: $url, kind: WEBHOOK}) {
    destination { id } signingSecret errors { message }
  }
}
"""
ROUTE = """
mutation($ids: [ID!]!) {
  setAlertRoute(input: {events: [SCRIPTABLE], destinationIds: $ids}) { errors { message } }
}
"""


class DeliveryCheckFailed(AssertionError):
    """A delivery was lost, sent twice, unsigned or not marked DELIVERED."""


@dataclass
class Account(Client):
    """alert_ingestion's client, signed in as `username`, alerting of its own runs."""

    def __init__(self, http: aiohttp.ClientSession, url: str, username: str) -> None:
        super().__init__(http, url)
        self.username = username
        token = issue_token(username, email=f"{username}@bench.test")
        self.headers = {"Authorization": f"Bearer {token}"}

    def alert(self, title: str) -> dict[str, str]:
        return {**alert(title), "entityName": self.username}

    async def webhook(self, url: str) -> tuple[str, str]:
        """A webhook destination at `url`: its id and signing secret."""
        made = (await self(CREATE, {"name": url[-60:], "url": url}))["createWebhookDestination"]
        if made["errors"]:
            raise RuntimeError(made["errors"])
        return made["destination"]["id"], made["signingSecret"]

    async def route(self, *urls: str) -> None:
        """Its SCRIPTABLE alerts go to new webhooks at `urls`, and nowhere else."""
        ids = [(await self.webhook(url))[0] for url in urls]
        if (await self(ROUTE, {"ids": ids}))["setAlertRoute"]["errors"]:
            raise RuntimeError(f"setAlertRoute failed for {self.username}")


@contextlib.asynccontextmanager
async def hooks_database(
    kind: str, receivers: Sequence[WebhookReceiver]
) -> AsyncIterator[tuple[Database, dict[str, str]]]:
    """A fresh migrated database and the environment of servers that may reach `receivers`."""
    db = await create_database(kind, name="bench")
    env = server_env(
        db.url,
        WEBHOOK_ALLOW_HOSTS=",".join(r.host for r in receivers),
        RATE_LIMITS=UNLIMITED_SETTING,
    )
    try:
        await asyncio.to_thread(migrate, env)
        yield db, env
    finally:
        await drop_database(db)


def webhook_ids(received: Sequence[Received]) -> list[str]:
    return [{k.lower(): v for k, v in r.headers.items()}.get("webhook-id", "") for r in received]


def exactly_once(received: Sequence[Received], expected: set[str], *, signed: bool) -> str:
    """What arrived, as a sentence; raises DeliveryCheckFailed unless each of `expected`
    arrived once (and, if `signed`, with a signature the receiver verified)."""
    ids = webhook_ids(received)
    repeats = len(ids) - len(set(ids))
    missing, unexpected = expected - set(ids), set(ids) - expected
    unsigned = sum(1 for r in received if not r.verified_by) if signed else 0
    told = (
        f"{len(set(ids)):,} distinct webhook-ids of {len(expected):,} deliveries, "
        f"{repeats} repeated, {len(missing)} missing, {len(unexpected)} unexpected"
        + (f", {unsigned} unsigned" if signed else "")
    )
    progress(f"exactly once? {told}")
    if repeats or missing or unexpected or unsigned:
        raise DeliveryCheckFailed(told)
    return told


def progress(line: str) -> None:
    print(f"    {line}", file=sys.stderr, flush=True)


def alternate(rounds: int, sides: tuple[T, T]) -> Iterator[T]:
    """The sides of `rounds` rounds, which goes first alternating: noise hurts both alike."""
    for n in range(rounds):
        yield from sides if n % 2 == 0 else sides[::-1]


async def preload(user_id: int, destination_id: int, count: int, tag: str) -> set[str]:
    """`count` alerts with a PENDING webhook delivery each, due already, as `record_alert`
    writes them; their project is `tag`. Answers the deliveries' webhook-ids."""
    await AlertEvent.bulk_create(
        [
            AlertEvent(
                user_id=user_id,
                type=AlertEventType.SCRIPTABLE,
                title=f"alert {n}",
                text="loss = nan",
                severity=AlertSeverity.WARN,
                entity_name="hooks",
                project_name=tag,
                run_name="run-1",
            )
            for n in range(count)
        ],
        batch_size=500,
    )
    events = await AlertEvent.filter(project_name=tag).values_list("id", flat=True)
    due = datetime.now(UTC) - timedelta(seconds=1)
    await AlertDelivery.bulk_create(
        [
            AlertDelivery(
                event_id=event_id,
                user_id=user_id,
                channel=AlertChannel.WEBHOOK,
                destination_id=destination_id,
                next_attempt_at=due,
                attempt_limit=config.DELIVERY_MAX_ATTEMPTS,
            )
            for event_id in events
        ],
        batch_size=500,
    )
    rows = await AlertDelivery.filter(event__project_name=tag).values("id")
    return {message_id(row["id"]) for row in rows}


async def sent_in(receiver: WebhookReceiver, expected: set[str], tag: str) -> float:
    """Seconds from the first request received to the last delivery marked DELIVERED;
    raises DeliveryCheckFailed on any loss or repeat."""
    exactly_once(receiver.received, expected, signed=True)
    rows = await AlertDelivery.filter(event__project_name=tag).values_list("status", "delivered_at")
    attempts = await DeliveryAttempt.filter(delivery__event__project_name=tag).count()
    undelivered = sum(1 for status, _ in rows if status != DeliveryStatus.DELIVERED)
    if undelivered or attempts != len(expected):
        raise DeliveryCheckFailed(f"{undelivered} not DELIVERED, {attempts} attempts logged")
    ended: datetime = max(at for _, at in rows if at is not None)
    return ended.timestamp() - min(r.at for r in receiver.received)


async def dispatch_rates(kind: str, deliveries: int, rounds: int) -> Figure:
    async with (
        WebhookReceiver.running() as receiver,
        hooks_database(kind, [receiver]) as (db, env),
    ):
        async with aiohttp.ClientSession() as http, server_process(env) as server:
            destination, secret = await Account(http, server.url, "hooks").webhook(receiver.hook())
        receiver.secrets = (secret,)
        seconds: dict[int, list[float]] = {1: [], 2: []}
        async with orm(db.url):
            user = await User.get(username="hooks")
            for n, count in enumerate(alternate(rounds, (1, 2))):
                tag = f"round-{n}"
                expected = await preload(user.id, int(destination), deliveries, tag)
                receiver.received.clear()
                async with servers(env, count):
                    await drained(db)
                took = await sent_in(receiver, expected, tag)
                seconds[count].append(took)
                progress(f"{count} process(es): {deliveries / took:,.0f} deliveries/s")
    one, two = seconds[1], seconds[2]

    def rate(label: str, took: list[float]) -> str:
        return f"{label}: {deliveries / median(took):,.0f} deliveries/s"

    return Figure(
        name=f"webhook deliveries, 2 processes vs 1, {NAMES[kind]}",
        measured=rate("2 processes", two),
        baseline=rate("1 process", one),
        ratio=median([a / b for a, b in zip(one, two, strict=True)]),
        note=(
            f"{rounds} rounds × {deliveries:,} pre-loaded, each received exactly once, signed; "
            "indicative: the cores are shared with the database and the receiver"
        ),
    )


async def sequential(account: Account, requests: int) -> list[float]:
    """Latencies (seconds) of `requests` alerts sent one after another."""
    latencies = []
    for n in range(requests + WARMUP):
        started = time.perf_counter()
        data = await account(NOTIFY, account.alert(f"alert {n}"))
        if n >= WARMUP:
            latencies.append(time.perf_counter() - started)
        assert data["notifyScriptableRunAlert"]["success"] is True
    return latencies


async def ingestion(kind: str, requests: int, rounds: int, seconds: float) -> list[Figure]:
    async with contextlib.AsyncExitStack() as stack:
        prompt = [await stack.enter_async_context(WebhookReceiver.running()) for _ in range(3)]
        slow = await stack.enter_async_context(WebhookReceiver.running())
        slow.default = Reply(delay=SLOW_SECONDS)
        db, env = await stack.enter_async_context(hooks_database(kind, [*prompt, slow]))
        http = await stack.enter_async_context(aiohttp.ClientSession())
        server = await stack.enter_async_context(server_process(env))
        # Answers requests and records alerts; `server`'s dispatcher sends them.
        answering = await stack.enter_async_context(
            server_process({**env, "DELIVERY_WORKER": "off"})
        )
        accounts = {name: Account(http, server.url, name) for name in ("none", "three", "prompt")}
        accounts["slow"] = Account(http, server.url, "slow")
        await accounts["none"](SUBSCRIBE, {"channel": "EMAIL", "enabled": False})
        await accounts["three"].route(*(r.hook("three") for r in prompt))
        await accounts["prompt"].route(prompt[0].hook("one"))
        await accounts["slow"].route(slow.hook("slow"))

        latencies: dict[str, list[float]] = {"slow": [], "prompt": []}
        for label in alternate(rounds, ("prompt", "slow")):
            latencies[label] += await sequential(accounts[label], requests)
            await drained(db)

        measured: dict[str, list[Load]] = {"three": [], "none": []}
        elsewhere: dict[str, list[Load]] = {"three": [], "none": []}
        load = await stack.enter_async_context(LoadGenerator.started())
        for label in alternate(rounds, ("three", "none")):
            account = accounts[label]
            body = json.dumps({"query": NOTIFY, "variables": account.alert("under load")})
            headers = {"Content-Type": "application/json", **account.headers}
            request = Request("POST", "/graphql", headers, body)
            for target, into in ((server, measured), (answering, elsewhere)):
                await drained(db)
                into[label].append(await load.run([target.url], request, seconds=seconds))
        await drained(db)
        async with orm(db.url):
            told = await routed_once([*prompt, slow])
    name = NAMES[kind]
    return [
        Figure(
            name=f"notifyScriptableRunAlert under load, 3 webhooks routed vs none, {name}",
            measured=describe("3 webhooks", measured["three"]),
            baseline=describe("no destination", measured["none"]),
            ratio=ratios(measured["three"], measured["none"]),
            note=(
                f"the server sends its alerts beside the requests (the dispatcher shares its "
                f"core); receivers answer at once; {rounds} rounds × {seconds:g} s, "
                f"{CONNECTIONS} connections; each window starts with no delivery pending; {told}"
            ),
        ),
        Figure(
            name=f"notifyScriptableRunAlert under load, 3 webhooks routed vs none, sent by "
            f"another process, {name}",
            measured=describe("3 webhooks", elsewhere["three"]),
            baseline=describe("no destination", elsewhere["none"]),
            ratio=ratios(elsewhere["three"], elsewhere["none"]),
            goal="≥ 0.8",
            note=(
                "ingestion alone: the server answering has DELIVERY_WORKER=off, another "
                "process's dispatcher sends (same database, same cores)"
            ),
        ),
        Figure(
            name=f"notifyScriptableRunAlert latency, webhook slow vs at once, {name}",
            measured=describe_latency(f"waits {SLOW_SECONDS * 1000:.0f} ms", latencies["slow"]),
            baseline=describe_latency("at once", latencies["prompt"]),
            ratio=median(latencies["slow"]) / median(latencies["prompt"]),
            goal="< 1.2",
            note=f"ratio of medians; {rounds} rounds × {requests} sequential requests an account",
        ),
    ]


async def routed_once(receivers: Sequence[WebhookReceiver]) -> str:
    """Checks that every webhook delivery arrived once and that the unrouted account's
    alerts made none; the count, as a sentence."""
    sent = AlertDelivery.filter(channel=AlertChannel.WEBHOOK)
    ids = [row["id"] for row in await sent.filter(status=DeliveryStatus.DELIVERED).values("id")]
    if await sent.exclude(status=DeliveryStatus.DELIVERED).exists():
        raise DeliveryCheckFailed("a webhook delivery was not DELIVERED")
    if await AlertDelivery.filter(user__username="none").exists():
        raise DeliveryCheckFailed("the account without destinations had deliveries")
    received = [r for receiver in receivers for r in receiver.received]
    exactly_once(received, {message_id(i) for i in ids}, signed=False)
    return f"each of {len(ids):,} webhook deliveries received exactly once"


async def figures(
    kinds: Sequence[str], deliveries: int, requests: int, rounds: int, seconds: float
) -> list[Figure]:
    """The dispatch rate on each of `kinds`, then ingestion on the last of them."""
    found = [await dispatch_rates(kind, deliveries, rounds) for kind in kinds]
    return found + await ingestion(kinds[-1], requests, rounds, seconds)


async def every_kind(deliveries: int, requests: int, rounds: int, seconds: float) -> list[Figure]:
    """SQLite, and PostgreSQL when TEST_DATABASE_URL is set (a row saying so when not)."""
    if postgres_available():
        return await figures(["sqlite", "postgres"], deliveries, requests, rounds, seconds)
    found = await figures(["sqlite"], deliveries, requests, rounds, seconds)
    skipped = Figure("webhook deliveries, PostgreSQL", "skipped: TEST_DATABASE_URL not set")
    return [found[0], skipped, *found[1:]]


async def run() -> list[Figure]:
    return await every_kind(DELIVERIES, REQUESTS, ROUNDS, SECONDS)


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=DELIVERIES, help="pre-loaded a round")
    parser.add_argument("--requests", type=int, default=REQUESTS, help="per account, per round")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--seconds", type=float, default=SECONDS, help="per throughput window")
    parser.add_argument("--database", choices=NAMES, help="one kind only")
    args = parser.parse_args()
    if args.database == "postgres" and not postgres_available():
        parser.error("PostgreSQL needs TEST_DATABASE_URL")
    given = (args.deliveries, args.requests, args.rounds, args.seconds)
    if args.database:
        found = figures([args.database], *given)
    else:
        found = every_kind(*given)
    print(render(asyncio.run(found)))


if __name__ == "__main__":
    cli()
