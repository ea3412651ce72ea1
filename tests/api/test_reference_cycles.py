"""A request's objects are freed as it ends, not left in reference cycles.

Objects in a cycle wait for the garbage collector, and the server collects its
oldest generation rarely (app.tune_garbage_collector): a cycle anywhere in a
request (the executor's helpers, a loader's closure, an error's traceback) kept
the whole request (its data, context, loaders and rows) alive for half a minute
under load, and the heap grew by 50 MB between two full collections
(`make soak`). These tests ask the collector what each kind of request left.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections import Counter
from collections.abc import Iterator

import pytest

from seed import seed_catalog
from tests.resolvers.test_live_alerts import quiet_alert
from tests.resolvers.test_settings_page import SETTINGS_PAGE, add_teams
from tests.support.helpers import sign_up
from tests.support.ws import graphql_socket

UPDATE_PROFILE = """
mutation($bio: String!) { updateUser(input: {bio: $bio}) { user { bio } errors { code } } }
"""
BAD_PROFILE = """
mutation { updateUser(input: {websiteUrl: "ftp://x", name: ""}) { errors { field code } } }
"""
TOGGLE = """
mutation { setBetaFeature(input: {key: "launch", enabled: true}) { errors { code } } }
"""


@contextlib.contextmanager
def cyclic_garbage() -> Iterator[list[object]]:
    """Fills the list with what the block left unreachable, in reference cycles."""
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    found: list[object] = []
    try:
        yield found
    finally:
        gc.collect()
        found.extend(gc.garbage)
        gc.garbage.clear()
        gc.set_debug(0)
        gc.enable()


def kinds(objects: list[object]) -> dict[str, int]:
    return dict(Counter(type(o).__qualname__ for o in objects).most_common(10))


@pytest.fixture
async def ada(db):
    await seed_catalog()
    ada = await sign_up("ada")
    await add_teams(ada.user, first=0, count=3, members_each=4)
    return ada


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (SETTINGS_PAGE, {}),
        (UPDATE_PROFILE, {"bio": "Engines"}),
        (BAD_PROFILE, {}),
        (TOGGLE, {}),
        ('{ team(name: "nobody\'s") { name } }', {}),
        ("{ viewer { nope } }", {}),
    ],
    ids=["settings page", "mutation", "mutation with errors", "toggle", "no such team", "invalid"],
)
async def test_a_request_leaves_nothing_in_cycles(api, ada, query, variables):
    client = api.signed_in(ada)
    await client.post(query, variables)  # the first request of a document plans it

    with cyclic_garbage() as garbage:
        status, body = await client.post(query, variables)

    assert status == 200, body
    assert not garbage, kinds(garbage)


async def test_an_anonymous_refusal_leaves_nothing_in_cycles(api, ada):
    await api.post(UPDATE_PROFILE, {"bio": "Engines"})

    with cyclic_garbage() as garbage:
        _, body = await api.post(UPDATE_PROFILE, {"bio": "Engines"})

    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert not garbage, kinds(garbage)


async def test_a_live_event_leaves_nothing_in_cycles(server, ada):
    async with graphql_socket(server.url, ada.authorization) as socket:
        await socket.subscribe()
        await asyncio.sleep(0.1)  # the subscription is listening
        await quiet_alert(ada.user, "first")
        await socket.event()

        with cyclic_garbage() as garbage:
            await quiet_alert(ada.user, "second")
            event = await socket.event()

    assert event["title"] == "second"
    assert not garbage, kinds(garbage)
