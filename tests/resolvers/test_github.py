from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

import config
from auth import oauth
from auth.sealing import unseal
from models.integration import GithubIntegration, OAuthProvider, OAuthState
from tests.support.fake_github import (
    BAD_CODE,
    BROKEN_CODE,
    CLIENT_ID,
    DENIED_CODE,
    GOOD_CODE,
    SLOW_CODE,
    TOKEN,
)
from tests.support.helpers import GraphQL, sign_up

START = """
mutation Start($redirectUri: String) {
  startGithubConnect(input: {redirectUri: $redirectUri}) {
    authorizeUrl
    errors { field message code }
  }
}
"""
CONNECT = """
mutation Connect($code: String!, $state: String!) {
  connectGithub(input: {code: $code, state: $state}) {
    githubIntegration { login avatarUrl organizations scopes connectedAt }
    errors { field message code }
  }
}
"""
DISCONNECT = """
mutation { disconnectGithub(input: {}) { success errors { field message code } } }
"""
VIEWER = "{ viewer { githubIntegration { login organizations scopes } } }"


async def start(client: GraphQL, redirect_uri: str | None = None) -> tuple[str, dict[str, str]]:
    data = await client.execute(START, {"redirectUri": redirect_uri})
    payload = data["startGithubConnect"]
    assert payload["errors"] == []
    url: str = payload["authorizeUrl"]
    return url, {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def connect(client: GraphQL, code: str, state: str) -> dict[str, Any]:
    data = await client.execute(CONNECT, {"code": code, "state": state})
    payload: dict[str, Any] = data["connectGithub"]
    return payload


async def test_start_gives_githubs_authorize_url(api, github):
    alice = await sign_up("alice")

    url, query = await start(api.signed_in(alice))

    assert url.startswith(f"{github.url}/login/oauth/authorize?")
    assert query.keys() == {"client_id", "redirect_uri", "scope", "state"}
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == config.OAUTH_REDIRECT_URIS[0]
    assert query["scope"] == "read:org"
    flow = await OAuthState.get(user_id=alice.user.id)
    assert flow.provider == OAuthProvider.GITHUB
    assert github.calls == []


async def test_connect_stores_the_account_and_a_sealed_token(api, github):
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    _, query = await start(client)

    status, body = await client.post(CONNECT, {"code": GOOD_CODE, "state": query["state"]})

    assert status == 200
    payload = body["data"]["connectGithub"]
    assert payload["errors"] == []
    integration = payload["githubIntegration"]
    connected_at = integration.pop("connectedAt")
    assert integration == {
        "login": "octocat",
        "avatarUrl": "https://avatars.example/u/1",
        "organizations": ["octo-org", "ml-lab"],
        "scopes": ["read:org"],
    }
    assert datetime.fromisoformat(connected_at) > datetime.now(UTC) - timedelta(minutes=1)
    assert TOKEN not in json.dumps(body)
    record = await GithubIntegration.get(user_id=alice.user.id)
    assert TOKEN not in record.token_sealed
    assert unseal(record.token_sealed) == TOKEN
    assert github.exchanges == [
        {
            "client_id": CLIENT_ID,
            "client_secret": "test-client-secret",
            "code": GOOD_CODE,
            "redirect_uri": config.OAUTH_REDIRECT_URIS[0],
        }
    ]
    assert [path for _, path in github.calls] == [
        "/login/oauth/access_token",
        "/api/user",
        "/api/user/orgs",
    ]
    viewer = await client.execute(VIEWER)
    assert viewer["viewer"]["githubIntegration"] == {
        "login": "octocat",
        "organizations": ["octo-org", "ml-lab"],
        "scopes": ["read:org"],
    }


async def test_viewer_without_github_has_none(api, github):
    alice = await sign_up("alice")

    data = await api.signed_in(alice).execute(VIEWER)

    assert data == {"viewer": {"githubIntegration": None}}


async def test_connect_again_replaces_the_connection(api, github):
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    _, first = await start(client)
    await connect(client, GOOD_CODE, first["state"])
    github.orgs = ["only-org"]
    _, second = await start(client)

    payload = await connect(client, GOOD_CODE, second["state"])

    assert payload["githubIntegration"]["organizations"] == ["only-org"]
    assert await GithubIntegration.filter(user_id=alice.user.id).count() == 1


async def test_an_allowed_redirect_uri_is_used_throughout(api, github, monkeypatch):
    other = "https://app.example/settings/github"
    monkeypatch.setattr(config, "OAUTH_REDIRECT_URIS", [*config.OAUTH_REDIRECT_URIS, other])
    alice = await sign_up("alice")
    client = api.signed_in(alice)

    _, query = await start(client, other)
    await connect(client, GOOD_CODE, query["state"])

    assert query["redirect_uri"] == other
    assert github.exchanges[0]["redirect_uri"] == other


@pytest.mark.attack("oauth")
async def test_start_refuses_a_redirect_uri_not_allowed(api, github):
    alice = await sign_up("alice")

    data = await api.signed_in(alice).execute(START, {"redirectUri": "https://evil.example/"})

    payload = data["startGithubConnect"]
    assert payload["authorizeUrl"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("redirectUri", "INVALID")]
    assert await OAuthState.all().count() == 0


@pytest.mark.parametrize("setting", ["GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET"])
async def test_connect_unavailable_without_the_app_settings(api, github, monkeypatch, setting):
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    _, query = await start(client)
    monkeypatch.setattr(config, setting, "")

    payload = await connect(client, GOOD_CODE, query["state"])

    assert payload["githubIntegration"] is None
    [error] = payload["errors"]
    assert error["code"] == "UNAVAILABLE"
    assert setting in error["message"]
    assert github.calls == []


async def test_start_unavailable_without_client_id(api, monkeypatch):
    monkeypatch.setattr(config, "GITHUB_CLIENT_ID", "")
    alice = await sign_up("alice")

    data = await api.signed_in(alice).execute(START)

    [error] = data["startGithubConnect"]["errors"]
    assert error["code"] == "UNAVAILABLE"
    assert "GITHUB_CLIENT_ID" in error["message"]


async def test_anonymous_cannot_start(api, github):
    error = await api.error(START)

    assert error["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("code", "error_code", "reason"),
    [
        (BAD_CODE, "INVALID", "The code passed is incorrect or expired."),
        (DENIED_CODE, "INVALID", "The user has denied your application access."),
        (BROKEN_CODE, "UNAVAILABLE", "HTTP 500"),
        (SLOW_CODE, "UNAVAILABLE", "did not answer"),
    ],
)
async def test_github_failures_store_nothing(api, github, code, error_code, reason):
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    _, query = await start(client)

    payload = await connect(client, code, query["state"])

    assert payload["githubIntegration"] is None
    [error] = payload["errors"]
    assert error["code"] == error_code
    assert reason in error["message"]
    assert error["field"] == ("code" if error_code == "INVALID" else None)
    assert await GithubIntegration.all().count() == 0


async def test_user_endpoint_failure_stores_nothing(api, github, monkeypatch):
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    _, query = await start(client)
    monkeypatch.setattr(config, "GITHUB_API_URL", f"{github.url}/missing")

    payload = await connect(client, GOOD_CODE, query["state"])

    assert [e["code"] for e in payload["errors"]] == ["UNAVAILABLE"]
    assert "/user" in payload["errors"][0]["message"]
    assert await GithubIntegration.all().count() == 0


async def test_unreachable_github_is_unavailable(api, github, monkeypatch):
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    _, query = await start(client)
    monkeypatch.setattr(config, "GITHUB_URL", "http://127.0.0.1:9")

    payload = await connect(client, GOOD_CODE, query["state"])

    assert [e["code"] for e in payload["errors"]] == ["UNAVAILABLE"]
    assert await GithubIntegration.all().count() == 0


async def _forged(state: str) -> str:
    nonce, _, signature = state.partition(".")
    return f"{nonce}.{'0' * len(signature)}"


async def _another_users(state: str) -> str:
    bob = await sign_up("bob")
    return await oauth.start(bob.user, OAuthProvider.GITHUB, config.OAUTH_REDIRECT_URIS[0])


async def _slacks(state: str) -> str:
    flow = await OAuthState.get(nonce=state.partition(".")[0])
    return await oauth.start(await flow.user, OAuthProvider.SLACK, flow.redirect_uri)


async def _expired(state: str) -> str:
    nonce = state.partition(".")[0]
    past = datetime.now(UTC) - timedelta(seconds=1)
    await OAuthState.filter(nonce=nonce).update(expires_at=past)
    return state


async def _garbage(state: str) -> str:
    return "not-a-state"


@pytest.mark.parametrize(
    ("make_state", "words"),
    [
        (_forged, "not one this server issued"),
        (_garbage, "not one this server issued"),
        (_another_users, "does not belong"),
        (_slacks, "not one this server issued"),
        (_expired, "expired"),
    ],
)
@pytest.mark.attack("oauth")
async def test_connect_refuses_a_bad_state(api, github, make_state, words):
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    _, query = await start(client)
    state = await make_state(query["state"])

    payload = await connect(client, GOOD_CODE, state)

    assert payload["githubIntegration"] is None
    [error] = payload["errors"]
    assert (error["field"], error["code"]) == ("state", "INVALID")
    assert words in error["message"]
    assert github.calls == []
    assert await GithubIntegration.all().count() == 0


@pytest.mark.attack("oauth")
async def test_connect_refuses_a_state_used_before(api, github):
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    _, query = await start(client)
    await connect(client, BAD_CODE, query["state"])

    payload = await connect(client, GOOD_CODE, query["state"])

    [error] = payload["errors"]
    assert (error["field"], error["code"]) == ("state", "INVALID")
    assert "already used" in error["message"]
    assert await GithubIntegration.all().count() == 0


async def test_disconnect_revokes_the_grant_and_removes_the_record(api, github):
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    _, query = await start(client)
    await connect(client, GOOD_CODE, query["state"])

    data = await client.execute(DISCONNECT)

    assert data["disconnectGithub"] == {"success": True, "errors": []}
    assert github.revocations == [{"access_token": TOKEN}]
    assert ("DELETE", f"/api/applications/{CLIENT_ID}/grant") in github.calls
    assert await GithubIntegration.all().count() == 0
    assert (await client.execute(VIEWER))["viewer"]["githubIntegration"] is None


@pytest.mark.parametrize("failure", ["http-500", "timeout", "unset"])
async def test_failed_revoke_still_disconnects_and_says_so(api, github, monkeypatch, failure):
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    _, query = await start(client)
    await connect(client, GOOD_CODE, query["state"])
    if failure == "http-500":
        github.revoke_status = 500
    elif failure == "timeout":
        github.revoke_delay = 5.0
    else:
        monkeypatch.setattr(config, "GITHUB_CLIENT_SECRET", "")

    data = await client.execute(DISCONNECT)

    payload = data["disconnectGithub"]
    assert payload["success"] is True
    [error] = payload["errors"]
    assert error["code"] == "UNAVAILABLE"
    assert "did not revoke the grant" in error["message"]
    assert github.revocations == []
    assert await GithubIntegration.all().count() == 0


async def test_disconnect_when_not_connected(api, github):
    alice = await sign_up("alice")

    data = await api.signed_in(alice).execute(DISCONNECT)

    payload = data["disconnectGithub"]
    assert payload["success"] is False
    assert [e["code"] for e in payload["errors"]] == ["NOT_FOUND"]
    assert github.calls == []
