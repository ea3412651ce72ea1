"""notifyScriptableRunAlert latency must not depend on Slack: a real server process
sends to a loopback Slack that answers at once, then to one that waits 500 ms; the
ratio of the latencies is printed (the goal is under 1.2).

    python -m bench.alert_ingestion [--requests 150] [--rounds 3] [--database sqlite|postgres]

Each measurement gets a fresh database (PostgreSQL needs TEST_DATABASE_URL) and its
own `uvicorn app:app` process, Slack connected through the real OAuth flow; rounds
alternate which Slack goes first.
"""

from __future__ import annotations

from tests import settings

settings.apply()

import argparse  # noqa: E402
import asyncio  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import parse_qs, urlsplit  # noqa: E402

import aiohttp  # noqa: E402

from auth.tokens import issue_token  # noqa: E402
from tests.e2e.process import ServerProcess, free_port, migrate, server_env  # noqa: E402
from tests.fakes import SlackServer  # noqa: E402
from tests.helpers import create_database, drop_database  # noqa: E402

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


async def measure(slack: SlackServer, hook: str, kind: str, requests: int) -> list[float]:
    """Latencies (seconds) of `requests` alerts, each sent to Slack's webhook `hook`."""
    slack.oauth = slack.grant(hook)
    db = await create_database(kind, name="bench")
    env = server_env(
        db.url,
        SLACK_CLIENT_ID="bench",
        SLACK_CLIENT_SECRET="bench-secret",  # noqa: S106 - the loopback fake accepts any
        SLACK_API_URL=f"{slack.url}/api",
        SLACK_WEBHOOK_HOSTS=slack.host,
    )
    await asyncio.to_thread(migrate, env)
    server = ServerProcess(env=env, port=free_port())
    try:
        await server.start()
        async with aiohttp.ClientSession() as http:
            call = Client(http, server.url)
            # Alerts go to Slack only: the measure is whether Slack's pace shows.
            url = (await call(START))["startSlackConnect"]["authorizeUrl"]
            await call(CONNECT, {"state": parse_qs(urlsplit(url).query)["state"][0]})
            await call(SUBSCRIBE, {"channel": "SLACK", "enabled": True})
            await call(SUBSCRIBE, {"channel": "EMAIL", "enabled": False})
            latencies = []
            for n in range(requests + 20):  # the first 20 warm the server up
                variables = {
                    "entityName": "bench",
                    "projectName": "latency",
                    "runName": "run-1",
                    "title": f"alert {n}",
                    "text": "loss = nan",
                    "severity": "WARN",
                }
                started = time.perf_counter()
                data = await call(NOTIFY, variables)
                if n >= 20:
                    latencies.append(time.perf_counter() - started)
                assert data["notifyScriptableRunAlert"]["success"] is True
            return latencies
    finally:
        server.stop()
        await drop_database(db)


def describe(latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return f"median {statistics.median(ordered) * 1000:6.2f} ms   p95 {p95 * 1000:6.2f} ms"


async def main(requests: int, rounds: int, kind: str) -> None:
    latencies: dict[str, list[float]] = {"ok": [], "slow": []}
    async with SlackServer.running() as slack:
        slack.slow_seconds = 0.5
        for round in range(rounds):
            # Alternate the order, so a noisy neighbour on the machine hurts both alike.
            order = ("ok", "slow") if round % 2 == 0 else ("slow", "ok")
            for hook in order:
                latencies[hook] += await measure(slack, hook, kind, requests)
    fast, slow = latencies["ok"], latencies["slow"]
    ratio = statistics.median(slow) / statistics.median(fast)
    print(f"notifyScriptableRunAlert latency, {rounds} x {requests} sequential requests, {kind}")
    print(f"  Slack answers at once : {describe(fast)}")
    print(f"  Slack waits 500 ms    : {describe(slow)}")
    print(f"  ratio of medians      : {ratio:.2f}   (goal < 1.2)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=150, help="per server, per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.rounds, args.database))
