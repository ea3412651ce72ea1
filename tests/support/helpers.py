"""Test harness: databases, a live server on loopback, a GraphQL client, accounts."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
import uvicorn
from limits.aio.storage import MemoryStorage
from starlette.types import ASGIApp
from tortoise import Tortoise
from tortoise.contrib.test import _topological_sort_models, truncate_all_models

from api.limits import MAX_COST
from auth.accounts import user_for_claims
from auth.tokens import Claims, issue_token
from models.user import User
from services import rate_limits
from tests.support.settings import SCRATCH

#: Names of the alert dispatcher's tasks (notifiers/dispatcher.py).
DISPATCHER_TASKS = ("alert-dispatcher", "alert-delivery-")


@dataclass(frozen=True)
class Database:
    kind: str
    url: str
    schema: str | None = None


async def create_database(kind: str, *, name: str) -> Database:
    """A fresh, empty database: a SQLite file, or a PostgreSQL schema of its own, so
    concurrent test runs on one server never see each other's rows."""
    if kind == "sqlite":
        path = Path(SCRATCH) / f"{name}-{uuid.uuid4().hex[:8]}.sqlite3"
        return Database(kind, f"sqlite://{path}")
    base = os.environ["TEST_DATABASE_URL"]
    schema = f"sbt_{name}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    connection = await asyncpg.connect(base)
    try:
        await connection.execute(f'CREATE SCHEMA "{schema}"')
    finally:
        await connection.close()
    return Database(kind, f"{base}?schema={schema}", schema)


async def drop_database(db: Database) -> None:
    if db.kind == "sqlite":
        path = db.url.removeprefix("sqlite://")
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(path + suffix)
        return
    connection = await asyncpg.connect(os.environ["TEST_DATABASE_URL"])
    try:
        await connection.execute(f'DROP SCHEMA IF EXISTS "{db.schema}" CASCADE')
    finally:
        await connection.close()


#: Tries of a table reset that PostgreSQL ends as a deadlock (see `reset_database`).
RESET_TRIES = 5


async def reset_database(db: Database) -> None:
    # The live server's alert dispatcher reads and writes the outbox on its own
    # schedule, also between tests. PostgreSQL's TRUNCATE takes its tables' locks
    # one by one: meeting a dispatcher transaction that holds one of them and waits
    # for another, it is ended as a deadlock (seen once in CI, of about 600 resets).
    # The dispatcher's transaction goes on and ends; the TRUNCATE is tried again.
    for tried in range(1, RESET_TRIES + 1):
        try:
            await _clear_tables()
            return
        except asyncpg.exceptions.DeadlockDetectedError:
            if tried == RESET_TRIES:
                raise
            await asyncio.sleep(0.05 * tried)


async def _clear_tables() -> None:
    """Every row gone. On PostgreSQL, DELETE children first in one script: TRUNCATE
    makes new files for each of two dozen tables, a test's hundredfold cost."""
    models = list(Tortoise.apps.get_models_iterable())
    db = models[0]._meta.db
    if db.capabilities.dialect != "postgres":
        await truncate_all_models()
        return
    ordered = _topological_sort_models(models)
    tables = (m._meta.db_table for m in ordered)  # the models' own names, not input
    await db.execute_script("; ".join(f'DELETE FROM "{table}"' for table in tables))  # noqa: S608


@dataclass
class LiveServer:
    """An app served by uvicorn on a loopback port, in this event loop."""

    url: str
    server: uvicorn.Server

    @classmethod
    @contextlib.asynccontextmanager
    async def start(cls, app: ASGIApp) -> AsyncIterator[LiveServer]:
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
        )
        # Signals stay with pytest: the server is stopped through `should_exit`.
        server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        try:
            yield cls(url=f"http://127.0.0.1:{port}", server=server)
        finally:
            server.should_exit = True
            await task


@dataclass(frozen=True)
class Account:
    user: User
    token: str

    @property
    def authorization(self) -> str:
        return f"Bearer {self.token}"


async def sign_up(username: str, *, admin: bool = False, email: str | None = None) -> Account:
    """An account as its first sign-in creates it, and a token for it."""
    email = email or f"{username}@example.com"
    user = await user_for_claims(Claims(username, email, username.title(), issued_at=None))
    if admin:
        await User.filter(id=user.id).update(admin=True)
        user.admin = True
    return Account(user=user, token=issue_token(username, email=email))


class GraphQLFailure(AssertionError):
    pass


@dataclass
class GraphQL:
    """A client of `/graphql`; each method says what it expects of the answer."""

    http: aiohttp.ClientSession
    base_url: str
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"{self.base_url}/graphql"

    def signed_in(self, who: Account | str) -> GraphQL:
        authorization = who.authorization if isinstance(who, Account) else who
        return GraphQL(self.http, self.base_url, {"Authorization": authorization})

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, **extra: Any
    ) -> tuple[int, dict[str, Any]]:
        body = {"query": query, "variables": variables or {}, **extra}
        async with self.http.post(self.url, json=body, headers=self.headers) as response:
            return response.status, await response.json(content_type=None)

    async def execute(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        """`data` of an answer that must have no top-level errors."""
        status, body = await self.post(query, variables)
        if status != 200 or body.get("errors"):
            raise GraphQLFailure(f"HTTP {status}: {json.dumps(body, indent=1)}")
        return body["data"]

    async def error(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The single top-level error of an answer that must fail."""
        _, body = await self.post(query, variables)
        errors = body.get("errors") or []
        if len(errors) != 1:
            raise GraphQLFailure(f"expected one error: {json.dumps(body, indent=1)}")
        return dict(errors[0])

    async def upload(
        self,
        query: str,
        variables: dict[str, Any],
        path: str,
        content: bytes,
        *,
        filename: str = "photo.png",
        content_type: str = "image/png",
    ) -> tuple[int, dict[str, Any]]:
        """A GraphQL multipart request carrying one file at the variable `path`."""
        form = aiohttp.FormData()
        form.add_field("operations", json.dumps({"query": query, "variables": variables}))
        form.add_field("map", json.dumps({"0": [f"variables.{path}"]}))
        form.add_field("0", io.BytesIO(content), filename=filename, content_type=content_type)
        async with self.http.post(self.url, data=form, headers=self.headers) as response:
            text = await response.text()
            try:
                return response.status, json.loads(text)
            except json.JSONDecodeError:
                return response.status, {"text": text}


class _QueryCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        # The live server's alert dispatcher polls on its own schedule: its
        # statements are not the request's.
        task = asyncio.current_task()
        if task is not None and task.get_name().startswith(DISPATCHER_TASKS):
            return
        self.statements.append(record.getMessage())


@contextlib.contextmanager
def sql_heard_by(handler: logging.Handler) -> Iterator[None]:
    """`handler` hears every statement the database client logs inside the block."""
    logger = logging.getLogger("tortoise.db_client")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


@contextlib.contextmanager
def count_queries() -> Iterator[list[str]]:
    """The SQL statements run inside the block, as the database client logs them,
    but for the alert dispatcher's."""
    handler = _QueryCounter()
    with sql_heard_by(handler):
        yield handler.statements


#: Rate limits no test reaches: for tests whose subject is not the limits.
UNLIMITED = {
    f"{action}.{by}": "1000000/minute" for action in rate_limits.ACTIONS for by in rate_limits.BY
}

#: The same as the `RATE_LIMITS` setting of a server process.
UNLIMITED_SETTING = ", ".join(f"{name}={limits}" for name, limits in UNLIMITED.items())


def set_rate_limits(monkeypatch: pytest.MonkeyPatch, limits: dict[str, str]) -> None:
    """The test's own rate limits, counted from zero: `{"teams.account": "100/hour"}`
    (the notation of `RATE_LIMITS`); the other limits keep their defaults."""
    monkeypatch.setattr(rate_limits, "limiter", rate_limits.Limiter(MemoryStorage(), limits))


def costing(cost: int, data: dict[str, Any]) -> dict[str, Any]:
    """An answer with `data`, whose operation may cost `cost` (`api.limits.cost_results`)."""
    return {
        "data": data,
        "extensions": {"cost": {"requestedQueryCost": cost, "maximumQueryCost": MAX_COST}},
    }
