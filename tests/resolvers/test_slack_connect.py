"""Connecting Slack: OAuth v2 against a loopback Slack, the state rules, disconnecting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

import config
from auth import slack as slack_oauth
from auth.sealing import unseal
from models.alert import AlertSubscription
from models.integration import OAuthState, SlackIntegration
from tests.support.fakes import connect_slack
from tests.support.helpers import GraphQL, sign_up

START = """
mutation($input: StartConnectInput!) {
  startSlackConnect(input: $input) { authorizeUrl errors { field code message } }
}
"""

CONNECT = """
mutation($input: CompleteConnectInput!) {
  connectSlack(input: $input) {
    slackIntegration { teamName channelName connectedAt }
    errors { field code message }
  }
}
"""

DISCONNECT = """
mutation { disconnectSlack(input: {}) { success errors { code } } }
"""

VIEWER_SLACK = "{ viewer { slackIntegration { teamName channelName } } }"


def errors(payload: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in payload["errors"]]


async def start(client: GraphQL, redirect_uri: str | None = None) -> str:
    data = await client.execute(START, {"input": {"redirectUri": redirect_uri}})
    url = data["startSlackConnect"]["authorizeUrl"]
    state: str = parse_qs(urlsplit(url).query)["state"][0]
    return state


async def test_start_slack_connect_gives_slacks_authorize_url(api, slack):
    alice = await sign_up("alice")

    data = await api.signed_in(alice).execute(START, {"input": {}})

    url = urlsplit(data["startSlackConnect"]["authorizeUrl"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{slack.url}/oauth/v2/authorize"
    query = parse_qs(url.query)
    assert query["client_id"] == ["1234.5678"]
    assert query["scope"] == ["incoming-webhook"]
    assert query["redirect_uri"] == [config.OAUTH_REDIRECT_URIS[0]]
    assert len(query["state"][0]) > 40


@pytest.mark.attack("oauth")
async def test_start_slack_connect_with_a_redirect_not_allowed_is_invalid(api, slack):
    alice = await sign_up("alice")

    data = await api.signed_in(alice).execute(
        START, {"input": {"redirectUri": "https://attacker.example/steal"}}
    )

    assert data["startSlackConnect"]["authorizeUrl"] is None
    assert errors(data["startSlackConnect"]) == [("redirectUri", "INVALID")]
    assert await OAuthState.all().count() == 0


async def test_slack_unconfigured_answers_unavailable_naming_the_setting(api, monkeypatch):
    monkeypatch.setattr(config, "SLACK_CLIENT_ID", "")
    alice = await sign_up("alice")
    client = api.signed_in(alice)

    started = await client.execute(START, {"input": {}})
    connected = await client.execute(CONNECT, {"input": {"code": "c", "state": "s"}})

    for payload in (started["startSlackConnect"], connected["connectSlack"]):
        assert [e["code"] for e in payload["errors"]] == ["UNAVAILABLE"]
        assert "SLACK_CLIENT_ID" in payload["errors"][0]["message"]


async def test_connect_slack_stores_the_webhook_sealed(api, slack):
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    state = await start(client)

    data = await client.execute(CONNECT, {"input": {"code": "the-code", "state": state}})

    payload = data["connectSlack"]
    assert payload["errors"] == []
    assert payload["slackIntegration"]["teamName"] == "Lab Workspace"
    assert payload["slackIntegration"]["channelName"] == "#training-runs"
    assert slack.exchanges == [
        {
            "client_id": "1234.5678",
            "client_secret": "slack-client-secret",
            "code": "the-code",
            "redirect_uri": config.OAUTH_REDIRECT_URIS[0],
        }
    ]
    row = await SlackIntegration.get(user_id=alice.user.id)
    assert slack.hook("ok") not in row.webhook_url_sealed
    assert unseal(row.webhook_url_sealed) == slack.hook("ok")
    viewer = await client.execute(VIEWER_SLACK)
    assert viewer["viewer"]["slackIntegration"] == {
        "teamName": "Lab Workspace",
        "channelName": "#training-runs",
    }


async def test_connecting_again_replaces_the_webhook(api, slack):
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    await client.execute(CONNECT, {"input": {"code": "one", "state": await start(client)}})
    slack.oauth = slack.grant("flaky")

    await client.execute(CONNECT, {"input": {"code": "two", "state": await start(client)}})

    [row] = await SlackIntegration.filter(user_id=alice.user.id)
    assert unseal(row.webhook_url_sealed) == slack.hook("flaky")


@pytest.mark.attack("oauth")
async def test_a_state_works_once(api, slack):
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    state = await start(client)
    await client.execute(CONNECT, {"input": {"code": "c", "state": state}})
    await SlackIntegration.filter(user_id=alice.user.id).delete()

    data = await client.execute(CONNECT, {"input": {"code": "c", "state": state}})

    assert errors(data["connectSlack"]) == [("state", "INVALID")]
    assert await SlackIntegration.all().count() == 0
    assert len(slack.exchanges) == 1


@pytest.mark.attack("oauth")
async def test_another_users_state_is_invalid(api, slack):
    alice, mallory = await sign_up("alice"), await sign_up("mallory")
    state = await start(api.signed_in(alice))

    data = await api.signed_in(mallory).execute(CONNECT, {"input": {"code": "c", "state": state}})

    assert errors(data["connectSlack"]) == [("state", "INVALID")]
    assert await SlackIntegration.all().count() == 0
    assert slack.exchanges == []


@pytest.mark.parametrize("forge", ["nonce-only", "tampered-signature", "empty"])
@pytest.mark.attack("oauth")
async def test_a_forged_state_is_invalid(api, slack, forge):
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    nonce, _, signature = (await start(client)).partition(".")
    state = {
        "nonce-only": nonce,
        "tampered-signature": f"{nonce}.{'0' * len(signature)}",
        "empty": "",
    }[forge]

    data = await client.execute(CONNECT, {"input": {"code": "c", "state": state}})

    assert errors(data["connectSlack"]) == [("state", "INVALID")]
    assert slack.exchanges == []


@pytest.mark.attack("oauth")
async def test_an_expired_state_is_invalid(api, slack):
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    state = await start(client)
    await OAuthState.all().update(expires_at=datetime.now(UTC) - timedelta(seconds=1))

    data = await client.execute(CONNECT, {"input": {"code": "c", "state": state}})

    assert errors(data["connectSlack"]) == [("state", "INVALID")]
    assert await SlackIntegration.all().count() == 0


@pytest.mark.parametrize("failure", ["ok-false", "http-500", "timeout", "no-webhook"])
async def test_slack_failing_the_exchange_is_unavailable_and_stores_nothing(
    api, slack, monkeypatch, failure
):
    if failure == "ok-false":
        slack.oauth = {"ok": False, "error": "invalid_code"}
    elif failure == "http-500":
        slack.oauth_status = 500
    elif failure == "timeout":
        monkeypatch.setattr(slack_oauth, "EXCHANGE_TIMEOUT_SECONDS", 0.2)
        slack.oauth_delay = 1.0
    else:
        slack.oauth = {"ok": True, "team": {"name": "Lab"}}
    alice = await sign_up("alice")
    client = api.signed_in(alice)

    data = await client.execute(CONNECT, {"input": {"code": "c", "state": await start(client)}})

    assert data["connectSlack"]["slackIntegration"] is None
    assert [e["code"] for e in data["connectSlack"]["errors"]] == ["UNAVAILABLE"]
    assert await SlackIntegration.all().count() == 0


@pytest.mark.attack("slack")
async def test_a_webhook_outside_the_allowed_hosts_is_refused(api, slack):
    slack.oauth = slack.grant()
    slack.oauth["incoming_webhook"]["url"] = "https://hooks.attacker.example/services/T/B/X"
    alice = await sign_up("alice")
    client = api.signed_in(alice)

    data = await client.execute(CONNECT, {"input": {"code": "c", "state": await start(client)}})

    [error] = data["connectSlack"]["errors"]
    assert error["code"] == "UNAVAILABLE" and "SLACK_WEBHOOK_HOSTS" in error["message"]
    assert await SlackIntegration.all().count() == 0


async def test_disconnect_slack_removes_it_and_turns_slack_alerts_off(api, slack):
    alice = await sign_up("alice")
    await connect_slack(alice.user.id, slack.hook("ok"))
    await AlertSubscription.create(user_id=alice.user.id, event="RUN_CRASHED", channel="SLACK")
    await AlertSubscription.filter(user_id=alice.user.id).update(enabled=True)
    client = api.signed_in(alice)

    data = await client.execute(DISCONNECT)

    assert data["disconnectSlack"] == {"success": True, "errors": []}
    assert (await client.execute(VIEWER_SLACK))["viewer"]["slackIntegration"] is None
    rows = await AlertSubscription.filter(user_id=alice.user.id).order_by("id")
    assert [(r.channel, r.enabled) for r in rows] == [
        ("EMAIL", True),
        ("EMAIL", True),
        ("SLACK", False),
    ]


@pytest.mark.parametrize(
    ("url", "hosts", "allowed"),
    [
        ("https://hooks.slack.com/services/T/B/X", {"hooks.slack.com"}, True),
        ("https://hooks.slack.com:443/services/T/B/X", {"hooks.slack.com"}, True),
        ("https://hooks.slack.com:8443/services/T/B/X", {"hooks.slack.com"}, False),
        ("http://hooks.slack.com/services/T/B/X", {"hooks.slack.com"}, False),
        ("https://hooks.slack.com.attacker.example/x", {"hooks.slack.com"}, False),
        ("https://user@hooks.slack.com/x", {"hooks.slack.com"}, False),
        ("http://127.0.0.1:9000/hooks/ok", {"127.0.0.1:9000"}, True),
        ("http://127.0.0.1:9001/hooks/ok", {"127.0.0.1:9000"}, False),
        ("ftp://hooks.slack.com/x", {"hooks.slack.com"}, False),
        ("https://hooks.slack.com:99999/x", {"hooks.slack.com"}, False),
    ],
)
def test_webhook_hosts(monkeypatch, url, hosts, allowed):
    monkeypatch.setattr(config, "SLACK_WEBHOOK_HOSTS", frozenset(hosts))

    assert slack_oauth.webhook_allowed(url) is allowed
