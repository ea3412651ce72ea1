"""Databases and server processes for the benches.

A bench database is made fresh (a SQLite file, or a PostgreSQL schema of its own
when TEST_DATABASE_URL is set), migrated with `cli.py migrate` like a deploy, and
seeded with one settings page's worth of rows. Servers are real `uvicorn`
processes on loopback ports, as `tests/e2e/process.py` starts them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass

from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE

import config
from auth import api_keys
from auth.accounts import user_for_claims
from auth.tokens import Claims, issue_token
from bench.figures import Figure
from models.api_key import ApiKey
from models.beta import UserBetaFeature
from models.entity import Entity
from models.storage import StorageCategory, StorageCategoryCounter
from models.team import Organization, Team, TeamMember, TeamRole, TeamType
from models.user import User
from tests.e2e.process import ServerProcess, migrate, server_env
from tests.support.helpers import Database, create_database, drop_database

VIEWER = "ada"
#: The settings page of the bench: 5 teams of 6 (the viewer and 5 others), 3 API
#: keys; BENCH_TEAMS and BENCH_MEMBERS change the page's size to see what it costs.
TEAMS = int(os.environ.get("BENCH_TEAMS", "5"))
MEMBERS_EACH = int(os.environ.get("BENCH_MEMBERS", "6"))
API_KEYS = 3
#: uvicorn's options for every bench server (as `make run` serves); BENCH_UVICORN
#: overrides them, e.g. "--loop asyncio --http h11" to measure what uvloop brings.
UVICORN_OPTIONS = tuple(os.environ.get("BENCH_UVICORN", "--loop uvloop --http httptools").split())


def postgres_available() -> bool:
    return bool(os.environ.get("TEST_DATABASE_URL"))


async def on_each_backend(
    skipped_name: str, measure: Callable[[str], Awaitable[list[Figure]]]
) -> list[Figure]:
    """`measure(kind)`'s figures on SQLite, then on PostgreSQL when TEST_DATABASE_URL is
    set; without it, a row named `skipped_name` that says so."""
    found = await measure("sqlite")
    if postgres_available():
        return found + await measure("postgres")
    return [*found, Figure(skipped_name, "skipped: TEST_DATABASE_URL not set")]


@dataclass(frozen=True)
class BenchDatabase:
    db: Database
    env: dict[str, str]
    #: `Authorization` header value of the seeded viewer.
    authorization: str


@contextlib.asynccontextmanager
async def bench_database(kind: str, **settings: str) -> AsyncIterator[BenchDatabase]:
    """A migrated, seeded database for server processes; dropped afterwards."""
    db = await create_database(kind, name="bench")
    try:
        env = server_env(db.url, **settings)
        await asyncio.to_thread(migrate, env)
        async with orm(db.url):
            await seed()
        token = issue_token(VIEWER, email=f"{VIEWER}@example.com")
        yield BenchDatabase(db, env, f"Bearer {token}")
    finally:
        await drop_database(db)


@contextlib.asynccontextmanager
async def orm(url: str) -> AsyncIterator[None]:
    """Tortoise in this process, on `url` (for seeding and for in-process checks)."""
    # Insert statements are cached by table, not by dialect: forget the other's.
    EXECUTOR_CACHE.clear()
    await Tortoise.init(config=config.tortoise_config(url), _enable_global_fallback=True)
    try:
        yield
    finally:
        await Tortoise.close_connections()


async def seed() -> None:
    """The viewer with a full profile, TEAMS teams of MEMBERS_EACH, API keys, a beta
    toggle, storage usage."""
    viewer = await user_for_claims(Claims(VIEWER, f"{VIEWER}@example.com", "Ada L.", None))
    await User.filter(id=viewer.id).update(
        institution="Analytical Engines Ltd",
        bio="Notes on the engine.",
        location="London",
        website_url="https://ada.example.com",
        photo_file="0f1e2d3c4b5a.png",
        photo_bytes=48_000,
    )
    org = await Organization.create(name="Babbage & Co", name_key="babbage & co")
    for t in range(TEAMS):
        name = f"team-{t}"
        entity = await Entity.create(name=name, name_key=name, is_team=True)
        team = await Team.create(
            entity=entity, name=name, type=TeamType.WORK, organization=org if t % 2 else None
        )
        role = TeamRole.ADMIN if t < 2 else TeamRole.MEMBER
        await TeamMember.create(team=team, user=viewer, role=role)
        for m in range(MEMBERS_EACH - 1):
            member = await user_for_claims(Claims(f"t{t}-m{m}", "", f"Member {t}.{m}", None))
            await TeamMember.create(team=team, user=member, role=TeamRole.MEMBER)
    for n in range(API_KEYS):
        new = api_keys.generate()
        await ApiKey.create(user=viewer, name=f"key {n}", prefix=new.prefix, key_hash=new.key_hash)
    await UserBetaFeature.create(user=viewer, feature_id="launch", enabled=True)
    for category, size in (
        (StorageCategory.RUN_FILES, 7 * 10**9),
        (StorageCategory.ARTIFACTS, 10**9),
    ):
        await StorageCategoryCounter.create(
            entity_id=viewer.entity_id, category=category, bytes=size
        )


@contextlib.asynccontextmanager
async def servers(env: dict[str, str], count: int = 1) -> AsyncIterator[Sequence[ServerProcess]]:
    started = [
        ServerProcess(env, target="bench.floor:app", options=UVICORN_OPTIONS) for _ in range(count)
    ]
    try:
        await asyncio.gather(*(s.start() for s in started))
        yield started
    finally:
        for server in started:
            server.stop()
