"""Documents that ask too much are refused before they run, cheaply (`api.cost`)."""

from __future__ import annotations

import time

import pytest
from graphql import parse, validate

from api.cost import LIST_BOUND, limits_rule
from api.limits import MAX_COST, validation_rules
from schema import schema
from tests.fastpath.test_differential import WEB_DOCUMENTS
from tests.resolvers.test_settings_page import SETTINGS_PAGE
from tests.support.helpers import sign_up
from tests.support.rows import snapshot
from tests.support.team_helpers import make_team


def doubling_fragments(count: int) -> str:
    """`count` fragments, each spreading the next twice: 2^count fields once expanded."""
    fragments = [
        f"fragment F{n} on User {{ teams {{ name }} ...F{n + 1} ...F{n + 1} }}"
        for n in range(count - 1)
    ]
    fragments.append(f"fragment F{count - 1} on User {{ username }}")
    return '{ user(username: "alice") { ...F0 } } ' + " ".join(fragments)


def refusals(document: str) -> list[str]:
    errors = validate(schema._schema, parse(document), validation_rules())
    return [e.message for e in errors]


@pytest.mark.attack("graphql")
@pytest.mark.parametrize("fragments", [19, 60])
async def test_fragments_spread_twice_over_are_refused_cheaply(api, fragments):
    alice = await sign_up("alice")
    before = await snapshot()
    document = doubling_fragments(fragments)

    started = time.process_time()
    _, body = await api.post(document)
    spent = time.process_time() - started

    assert body.get("data") is None
    codes = {e["extensions"]["code"] for e in body["errors"]}
    assert "LIMIT_EXCEEDED" in codes  # its cost: 2^fragments fields
    # Expanded, 60 fragments are 2^60 fields: only a measure of each fragment once
    # answers within a second of CPU (the server runs in this process).
    assert spent < 1.0, f"{spent:.2f} s of CPU"
    assert await snapshot() == before
    assert await api.signed_in(alice).execute("{ viewer { username } }")


@pytest.mark.attack("graphql")
async def test_nested_teams_of_public_profiles_are_refused_by_cost(api):
    alice = await sign_up("alice")
    await make_team("lab", alice)
    nested = "username"
    for _ in range(3):  # depth 9: within the depth limit
        nested = f"teams {{ members {{ profile {{ {nested} }} }} }}"
    aliases = " ".join(f'u{n}: user(username: "alice") {{ {nested} }}' for n in range(6))

    error = await api.error("{ " + aliases + " }")

    assert error["extensions"]["code"] == "LIMIT_EXCEEDED"
    cost = error["extensions"]["cost"]
    assert cost["maximumQueryCost"] == MAX_COST
    assert cost["requestedQueryCost"] > MAX_COST
    assert "over the limit of 100,000" in error["message"]


def test_the_cost_counts_each_list_at_its_page():
    rule = limits_rule(max_depth=10, max_aliases=50, max_cost=0)
    cases = {
        "{ viewer { username } }": 1 + 1,
        '{ user(username: "a") { teams { name } } }': 1 + (1 + LIST_BOUND * 1),
        "{ viewer { teams { edges { node { name } } } } }": 1 + (1 + (1 + 50 * (1 + 1))),
        "{ organizations { name } }": 1 + 20 * 1,  # the argument's default page
        "{ organizations(first: 3) { name id } }": 1 + 3 * 2,
        "query($n: Int) { organizations(first: $n) { name } }": 1 + LIST_BOUND,
        "{ viewer { alertEvents(first: 5) { edges { node { title } } } } }": (
            1 + (1 + (1 + 5 * (1 + 1)))
        ),
        "{ __schema { types { name } } viewer { __typename } }": 1,
        "{ viewer { alertEvents(first: 2) { edges { node { deliveries { status } } } } } }": (
            # A delivery a destination at most: the account's email and Slack, and 20 more.
            1 + (1 + (1 + 2 * (1 + (1 + 22 * 1))))
        ),
    }
    for document, cost in cases.items():
        errors = validate(schema._schema, parse(document), [rule])
        costs = [e.extensions["cost"] for e in errors if e.extensions and "cost" in e.extensions]
        got = costs[0]["requestedQueryCost"] if costs else 0
        assert got == cost, document


def test_what_the_web_ui_sends_is_within_the_limits():
    for name, document in {**WEB_DOCUMENTS, "SettingsPage": SETTINGS_PAGE}.items():
        assert refusals(document) == [], name
