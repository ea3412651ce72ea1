"""Floods, as an attacker or a runaway loop sends them: each action is cut at its
rate limit, all at once or one at a time, with LIMIT_EXCEEDED, HTTP 429 and when to
retry; a refused request runs nothing and writes nothing."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from models.alert import AlertEvent, AlertEventType
from models.api_key import ApiKey
from models.team import Invite, TeamMember
from resolvers.api_keys import MAX_KEYS_PER_USER
from services.rate_limits import ACTIONS
from tests.services.test_photos import UPLOAD, image_bytes, media_files
from tests.support.fakes import settled
from tests.support.helpers import Account, GraphQL, count_queries, set_rate_limits, sign_up
from tests.support.rows import snapshot
from tests.support.team_helpers import make_team

ALERT = """
mutation($title: String!) {
  notifyScriptableRunAlert(input: {entityName: "alice", projectName: "mnist",
                                   runName: "r1", title: $title, text: "loss = nan"}) {
    success
  }
}
"""
RUN_CRASHED = """
mutation { reportRunState(input: {entityName: "alice", projectName: "mnist", runName: "r1",
                                  state: CRASHED}) { success } }
"""
TEST_ALERT = "mutation { sendTestAlert(input: {channel: EMAIL}) { alertEvent { id } } }"
GENERATE_KEY = """
mutation { generateApiKey(input: {name: "tracker"}) { secret errors { code message } } }
"""
START_GITHUB = "mutation { startGithubConnect(input: {}) { authorizeUrl } }"
START_SLACK = "mutation { startSlackConnect(input: {}) { authorizeUrl } }"
CREATE_TEAM = """
mutation($name: String!) {
  createTeam(input: {teamName: $name, type: WORK, organizationName: "Acme"}) { team { name } }
}
"""
INVITE = """
mutation($username: String!) {
  createInvite(input: {entityName: "lab", username: $username}) { invite { id } }
}
"""


def key_authorization(secret: str) -> str:
    return "Basic " + base64.b64encode(f"api:{secret}".encode()).decode()


async def api_key(api: GraphQL, account: Account) -> str:
    data = await api.signed_in(account).execute(GENERATE_KEY)
    return key_authorization(data["generateApiKey"]["secret"])


def refused(answer: tuple[int, dict[str, Any]]) -> bool:
    status, body = answer
    codes = [e["extensions"]["code"] for e in body.get("errors") or ()]
    return status == 429 and body["data"] is None and codes == ["LIMIT_EXCEEDED"]


@pytest.mark.attack("flood")
async def test_one_api_key_flooding_alerts_is_cut_at_its_limit(api, mail, count_as):
    alice = await sign_up("alice")
    tracker = api.signed_in(await api_key(api, alice))
    per_key = ACTIONS["alerts"].key
    assert per_key is not None and per_key.startswith("60/minute")

    answers = await asyncio.gather(
        *(tracker.post(ALERT, {"title": f"alert {n}"}) for n in range(100))
    )

    accepted = [a for a in answers if a[0] == 200 and a[1]["data"]]
    assert len(accepted) == 60
    assert sum(refused(a) for a in answers) == 40
    assert await AlertEvent.filter(type=AlertEventType.SCRIPTABLE).count() == 60
    count_as("attacks", 40)


@pytest.mark.attack("flood")
async def test_a_refused_alert_runs_no_statement_but_the_key_lookup(api, mail, monkeypatch):
    alice = await sign_up("alice")
    tracker = api.signed_in(await api_key(api, alice))
    set_rate_limits(monkeypatch, {"alerts.key": "1/minute"})
    await tracker.execute(ALERT, {"title": "the one"})
    await settled(alice.user.id)
    before = await snapshot()

    with count_queries() as statements:
        answer = await tracker.post(ALERT, {"title": "one too many"})

    assert refused(answer)
    assert len(statements) == 1 and statements[0].lstrip().upper().startswith("SELECT")
    assert await snapshot() == before


@pytest.mark.attack("flood")
async def test_the_refusal_says_when_to_retry(api, server, mail):
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    for _ in range(5):
        await client.execute(TEST_ALERT)

    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{server.url}/graphql", json={"query": TEST_ALERT}, headers=client.headers
        ) as response:
            status, retry_after, body = response.status, response.headers, await response.json()

    assert status == 429
    [error] = body["errors"]
    assert error["extensions"] == {
        "code": "LIMIT_EXCEEDED",
        "retryAfter": error["extensions"]["retryAfter"],
    }
    assert 0 < error["extensions"]["retryAfter"] <= 60
    assert retry_after["Retry-After"] == str(error["extensions"]["retryAfter"])
    assert error["message"] == (
        "Too many test alerts: at most 5 per minute. "
        f"Try again in {error['extensions']['retryAfter']} s."
    )


@pytest.mark.attack("flood")
async def test_concurrent_test_alerts_pass_only_up_to_the_limit(api, mail, count_as):
    alice = await sign_up("alice")
    client = api.signed_in(alice)

    answers = await asyncio.gather(*(client.post(TEST_ALERT) for _ in range(30)))

    assert sum(refused(a) for a in answers) == 25
    assert await AlertEvent.filter(type=AlertEventType.TEST).count() == 5
    count_as("attacks", 25)


@pytest.mark.attack("flood")
async def test_concurrent_key_generation_stops_at_the_cap(api, monkeypatch, count_as):
    set_rate_limits(
        monkeypatch, {"api_keys.account": "1000/minute", "api_keys.address": "1000/minute"}
    )
    alice = await sign_up("alice")
    await ApiKey.bulk_create(
        [
            ApiKey(user_id=alice.user.id, name=f"k{n}", prefix=f"{n:08}", key_hash=f"{n:064}")
            for n in range(MAX_KEYS_PER_USER - 5)
        ]
    )
    client = api.signed_in(alice)

    answers = await asyncio.gather(*(client.execute(GENERATE_KEY) for _ in range(30)))

    payloads = [a["generateApiKey"] for a in answers]
    assert sum(p["secret"] is not None for p in payloads) == 5
    assert [p["errors"][0]["code"] for p in payloads if p["secret"] is None] == [
        "LIMIT_EXCEEDED"
    ] * 25
    assert await ApiKey.filter(user_id=alice.user.id).count() == MAX_KEYS_PER_USER
    count_as("attacks", 25)


@pytest.mark.attack("flood")
async def test_one_address_is_limited_across_its_accounts(api, mail, monkeypatch):
    set_rate_limits(
        monkeypatch, {"test_alerts.account": "5/minute", "test_alerts.address": "8/minute"}
    )
    alice, bob = await sign_up("alice"), await sign_up("bob")
    for _ in range(5):
        await api.signed_in(alice).execute(TEST_ALERT)
    for _ in range(3):
        await api.signed_in(bob).execute(TEST_ALERT)

    answer = await api.signed_in(bob).post(TEST_ALERT)

    assert refused(answer)
    assert "at most 8 per minute" in answer[1]["errors"][0]["message"]
    assert await AlertEvent.filter(user_id=bob.user.id).count() == 3


@dataclass(frozen=True)
class Flood:
    action: str
    #: Sends the action's mutation for the n-th time.
    send: Callable[[GraphQL, int], Awaitable[tuple[int, dict[str, Any]]]]


FLOODS = [
    Flood("alerts", lambda client, n: client.post(ALERT, {"title": f"alert {n}"})),
    Flood("alerts", lambda client, n: client.post(RUN_CRASHED)),
    Flood("test_alerts", lambda client, n: client.post(TEST_ALERT)),
    Flood("api_keys", lambda client, n: client.post(GENERATE_KEY)),
    Flood("oauth_starts", lambda client, n: client.post(START_GITHUB)),
    Flood("oauth_starts", lambda client, n: client.post(START_SLACK)),
    Flood("teams", lambda client, n: client.post(CREATE_TEAM, {"name": f"team-{n}"})),
    Flood("invitations", lambda client, n: client.post(INVITE, {"username": f"user{n}"})),
    Flood(
        "photos",
        lambda client, n: client.upload(
            UPLOAD, {"file": None}, "file", image_bytes("PNG", (8 + n, 8))
        ),
    ),
]


@pytest.mark.attack("flood")
@pytest.mark.parametrize("flood", FLOODS, ids=[f"{f.action}-{n}" for n, f in enumerate(FLOODS)])
async def test_each_action_is_refused_over_its_limit_and_writes_nothing(
    api, mail, slack, github, monkeypatch, flood
):
    set_rate_limits(monkeypatch, {f"{flood.action}.account": "2/minute"})
    root = await sign_up("alice", admin=True)
    users = [await sign_up(f"user{n}") for n in range(3)]
    await make_team("lab", root)
    client = api.signed_in(root)
    for n in range(2):
        status, body = await flood.send(client, n)
        assert status == 200 and not body.get("errors"), body
    for who in (root, *users):  # an invitation is mailed as its invitee's alert
        await settled(who.user.id)
    before, files = await snapshot(), media_files()

    answer = await flood.send(client, 2)

    assert refused(answer), answer
    assert await snapshot() == before
    assert media_files() == files
    assert await TeamMember.filter(team__name="lab").count() == 1
    assert await Invite.filter(team__name="lab").count() == (flood.action == "invitations") * 2
