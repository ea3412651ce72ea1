"""GitHub's OAuth app flow over aiohttp: the authorize URL, the code exchange, the
user and its organizations, and revoking the grant.

GithubError
├── GithubUnavailable   GitHub unreachable, too slow, or answering an HTTP error
└── GithubRefused       GitHub's own OAuth error (`bad_verification_code`, `access_denied`)

Settings are read from `config` at each call, so tests can point them at a
loopback server.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp

import config

SCOPES = ("read:org",)
#: GitHub's answers are small: anything larger is not GitHub, and is not read.
MAX_RESPONSE_BYTES = 1024 * 1024
#: Organizations fetched: pages of 100, at most this many pages.
MAX_ORG_PAGES = 10
_USER_AGENT = "Switchboard"


class GithubError(Exception):
    pass


class GithubUnavailable(GithubError):
    pass


class GithubRefused(GithubError):
    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"GitHub refused: {description} ({error})")
        self.error = error
        self.description = description


@dataclass(frozen=True)
class GithubAccount:
    login: str
    avatar_url: str | None
    organizations: list[str]
    scopes: list[str]
    token: str


def authorize_url(state: str, redirect_uri: str) -> str:
    query = urlencode(
        {
            "client_id": config.GITHUB_CLIENT_ID,
            "redirect_uri": redirect_uri,
            "scope": " ".join(SCOPES),
            "state": state,
        }
    )
    return f"{config.GITHUB_URL}/login/oauth/authorize?{query}"


def _session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=config.GITHUB_TIMEOUT_SECONDS),
        headers={"User-Agent": _USER_AGENT},
    )


async def _request(
    http: aiohttp.ClientSession, method: str, url: str, what: str, **kwargs: Any
) -> tuple[int, Any]:
    """GitHub's status and JSON answer; `GithubUnavailable` when there is none to use."""
    try:
        async with http.request(method, url, **kwargs) as response:
            body = await response.content.read(MAX_RESPONSE_BYTES + 1)
            status = response.status
    except TimeoutError:
        raise GithubUnavailable(
            f"GitHub did not answer {what} within {config.GITHUB_TIMEOUT_SECONDS:g} seconds."
        ) from None
    except aiohttp.ClientError as exc:
        raise GithubUnavailable(f"GitHub could not be reached for {what}: {exc}.") from None
    if len(body) > MAX_RESPONSE_BYTES:
        raise GithubUnavailable(f"GitHub's answer to {what} is too large.")
    if status >= 400:
        raise GithubUnavailable(f"GitHub answered {what} with HTTP {status}.")
    if not body:
        return status, None
    try:
        return status, json.loads(body)
    except ValueError:
        raise GithubUnavailable(f"GitHub's answer to {what} is not JSON.") from None


async def fetch_account(code: str, redirect_uri: str) -> GithubAccount:
    """Exchange an authorization code, then read who granted it and which organizations."""
    async with _session() as http:
        token, scopes = await _exchange(http, code, redirect_uri)
        api = {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json"}
        _, user = await _request(http, "GET", f"{config.GITHUB_API_URL}/user", "/user", headers=api)
        organizations = await _organizations(http, api)
    login = user.get("login") if isinstance(user, dict) else None
    if not isinstance(login, str) or not login:
        raise GithubUnavailable("GitHub's /user answer has no login.")
    avatar = user.get("avatar_url")
    return GithubAccount(
        login=login[:128],
        avatar_url=avatar if isinstance(avatar, str) and len(avatar) <= 2048 else None,
        organizations=organizations,
        scopes=scopes,
        token=token,
    )


async def _exchange(
    http: aiohttp.ClientSession, code: str, redirect_uri: str
) -> tuple[str, list[str]]:
    form = {
        "client_id": config.GITHUB_CLIENT_ID,
        "client_secret": config.GITHUB_CLIENT_SECRET,
        "code": code,
        "redirect_uri": redirect_uri,
    }
    # Without the JSON accept header GitHub answers form-encoded text.
    _, answer = await _request(
        http,
        "POST",
        f"{config.GITHUB_URL}/login/oauth/access_token",
        "the code exchange",
        data=form,
        headers={"Accept": "application/json"},
    )
    if not isinstance(answer, Mapping):
        raise GithubUnavailable("GitHub's answer to the code exchange is not an object.")
    # GitHub reports a bad code with HTTP 200 and an `error` member.
    error = answer.get("error")
    if error:
        description = answer.get("error_description") or str(error)
        raise GithubRefused(str(error)[:100], str(description)[:300])
    token = answer.get("access_token")
    if not isinstance(token, str) or not token:
        raise GithubUnavailable("GitHub's answer to the code exchange has no access token.")
    scope = answer.get("scope")
    scopes = [s.strip() for s in scope.split(",") if s.strip()] if isinstance(scope, str) else []
    return token, scopes


async def _organizations(http: aiohttp.ClientSession, headers: dict[str, str]) -> list[str]:
    logins: list[str] = []
    for page in range(1, MAX_ORG_PAGES + 1):
        _, orgs = await _request(
            http,
            "GET",
            f"{config.GITHUB_API_URL}/user/orgs",
            "/user/orgs",
            headers=headers,
            params={"per_page": "100", "page": str(page)},
        )
        if not isinstance(orgs, list):
            raise GithubUnavailable("GitHub's /user/orgs answer is not a list.")
        logins += [
            org["login"][:128]
            for org in orgs
            if isinstance(org, dict) and isinstance(org.get("login"), str)
        ]
        if len(orgs) < 100:
            break
    return logins


async def revoke_grant(token: str) -> None:
    """Revoke the app's whole grant for the token's user; `GithubError` if GitHub did not."""
    basic = aiohttp.encode_basic_auth(config.GITHUB_CLIENT_ID, config.GITHUB_CLIENT_SECRET)
    url = f"{config.GITHUB_API_URL}/applications/{quote(config.GITHUB_CLIENT_ID, safe='')}/grant"
    async with _session() as http:
        status, _ = await _request(
            http,
            "DELETE",
            url,
            "the grant revocation",
            json={"access_token": token},
            headers={"Authorization": basic, "Accept": "application/vnd.github+json"},
        )
    if status != 204:
        raise GithubUnavailable(f"GitHub answered the grant revocation with HTTP {status}.")
