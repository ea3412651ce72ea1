"""The webhook notifier against a loopback Standard Webhooks receiver."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from standardwebhooks.webhooks import Webhook

import config
from models.alert import AlertSeverity
from notifiers import webhook
from notifiers.base import Alert, PermanentFailure, ReceiverGone, TransientFailure
from notifiers.http_guard import guarded_session
from notifiers.webhook import WebhookNotifier, encode
from tests.e2e.process import free_port
from tests.notifiers.test_email import alert as base_alert
from tests.support.receivers import Received, Reply, WebhookReceiver, allow_hosts, new_secret

MESSAGE_ID = "msg_2Kx7delivery42"


def alert(receiver: WebhookReceiver, **overrides: object) -> Alert:
    fields: dict[str, object] = {
        "recipient": receiver.hook(),
        "message_id": MESSAGE_ID,
        "secrets": receiver.secrets,
        **overrides,
    }
    return base_alert(**fields)


async def send(event: Alert) -> int:
    async with guarded_session() as http:
        return await WebhookNotifier(http).send(event)


async def test_an_event_is_delivered_signed_as_the_spec_says(webhook_receiver):
    [secret] = webhook_receiver.secrets
    before = int(time.time())

    status = await send(alert(webhook_receiver))

    [request] = webhook_receiver.received
    assert status == 200
    assert request.verified_by == (secret,)
    headers = {k.lower(): v for k, v in request.headers.items()}
    assert headers["webhook-id"] == MESSAGE_ID
    assert before <= int(headers["webhook-timestamp"]) <= request.at + 1
    assert headers["content-type"] == "application/json"
    assert "Switchboard" in headers["user-agent"]
    assert json.loads(request.body) == {
        "type": "alert.raised",
        "timestamp": "2025-01-02T03:04:05+00:00",
        "data": {
            "id": "3",
            "type": "SCRIPTABLE",
            "title": "Loss <diverged> & more",
            "text": "loss = nan\nat step 1200",
            "severity": "ERROR",
            "entityName": "alice",
            "projectName": "my project",
            "runName": "3x7k9q2p",
            "createdAt": "2025-01-02T03:04:05+00:00",
            "url": "http://testserver/alice/my%20project/runs/3x7k9q2p",
        },
    }


async def test_the_bytes_sent_are_the_bytes_signed(webhook_receiver):
    [secret] = webhook_receiver.secrets
    event = alert(webhook_receiver, text='ünïcode ✓ "quoted" \\ </script>')

    await send(event)

    [request] = webhook_receiver.received
    headers = {k.lower(): v for k, v in request.headers.items()}
    assert request.body == encode(event)
    at = datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC)
    assert headers["webhook-signature"] == Webhook(secret).sign(MESSAGE_ID, at, request.body)
    tampered = request.body.replace(b"ERROR", b"INFO")
    assert webhook_receiver.verifiers(Received(0, "", request.headers, tampered)) == ()


async def test_during_a_rotation_each_secret_alone_verifies(monkeypatch):
    old, new = new_secret(), new_secret()
    async with WebhookReceiver.running(old, new) as receiver:
        allow_hosts(monkeypatch, receiver.host)

        await send(alert(receiver, secrets=(new, old)))

    [request] = receiver.received
    assert request.verified_by == (old, new)
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    stranger = WebhookReceiver(secrets=(new_secret(),))
    assert stranger.verifiers(request) == ()


async def test_a_digest_carries_the_alerts_it_gathers(webhook_receiver):
    first = alert(webhook_receiver, event_id=11, title="first")
    second = alert(webhook_receiver, event_id=12, title="second", severity=AlertSeverity.WARN)
    digest = alert(webhook_receiver, title="2 alerts", gathered=(first, second))

    await send(digest)

    [request] = webhook_receiver.received
    body = json.loads(request.body)
    assert request.verified_by == webhook_receiver.secrets
    assert body["type"] == "alert.digest"
    assert body["data"]["count"] == 2
    assert [(a["id"], a["title"], a["severity"]) for a in body["data"]["alerts"]] == [
        ("11", "first", "ERROR"),
        ("12", "second", "WARN"),
    ]


async def test_retries_keep_the_webhook_id_and_are_signed_afresh(webhook_receiver):
    webhook_receiver.script(500, 503, 200)
    event = alert(webhook_receiver)

    for _ in range(2):
        with pytest.raises(TransientFailure):
            await send(event)
    assert await send(event) == 200

    ids = {r.headers["webhook-id"] for r in webhook_receiver.received}
    assert ids == {MESSAGE_ID}
    assert all(r.verified_by == webhook_receiver.secrets for r in webhook_receiver.received)


@pytest.mark.parametrize("status", [500, 502, 503, 408, 429, 400, 401, 404])
async def test_other_answers_are_transient(webhook_receiver, status):
    webhook_receiver.script(Reply(status, text="busy, come back"))

    with pytest.raises(TransientFailure) as failure:
        await send(alert(webhook_receiver))

    assert failure.value.status_code == status
    assert failure.value.message.endswith(f"answered {status}: busy, come back")
    assert failure.value.retry_after is None


async def test_retry_after_in_seconds_is_honoured(webhook_receiver):
    webhook_receiver.script(Reply(429, headers={"Retry-After": "120"}))

    with pytest.raises(TransientFailure) as failure:
        await send(alert(webhook_receiver))

    assert failure.value.retry_after == 120.0


async def test_retry_after_as_an_http_date_is_honoured(webhook_receiver):
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)
    webhook_receiver.script(Reply(503, headers={"Retry-After": when}))

    with pytest.raises(TransientFailure) as failure:
        await send(alert(webhook_receiver))

    assert failure.value.retry_after is not None and 85 <= failure.value.retry_after <= 90


async def test_410_gone_turns_the_destination_off(webhook_receiver):
    webhook_receiver.script(Reply(410, text="endpoint removed"))

    with pytest.raises(ReceiverGone) as failure:
        await send(alert(webhook_receiver))

    assert failure.value.status_code == 410


@pytest.mark.attack("injection")
async def test_a_redirect_is_not_followed(webhook_receiver, canary, connects):
    webhook_receiver.script(Reply(302, headers={"Location": f"{canary.url}/latest/meta-data"}))

    with pytest.raises(PermanentFailure) as failure:
        await send(alert(webhook_receiver))

    assert not isinstance(failure.value, ReceiverGone)
    assert failure.value.message.endswith("answered 302, a redirect, which is not followed.")
    assert failure.value.status_code == 302
    assert canary.hits == 0
    assert len(webhook_receiver.received) == 1


async def test_a_receiver_that_hangs_times_out(webhook_receiver, monkeypatch):
    monkeypatch.setattr(webhook, "WEBHOOK_TIMEOUT_SECONDS", 0.3)
    webhook_receiver.script(Reply(hang=True))

    with pytest.raises(TransientFailure) as failure:
        await send(alert(webhook_receiver))

    assert failure.value.message == "The webhook at 127.0.0.1 did not answer within 0.3 seconds."
    assert failure.value.status_code is None


async def test_only_the_start_of_a_long_answer_is_read(webhook_receiver):
    webhook_receiver.script(Reply(500, text="x" * 1_000_000))

    with pytest.raises(TransientFailure) as failure:
        await send(alert(webhook_receiver))

    assert len(failure.value.message) <= 500


async def test_unreachable_is_transient_and_keeps_the_url_secret(monkeypatch):
    port = free_port()
    allow_hosts(monkeypatch, f"127.0.0.1:{port}")
    url = f"http://127.0.0.1:{port}/hooks/secret-token?key=hunter2"

    with pytest.raises(TransientFailure) as failure:
        await send(base_alert(recipient=url, message_id=MESSAGE_ID, secrets=(new_secret(),)))

    assert failure.value.message == (
        "The webhook at 127.0.0.1 could not be reached (ConnectionRefusedError)."
    )
    assert failure.value.status_code is None


@pytest.mark.attack("injection")
async def test_a_url_refused_at_send_time_is_never_posted_to(webhook_receiver, monkeypatch):
    monkeypatch.setattr(config, "WEBHOOK_ALLOW_HOSTS", frozenset())

    with pytest.raises(PermanentFailure, match="must start with https://"):
        await send(alert(webhook_receiver))

    assert webhook_receiver.received == []


async def test_an_unsigned_webhook_is_not_sent(webhook_receiver):
    with pytest.raises(PermanentFailure, match="no signing secret"):
        await send(alert(webhook_receiver, secrets=()))

    assert webhook_receiver.received == []
