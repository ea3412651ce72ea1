"""Tokens carry no life beyond a deletion: a token issued before an account was deleted
signs in to no account of that name, also once a new token has made the account again
(`Entity.tokens_valid_after`), and checking it costs no statement."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from jose import jwt
from tortoise.backends.base.executor import EXECUTOR_CACHE

import config
from models.entity import Entity
from models.user import User
from tests.e2e.process import server_env
from tests.support.helpers import count_queries, create_database, drop_database

VIEWER = "{ viewer { id username email } }"
DELETE_ACCOUNT = """
mutation($confirm: String!) {
  deleteAccount(input: {confirmUsername: $confirm}) { success errors { code } }
}
"""


def token(*, iat: float | None, email: str = "") -> str:
    claims: dict[str, object] = {"sub": "mallory", "exp": int(time.time()) + 600}
    if iat is not None:
        claims["iat"] = int(iat)
    if email:
        claims["email"] = email
    return f"Bearer {jwt.encode(claims, config.JWT_SECRET, algorithm='HS256')}"


async def refusal(api, authorization: str) -> str:
    status, body = await api.signed_in(authorization).post(VIEWER)
    assert status == 401, body
    [error] = body["errors"]
    assert error["extensions"] == {"code": "UNAUTHENTICATED"}
    return str(error["message"])


async def deleted_at() -> datetime:
    moment: datetime | None = (await Entity.get(name_key="mallory")).deleted_at
    assert moment is not None
    return moment


@pytest.fixture
async def deleted(api) -> str:
    """Mallory's first account, made and deleted with one token, which is returned."""
    old = token(iat=time.time() - 60, email="old@example.com")
    await api.signed_in(old).execute(VIEWER)
    data = await api.signed_in(old).execute(DELETE_ACCOUNT, {"confirm": "mallory"})
    assert data["deleteAccount"] == {"success": True, "errors": []}
    return old


async def test_token_from_before_the_deletion_is_refused_by_the_account_made_again(api, deleted):
    fresh = token(iat=(await deleted_at()).timestamp() + 1, email="new@example.com")
    new_account = (await api.signed_in(fresh).execute(VIEWER))["viewer"]

    message = await refusal(api, deleted)

    assert "deleted" in message
    assert (await api.signed_in(fresh).execute(VIEWER))["viewer"] == new_account
    assert new_account["email"] == "new@example.com"
    assert await User.filter(username="mallory").values_list("email") == [("new@example.com",)]


async def test_token_from_before_the_deletion_does_not_make_the_account_again(api, deleted):
    assert "deleted" in await refusal(api, deleted)

    assert not await User.filter(username="mallory").exists()
    assert (await Entity.get(name_key="mallory")).deleted_at is not None


async def test_token_issued_in_the_second_of_the_deletion_is_refused(api, deleted):
    # `iat` has whole seconds: one that cannot show it came after the deletion does not.
    fresh = token(iat=(await deleted_at()).timestamp() + 1)
    await api.signed_in(fresh).execute(VIEWER)
    valid_after = (await Entity.get(name_key="mallory")).tokens_valid_after
    assert valid_after is not None

    message = await refusal(api, token(iat=valid_after.timestamp()))

    assert "deleted" in message


async def test_token_without_iat_is_refused_once_the_name_was_deleted(api, deleted):
    fresh = token(iat=(await deleted_at()).timestamp() + 1)
    await api.signed_in(fresh).execute(VIEWER)

    assert "deleted" in await refusal(api, token(iat=None))


async def test_token_without_iat_signs_in_where_no_account_was_deleted(api):
    data = await api.signed_in(token(iat=None)).execute(VIEWER)

    assert data["viewer"]["username"] == "mallory"


async def test_deletion_sets_valid_after_and_making_the_account_again_keeps_it(api, deleted):
    tombstone = await Entity.get(name_key="mallory")
    assert tombstone.tokens_valid_after == tombstone.deleted_at

    fresh = token(iat=tombstone.deleted_at.timestamp() + 1)
    await api.signed_in(fresh).execute(VIEWER)

    again = await Entity.get(name_key="mallory")
    assert again.deleted_at is None
    assert again.tokens_valid_after == tombstone.tokens_valid_after


async def test_checking_valid_after_costs_no_statement(api, deleted):
    fresh = token(iat=(await deleted_at()).timestamp() + 1)
    await api.signed_in(fresh).execute(VIEWER)

    with count_queries() as accepted:
        await api.signed_in(fresh).execute("{ viewer { username } }")
    with count_queries() as refused:
        await refusal(api, deleted)

    # The sign-in's one statement reads the account with its entity, and so the moment.
    assert len(accepted) == len(refused) == 1, (accepted, refused)
    assert '"tokens_valid_after"' in accepted[0]


async def test_a_token_older_than_a_deletion_made_before_valid_after_existed_is_refused(api):
    # A tombstone as a deletion left it before this column: `deleted_at` alone.
    await api.signed_in(token(iat=time.time() - 60)).execute(VIEWER)
    await User.filter(username="mallory").delete()
    moment = datetime.now(UTC) - timedelta(seconds=30)
    await Entity.filter(name_key="mallory").update(deleted_at=moment)

    assert "deleted" in await refusal(api, token(iat=moment.timestamp() - 1))
    assert not await User.filter(username="mallory").exists()


# The migration, in a process of its own (migrating needs the ORM's global state, which
# the session's database fixture holds): names deleted before it keep refusing the
# tokens of their deleted accounts after a re-creation.

_MIGRATE = """
import asyncio, json
from tortoise import Tortoise, connections
from tortoise.migrations.api import migrate
import config
from models.entity import Entity

BEFORE = "models.0005_alert_retention_indexes"
ADDED = "models.0006_account_tokens_valid_after"
TOMBSTONES = (
    "INSERT INTO entity (name, name_key, is_team, deleted_at, created_at) VALUES "
    "('ghost', 'ghost', FALSE, '2026-01-02 03:04:05+00:00', CURRENT_TIMESTAMP), "
    "('alive', 'alive', FALSE, NULL, CURRENT_TIMESTAMP)"
)


async def step(target):
    try:
        await migrate(config=config.TORTOISE_ORM, target=target)
    finally:
        await Tortoise.close_connections()


async def rows():
    await Tortoise.init(config=config.TORTOISE_ORM)
    try:
        found = await Entity.all().order_by("id").values_list(
            "name", "deleted_at", "tokens_valid_after"
        )
    finally:
        await Tortoise.close_connections()
    return [[name, str(deleted), str(after)] for name, deleted, after in found]


async def main():
    await step(BEFORE)
    await Tortoise.init(config=config.TORTOISE_ORM)
    try:
        await connections.get("default").execute_script(TOMBSTONES)
    finally:
        await Tortoise.close_connections()
    await step(ADDED)
    forward = await rows()
    await step(BEFORE)
    await step(ADDED)
    print(json.dumps({"forward": forward, "again": await rows()}))


asyncio.run(main())
"""


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_migration_starts_valid_after_at_each_earlier_deletion(kind):
    if kind == "postgres" and not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL tests skipped")
    db = await create_database(kind, name="validafter")
    try:
        done = subprocess.run(  # noqa: S603 - fixed arguments
            [sys.executable, "-c", _MIGRATE],
            cwd=config.ROOT,
            env=server_env(db.url),
            capture_output=True,
            text=True,
            check=False,
        )

        assert done.returncode == 0, done.stderr
        migrated = json.loads(done.stdout.splitlines()[-1])
        expected = [
            ["ghost", "2026-01-02 03:04:05+00:00", "2026-01-02 03:04:05+00:00"],
            ["alive", "None", "None"],
        ]
        assert migrated == {"forward": expected, "again": expected}
    finally:
        await drop_database(db)
        EXECUTOR_CACHE.clear()
