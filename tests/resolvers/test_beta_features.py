"""The beta-feature catalog, its seeding, and the viewer's toggles."""

from __future__ import annotations

import asyncio
import os
import sqlite3

import asyncpg
import pytest

from models.beta import BetaFeature, UserBetaFeature
from seed import seed_catalog
from tests.e2e.process import migrate, server_env
from tests.support.helpers import create_database, drop_database, sign_up

BETA_FEATURES = "{ betaFeatures { key name description enabled } }"

VIEWER_BETA_FEATURES = "{ viewer { betaFeatures { key enabled } } }"

SET_BETA_FEATURE = """
mutation Set($input: SetBetaFeatureInput!) {
  setBetaFeature(input: $input) {
    betaFeature { key name enabled }
    errors { code field }
  }
}
"""

CATALOG = [
    {
        "key": "night-mode",
        "name": "Night mode",
        "description": "Inverts colors everywhere. Charts may be harder to tell apart.",
        "enabled": False,
    },
    {
        "key": "launch",
        "name": "Launch",
        "description": "Send jobs from the platform to your own infrastructure.",
        "enabled": False,
    },
    {
        "key": "unicorn-mode",
        "name": "Unicorn mode",
        "description": "A unicorn for the chart cursor.",
        "enabled": False,
    },
]


@pytest.fixture
async def catalog(db):
    await seed_catalog()


def toggled(key: str, enabled: bool) -> dict[str, object]:
    return {"input": {"key": key, "enabled": enabled}}


async def toggles() -> list[tuple[object, ...]]:
    return sorted(
        await UserBetaFeature.all().values_list("user__username", "feature_id", "enabled")
    )


async def test_catalog_lists_every_feature_in_order_all_off(api, catalog):
    ada = await sign_up("ada")

    anonymous = await api.execute(BETA_FEATURES)
    signed_in = await api.signed_in(ada).execute(BETA_FEATURES)

    assert anonymous == {"betaFeatures": CATALOG}
    assert signed_in == {"betaFeatures": CATALOG}


async def test_set_beta_feature_toggles_it_for_the_viewer_only(api, catalog):
    ada, bob = await sign_up("ada"), await sign_up("bob")

    data = await api.signed_in(ada).execute(SET_BETA_FEATURE, toggled("launch", True))

    assert data["setBetaFeature"] == {
        "betaFeature": {"key": "launch", "name": "Launch", "enabled": True},
        "errors": [],
    }
    ada_sees = await api.signed_in(ada).execute(VIEWER_BETA_FEATURES)
    bob_sees = await api.signed_in(bob).execute(VIEWER_BETA_FEATURES)
    root_list = await api.signed_in(ada).execute(BETA_FEATURES)
    assert ada_sees["viewer"]["betaFeatures"] == [
        {"key": "night-mode", "enabled": False},
        {"key": "launch", "enabled": True},
        {"key": "unicorn-mode", "enabled": False},
    ]
    assert all(not f["enabled"] for f in bob_sees["viewer"]["betaFeatures"])
    assert [f["enabled"] for f in root_list["betaFeatures"]] == [False, True, False]
    assert await toggles() == [("ada", "launch", True)]


async def test_set_beta_feature_turns_it_off_again(api, catalog):
    ada = await sign_up("ada")
    client = api.signed_in(ada)
    await client.execute(SET_BETA_FEATURE, toggled("night-mode", True))

    data = await client.execute(SET_BETA_FEATURE, toggled("night-mode", False))

    assert data["setBetaFeature"]["betaFeature"]["enabled"] is False
    viewer = await client.execute(VIEWER_BETA_FEATURES)
    assert all(not f["enabled"] for f in viewer["viewer"]["betaFeatures"])
    assert await toggles() == [("ada", "night-mode", False)]


@pytest.mark.parametrize("key", ["no-such-feature", "Night-Mode", "", "x" * 500])
async def test_set_beta_feature_unknown_key_is_not_found(api, catalog, key):
    ada = await sign_up("ada")

    data = await api.signed_in(ada).execute(SET_BETA_FEATURE, toggled(key, True))

    assert data["setBetaFeature"] == {
        "betaFeature": None,
        "errors": [{"code": "NOT_FOUND", "field": "key"}],
    }
    assert await toggles() == []


async def test_set_beta_feature_needs_a_signed_in_caller(api, catalog):
    error = await api.error(SET_BETA_FEATURE, toggled("launch", True))

    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert await toggles() == []


async def test_concurrent_toggles_keep_one_row(api, catalog):
    ada = await sign_up("ada")
    client = api.signed_in(ada)

    answers = await asyncio.gather(
        *(client.execute(SET_BETA_FEATURE, toggled("unicorn-mode", True)) for _ in range(10))
    )

    assert all(a["setBetaFeature"]["errors"] == [] for a in answers)
    assert await toggles() == [("ada", "unicorn-mode", True)]


async def test_seeding_again_keeps_toggles_and_restores_the_catalog(api, catalog):
    ada = await sign_up("ada")
    await api.signed_in(ada).execute(SET_BETA_FEATURE, toggled("night-mode", True))
    await BetaFeature.filter(key="launch").update(name="Old name", position=99)
    await BetaFeature.filter(key="unicorn-mode").delete()

    count = await seed_catalog()

    assert count == 3
    assert await api.execute(BETA_FEATURES) == {"betaFeatures": CATALOG}
    assert await toggles() == [("ada", "night-mode", True)]


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_cli_migrate_seeds_the_catalog_idempotently(kind):
    if kind == "postgres" and not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL tests skipped")
    database = await create_database(kind, name="migrate")
    env = server_env(database.url)
    try:
        await asyncio.to_thread(migrate, env)
        await asyncio.to_thread(migrate, env)

        query = "SELECT key, name, position FROM beta_feature ORDER BY position"
        if kind == "sqlite":
            with sqlite3.connect(database.url.removeprefix("sqlite://")) as connection:
                rows = connection.execute(query).fetchall()
        else:
            connection = await asyncpg.connect(os.environ["TEST_DATABASE_URL"])
            try:
                records = await connection.fetch(
                    query.replace("beta_feature", f'"{database.schema}".beta_feature')
                )
            finally:
                await connection.close()
            rows = [tuple(r) for r in records]
    finally:
        await drop_database(database)

    assert rows == [
        ("night-mode", "Night mode", 0),
        ("launch", "Launch", 1),
        ("unicorn-mode", "Unicorn mode", 2),
    ]
