"""The Slack notifier against a loopback Slack."""

from __future__ import annotations

import aiohttp
import pytest

import config
from notifiers.base import PermanentFailure, TransientFailure
from notifiers.slack import SlackNotifier, payload
from tests.e2e.process import free_port
from tests.notifiers.test_email import alert


async def send(url: str) -> None:
    async with aiohttp.ClientSession() as http:
        await SlackNotifier(http).send(alert(recipient=url))


def test_payload_is_block_kit_with_a_plain_text_fallback():
    message = payload(alert(text="<!channel> ping & <http://x|y>"))

    assert message["text"].startswith("[ERROR] Loss &lt;diverged&gt; &amp; more: &lt;!channel&gt;")
    header, section, context = message["blocks"]
    assert header == {
        "type": "header",
        "text": {"type": "plain_text", "text": ":rotating_light: Loss <diverged> & more"},
    }
    assert section["text"] == {
        "type": "mrkdwn",
        "text": "&lt;!channel&gt; ping &amp; &lt;http://x|y&gt;",
    }
    assert context["elements"][0]["text"] == (
        "*Severity:* ERROR · *Run:* "
        "<http://testserver/alice/my%20project/runs/3x7k9q2p|alice/my project/3x7k9q2p>"
    )


def test_payload_keeps_to_block_kit_limits():
    message = payload(alert(title="t" * 64, text="&" * 10_000))

    section = message["blocks"][1]["text"]["text"]
    assert len(section) <= 3000 and section.endswith("&amp;…")
    assert len(message["text"]) <= 3000


async def test_200_is_delivered(slack):
    await send(slack.hook("ok"))

    [call] = slack.calls["ok"]
    assert call.body == payload(alert(recipient=slack.hook("ok")))


async def test_500_is_transient(slack):
    with pytest.raises(TransientFailure, match="500"):
        await send(slack.hook("down"))


async def test_429_is_transient_and_says_when(slack):
    with pytest.raises(TransientFailure) as failure:
        await send(slack.hook("limited"))

    assert failure.value.retry_after == 1.0


async def test_404_channel_not_found_is_permanent(slack):
    with pytest.raises(PermanentFailure, match="404: channel_not_found"):
        await send(slack.hook("gone"))


@pytest.mark.attack("slack")
async def test_a_webhook_outside_the_allowed_hosts_is_never_posted_to(slack):
    with pytest.raises(PermanentFailure, match="SLACK_WEBHOOK_HOSTS"):
        await send("https://hooks.slack.com/services/T/B/X")


async def test_slack_unreachable_is_transient_and_keeps_the_webhook_path_secret(monkeypatch):
    port = free_port()
    monkeypatch.setattr(config, "SLACK_WEBHOOK_HOSTS", frozenset({f"127.0.0.1:{port}"}))

    with pytest.raises(TransientFailure) as failure:
        await send(f"http://127.0.0.1:{port}/services/T000/B000/secret-token")

    assert "secret-token" not in failure.value.message
