"""The settings page through /graphql against the floor, on SQLite and PostgreSQL.

    python -m bench.settings_page

One server process serves both (`bench.floor:app`); the load generator, in its
own process, alternates between them in rounds (GraphQL, floor, floor, GraphQL,
...), and each figure is the median of the per-round ratios. Before any load:
the floor's JSON must equal the GraphQL answer, and both must run the same SQL
statements (checked in this process, statement by statement).
"""

from __future__ import annotations

from tests.support import settings

settings.apply()

import asyncio  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
from collections.abc import Iterator, Sequence  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from contextvars import ContextVar  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402

import aiohttp  # noqa: E402
from starlette.types import ASGIApp, Receive, Scope, Send  # noqa: E402

from bench import page  # noqa: E402
from bench.figures import Figure, median, render  # noqa: E402
from bench.floor import PATH, wrap  # noqa: E402
from bench.loadgen import Load, LoadGenerator, Request  # noqa: E402
from bench.servers import (  # noqa: E402
    MEMBERS_EACH,
    TEAMS,
    bench_database,
    on_each_backend,
    orm,
    servers,
)
from tests.support.helpers import LiveServer, sql_heard_by  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "3"))
GOAL = "≥ 0.75× (first 0.6×)"
NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


@dataclass(frozen=True)
class Variant:
    label: str
    request: Request


def graphql_body(query: str | None, *, persisted: bool) -> str:
    body: dict[str, Any] = {"variables": {}, "operationName": "SettingsPage"}
    if query is not None:
        body["query"] = query
    if persisted:
        digest = hashlib.sha256(PAGE_QUERY.encode()).hexdigest()
        body["extensions"] = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    return json.dumps(body)


SECTIONS = page.built_sections()
PAGE_QUERY = page.document(SECTIONS)


def variants(authorization: str, persisted: bool) -> list[Variant]:
    json_headers = {"Content-Type": "application/json", "Authorization": authorization}
    found = [
        Variant(
            "GraphQL, document sent",
            Request("POST", "/graphql", json_headers, graphql_body(PAGE_QUERY, persisted=False)),
        ),
        Variant("floor", Request("GET", PATH, {"Authorization": authorization})),
    ]
    if persisted:
        request = Request("POST", "/graphql", json_headers, graphql_body(None, persisted=True))
        found.insert(0, Variant("GraphQL, persisted query", request))
    return found


# Checks before the load.


async def post(http: aiohttp.ClientSession, url: str, body: str, authorization: str) -> Any:
    headers = {"Content-Type": "application/json", "Authorization": authorization}
    async with http.post(f"{url}/graphql", data=body, headers=headers) as response:
        text = await response.text()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return {"errors": [{"message": text}]}


async def register_persisted_query(url: str, authorization: str) -> bool:
    """Registers the page's document as the web UI would; False if the app has no APQ."""
    async with aiohttp.ClientSession() as http:
        first = await post(http, url, graphql_body(None, persisted=True), authorization)
        codes = [e.get("extensions", {}).get("code") for e in first.get("errors") or []]
        if codes != ["PERSISTED_QUERY_NOT_FOUND"]:
            return False
        second = await post(http, url, graphql_body(PAGE_QUERY, persisted=True), authorization)
        again = await post(http, url, graphql_body(None, persisted=True), authorization)
    assert not second.get("errors") and again == second, (second, again)
    return True


#: True while an HTTP request of the checked app runs (and in the tasks it starts).
_IN_REQUEST: ContextVar[bool] = ContextVar("bench_in_request", default=False)


def requests_marked(app: ASGIApp) -> ASGIApp:
    """`app`, its HTTP requests marked: only their statements are compared. The alert
    dispatcher polls the database on its own schedule, and a poll that falls inside
    a request would otherwise count as that request's SQL."""

    async def marked(scope: Scope, receive: Receive, send: Send) -> None:
        token = _IN_REQUEST.set(scope["type"] == "http")
        try:
            await app(scope, receive, send)
        finally:
            _IN_REQUEST.reset(token)

    return marked


class _Statements(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seen: list[tuple[str, tuple[Any, ...]]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not _IN_REQUEST.get():
            return
        args = record.args
        if isinstance(args, tuple) and len(args) == 2 and isinstance(args[0], str):
            values: Any = args[1] or ()
            self.seen.append((canonical(args[0]), tuple(values)))


@contextmanager
def statements() -> Iterator[list[tuple[str, tuple[Any, ...]]]]:
    handler = _Statements()
    with sql_heard_by(handler):
        yield handler.seen


def canonical(sql: str) -> str:
    """A statement with `?` placeholders and its select list sorted (the ORM's column
    order follows set iteration, which varies between processes)."""
    sql = re.sub(r"\$\d+", "?", sql)
    match = re.match(r"SELECT (.*?) FROM (.*)", sql, re.S)
    if not match:
        return sql
    columns = sorted(c.strip() for c in match.group(1).split(","))
    return f"SELECT {','.join(columns)} FROM {match.group(2)}"  # noqa: S608 - not run


async def check_same_sql_and_json(url: str, authorization: str) -> int:
    """Both endpoints, served in this process: same statements, same JSON."""
    from app import create_app

    async with LiveServer.start(requests_marked(wrap(create_app(init_orm=False)))) as live:
        async with aiohttp.ClientSession() as http:
            with statements() as graphql_sql:
                answer = await post(
                    http, live.url, graphql_body(PAGE_QUERY, persisted=False), authorization
                )
            with statements() as floor_sql:
                async with http.get(live.url + PATH, headers={"Authorization": authorization}) as r:
                    floor = await r.json()
    if answer != floor:
        raise AssertionError(f"the floor's JSON differs:\n{answer}\n{floor}")
    if sorted(graphql_sql) != sorted(floor_sql):
        only_graphql = set(graphql_sql) - set(floor_sql)
        only_floor = set(floor_sql) - set(graphql_sql)
        raise AssertionError(
            "the floor does not run the app's SQL; bring bench/page.py in line.\n"
            f"GraphQL only: {sorted(only_graphql)}\nfloor only: {sorted(only_floor)}"
        )
    return len(graphql_sql)


# The load.


def describe(label: str, loads: Sequence[Load]) -> str:
    rps = median([x.rps for x in loads])
    p50 = median([x.p50_ms for x in loads])
    p99 = median([x.p99_ms for x in loads])
    errors = sum(x.errors for x in loads)
    text = f"{label}: {rps:,.0f} req/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms"
    return text + (f", {errors} errors" if errors else "")


async def rounds(
    load: LoadGenerator, targets: Sequence[str], variants: Sequence[Variant]
) -> dict[str, list[Load]]:
    """ROUNDS rounds; each runs every variant once, the order rotating between rounds."""
    measured: dict[str, list[Load]] = {v.label: [] for v in variants}
    for variant in variants:  # warm every path up once, unmeasured
        await load.run(targets, variant.request, seconds=1.0, warmup=0.0)
    for n in range(ROUNDS):
        order = list(variants[n % len(variants) :]) + list(variants[: n % len(variants)])
        if n % 2:
            order.reverse()
        for variant in order:
            measured[variant.label].append(
                await load.run(targets, variant.request, seconds=SECONDS)
            )
    return measured


def ratios(a: Sequence[Load], b: Sequence[Load]) -> float:
    return median([x.rps / y.rps for x, y in zip(a, b, strict=True)])


async def settings_page(kind: str, load: LoadGenerator) -> list[Figure]:
    name = NAMES[kind]
    async with bench_database(kind) as bench:
        async with orm(bench.db.url):
            count = await check_same_sql_and_json(bench.db.url, bench.authorization)
        async with servers(bench.env) as (server,):
            persisted = await register_persisted_query(server.url, bench.authorization)
            tried = variants(bench.authorization, persisted)
            measured = await rounds(load, [server.url], tried)
    floor = measured["floor"]
    note = (
        f"{TEAMS} teams of {MEMBERS_EACH}; {count} SQL statements each, same JSON; "
        f"{ROUNDS} rounds × {SECONDS:g} s"
    )
    figures = []
    for variant in tried[:-1]:
        figures.append(
            Figure(
                name=f"settings page vs floor, {name} ({variant.label.split(', ')[1]})",
                measured=describe("GraphQL", measured[variant.label]),
                baseline=describe("floor", floor),
                ratio=ratios(measured[variant.label], floor),
                goal=GOAL if variant is tried[0] else "",
                note=note,
            )
        )
    return figures


async def run() -> list[Figure]:
    figures = []
    async with LoadGenerator.started() as load:
        figures += await on_each_backend(
            "settings page vs floor, PostgreSQL", lambda kind: settings_page(kind, load)
        )
    missing = page.missing_sections()
    if missing:
        note = "not in the page yet (not in the schema): " + ", ".join(missing)
        figures = [
            Figure(f.name, f.measured, f.baseline, f.ratio, f.goal, f"{f.note}; {note}")
            for f in figures
        ]
    return figures


if __name__ == "__main__":
    print(render(asyncio.run(run())))
