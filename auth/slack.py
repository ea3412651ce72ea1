"""Slack's OAuth v2 "Add to Slack" flow with the `incoming-webhook` scope.

SlackConnectError
├── SlackNotConfigured    SLACK_CLIENT_ID (or its secret) is not set
├── SlackRefused          Slack answered ok: false, an HTTP error, or not in time
└── WebhookNotAllowed     the webhook URL Slack gave points outside SLACK_WEBHOOK_HOSTS
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import aiohttp

import config

SCOPE = "incoming-webhook"
#: Seconds Slack has to answer the code exchange.
EXCHANGE_TIMEOUT_SECONDS = 10.0
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class SlackConnectError(Exception):
    pass


class SlackNotConfigured(SlackConnectError):
    pass


class SlackRefused(SlackConnectError):
    pass


class WebhookNotAllowed(SlackConnectError):
    pass


@dataclass(frozen=True)
class SlackGrant:
    """What Slack granted: the workspace, the channel, and the URL that posts there."""

    team_name: str
    channel_name: str
    webhook_url: str


def require_configured() -> None:
    if not config.SLACK_CLIENT_ID or not config.SLACK_CLIENT_SECRET:
        raise SlackNotConfigured(
            "Slack is not set up on this server: the operator must set SLACK_CLIENT_ID "
            "and SLACK_CLIENT_SECRET."
        )


def authorize_url(state: str, redirect_uri: str) -> str:
    query = urlencode(
        {
            "client_id": config.SLACK_CLIENT_ID,
            "scope": SCOPE,
            "redirect_uri": redirect_uri,
            "state": state,
        }
    )
    return f"{config.SLACK_AUTHORIZE_URL}?{query}"


def webhook_allowed(url: str) -> bool:
    """Whether `url` points at a host of SLACK_WEBHOOK_HOSTS.

    Whoever controls the stored URL chooses where the server sends alerts (and
    their text): only Slack's hosts may receive them, over HTTPS. Plain HTTP is
    allowed to loopback hosts only, for local fakes of Slack.
    """
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    if not host or parts.username is not None or parts.password is not None:
        return False
    if parts.scheme != "https" and not (parts.scheme == "http" and host in _LOOPBACK):
        return False
    default_port = 443 if parts.scheme == "https" else 80
    hosts = config.SLACK_WEBHOOK_HOSTS
    if f"{host}:{port or default_port}" in hosts:
        return True
    return host in hosts and port in (None, default_port)


async def exchange_code(code: str, redirect_uri: str) -> SlackGrant:
    """Trade the `code` Slack sent the browser back with for the incoming webhook."""
    require_configured()
    form = {
        "client_id": config.SLACK_CLIENT_ID,
        "client_secret": config.SLACK_CLIENT_SECRET,
        "code": code,
        "redirect_uri": redirect_uri,
    }
    timeout = aiohttp.ClientTimeout(total=EXCHANGE_TIMEOUT_SECONDS)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as http,
            http.post(f"{config.SLACK_API_URL}/oauth.v2.access", data=form) as response,
        ):
            if response.status != 200:
                raise SlackRefused(f"Slack answered HTTP {response.status}.")
            body = await response.json(content_type=None)
    except (aiohttp.ClientError, ValueError):
        raise SlackRefused("Slack could not be reached or answered garbage.") from None
    except TimeoutError:
        raise SlackRefused("Slack did not answer in time.") from None
    return _grant(body)


def _grant(body: Any) -> SlackGrant:
    if not isinstance(body, dict) or body.get("ok") is not True:
        error = body.get("error") if isinstance(body, dict) else None
        raise SlackRefused(f"Slack refused the connection ({error or 'no reason given'}).")
    hook = body.get("incoming_webhook")
    team = body.get("team")
    url = hook.get("url") if isinstance(hook, dict) else None
    if not isinstance(url, str) or not url:
        raise SlackRefused("Slack granted no incoming webhook; approve a channel for it.")
    if not webhook_allowed(url):
        raise WebhookNotAllowed(
            "Slack returned a webhook on a host this server does not post to; "
            "the operator can allow it in SLACK_WEBHOOK_HOSTS."
        )
    team_name = team.get("name") if isinstance(team, dict) else None
    channel = hook.get("channel") if isinstance(hook, dict) else None
    return SlackGrant(
        team_name=str(team_name or "Slack")[:256],
        channel_name=str(channel or "")[:256],
        webhook_url=url,
    )
