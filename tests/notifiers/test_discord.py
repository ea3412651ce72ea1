"""The Discord notifier against a loopback Discord."""

from __future__ import annotations

from typing import Any

import pytest

import config
from models.alert import AlertEventType, AlertSeverity
from notifiers.base import Alert, PermanentFailure, ReceiverGone, TransientFailure
from notifiers.discord import DiscordNotifier, payload
from notifiers.http_guard import guarded_session
from tests.e2e.process import free_port
from tests.notifiers.test_email import alert as base_alert
from tests.support.receivers import TOKEN, DiscordServer, Reply, allow_hosts


def alert(discord: DiscordServer | None = None, **overrides: object) -> Alert:
    url = discord.webhook() if discord else "https://discord.com/api/webhooks/1/abc"
    return base_alert(**{"recipient": url, **overrides})


async def send(event: Alert) -> int:
    async with guarded_session() as http:
        return await DiscordNotifier(http).send(event)


def embed_text(message: dict[str, Any]) -> int:
    """What Discord counts against its 6,000 characters a message."""
    return sum(
        len(e.get("title", ""))
        + len(e.get("description", ""))
        + sum(len(f["name"]) + len(f["value"]) for f in e["fields"])
        for e in message["embeds"]
    )


def test_payload_is_a_headline_and_an_embed_that_pings_nobody():
    message = payload(alert(text="@everyone loss = nan"))

    assert message == {
        "content": "[ERROR] Loss <diverged> & more",
        "embeds": [
            {
                "title": "Loss <diverged> & more",
                "description": "@everyone loss = nan",
                "url": "http://testserver/alice/my%20project/runs/3x7k9q2p",
                "color": 0xCF222E,
                "timestamp": "2025-01-02T03:04:05+00:00",
                "fields": [
                    {"name": "Severity", "value": "ERROR", "inline": True},
                    {"name": "Run", "value": "alice/my project/3x7k9q2p", "inline": True},
                ],
            }
        ],
        "allowed_mentions": {"parse": []},
    }


def test_a_test_alert_has_no_run_field():
    message = payload(alert(type=AlertEventType.TEST, project_name="", run_name="", text=""))

    [embed] = message["embeds"]
    assert embed["fields"] == [{"name": "Severity", "value": "ERROR", "inline": True}]
    assert "description" not in embed and embed["url"] == "http://testserver/settings"


def test_payload_keeps_to_discords_limits():
    message = payload(alert(title="t" * 3000, text="x" * 10_000, run_name="r" * 2000))

    [embed] = message["embeds"]
    assert len(message["content"]) <= 2000
    assert len(embed["title"]) == 256 and embed["title"].endswith("…")
    assert len(embed["description"]) == 4096
    assert all(len(f["value"]) <= 1024 for f in embed["fields"])
    assert embed_text(message) <= 6000


def test_a_digest_shows_ten_alerts_and_counts_the_rest():
    gathered = tuple(
        alert(event_id=i, title=f"alert {i} " + "t" * 300, text="x" * 5000, severity=severity)
        for i, severity in zip(range(12), [AlertSeverity.INFO, AlertSeverity.WARN] * 6, strict=True)
    )
    digest = alert(title="12 alerts", gathered=gathered)

    message = payload(digest)

    assert len(message["embeds"]) == 10
    assert message["content"] == "[ERROR] 12 alerts\n…and 2 more"
    assert [e["color"] for e in message["embeds"][:2]] == [0x1F6FEB, 0xD29922]
    assert message["embeds"][0]["title"].startswith("alert 0 ")
    assert embed_text(message) <= 6000


async def test_204_is_delivered(discord):
    event = alert(discord)

    assert await send(event) == 204

    [request] = discord.received
    assert request.path == f"/api/webhooks/112233445566778899/{TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
    assert discord.bodies() == [payload(event)]


async def test_429_says_when_in_the_body(discord):
    discord.script(Reply(429, json={"message": "You are being rate limited.", "retry_after": 0.25}))

    with pytest.raises(TransientFailure) as failure:
        await send(alert(discord))

    assert failure.value.retry_after == 0.25
    assert failure.value.status_code == 429


async def test_429_says_when_in_the_header(discord):
    discord.script(Reply(429, headers={"Retry-After": "3"}, json={"retry_after": 2.5}))

    with pytest.raises(TransientFailure) as failure:
        await send(alert(discord))

    assert failure.value.retry_after == 3.0


@pytest.mark.parametrize("status", [404, 410])
async def test_a_deleted_webhook_is_gone(discord, status):
    discord.script(Reply(status, json={"message": "Unknown Webhook", "code": 10015}))

    with pytest.raises(ReceiverGone) as failure:
        await send(alert(discord))

    assert failure.value.status_code == status
    assert "Unknown Webhook" in failure.value.message


async def test_5xx_is_transient(discord):
    discord.script(502)

    with pytest.raises(TransientFailure) as failure:
        await send(alert(discord))

    assert failure.value.status_code == 502


@pytest.mark.parametrize("status", [400, 401, 403, 302])
async def test_other_answers_are_permanent(discord, status):
    discord.script(Reply(status, json={"message": "Cannot send an empty message", "code": 50006}))

    with pytest.raises(PermanentFailure) as failure:
        await send(alert(discord))

    assert not isinstance(failure.value, ReceiverGone)
    assert failure.value.status_code == status


@pytest.mark.attack("injection")
async def test_a_host_no_longer_allowed_is_never_posted_to(discord, monkeypatch):
    monkeypatch.setattr(config, "DISCORD_WEBHOOK_HOSTS", frozenset({"discord.com"}))

    with pytest.raises(PermanentFailure, match="must point at discord.com"):
        await send(alert(discord))

    assert discord.received == []


@pytest.mark.attack("injection")
async def test_a_url_that_is_no_webhook_is_never_posted_to(discord):
    with pytest.raises(PermanentFailure, match="looks like"):
        await send(alert(discord, recipient=f"{discord.url}/api/users/@me"))

    assert discord.received == []


async def test_unreachable_is_transient_and_keeps_the_token_secret(monkeypatch):
    host = f"127.0.0.1:{free_port()}"
    allow_hosts(monkeypatch, host)
    monkeypatch.setattr(config, "DISCORD_WEBHOOK_HOSTS", frozenset({host}))

    with pytest.raises(TransientFailure) as failure:
        await send(alert(recipient=f"http://{host}/api/webhooks/1/{TOKEN}"))

    assert failure.value.message == "Discord could not be reached (ConnectionRefusedError)."
    assert TOKEN not in failure.value.message
