"""The outbox worker: retries, permanent failures, leases, claims that never overlap."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest

import config
from models.alert import (
    AlertChannel,
    AlertDelivery,
    AlertEvent,
    AlertEventType,
    AlertSeverity,
    DeliveryStatus,
)
from notifiers import dispatcher
from notifiers.outbox import raise_alert
from tests.support.fakes import MailServer, connect_slack, settled, use_mail_server
from tests.support.helpers import sign_up


async def alert_by(user, channel: AlertChannel) -> AlertEvent:
    return await raise_alert(
        user,
        type=AlertEventType.SCRIPTABLE,
        title="Loss diverged",
        text="loss = nan",
        severity=AlertSeverity.WARN,
        entity_name=user.username,
        project_name="mnist",
        run_name="run-1",
        channels=[channel],
    )


@pytest.fixture
async def running(db, fast_retries):
    async with dispatcher.running() as worker:
        yield worker


def test_backoff_doubles_from_the_base_and_stops_at_an_hour(monkeypatch):
    monkeypatch.setattr(config, "DELIVERY_RETRY_BASE_SECONDS", 2.0)

    delays = [dispatcher.backoff(n) for n in (1, 2, 3, 4, 12, 200)]

    assert delays == [2.0, 4.0, 8.0, 16.0, 3600.0, 3600.0]
    assert dispatcher.backoff(1, retry_after=30) == 30.0
    assert dispatcher.backoff(3, retry_after=1) == 8.0
    assert dispatcher.backoff(1, retry_after=86_400) == 3600.0


async def test_smtp_451_is_retried_then_delivered(running, monkeypatch):
    alice = await sign_up("alice")
    async with MailServer.running("temporary", refusals=1) as mail:
        use_mail_server(monkeypatch, mail)

        await alert_by(alice.user, AlertChannel.EMAIL)

        [delivery] = await settled(alice.user.id)
        assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 2)
        assert delivery.delivered_at is not None
        assert "451" in (delivery.last_error or "")
        assert len(mail.messages) == 1


async def test_smtp_550_fails_at_once(running, monkeypatch):
    alice = await sign_up("alice")
    async with MailServer.running("reject") as mail:
        use_mail_server(monkeypatch, mail)

        await alert_by(alice.user, AlertChannel.EMAIL)

        [delivery] = await settled(alice.user.id)
        assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 1)
        assert "550" in (delivery.last_error or "")
        assert delivery.delivered_at is None


async def test_slack_500_then_200_is_delivered_on_retry(running, slack):
    alice = await sign_up("alice")
    await connect_slack(alice.user.id, slack.hook("flaky"))

    await alert_by(alice.user, AlertChannel.SLACK)

    [delivery] = await settled(alice.user.id)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 2)
    assert "500" in (delivery.last_error or "")
    assert len(slack.calls["flaky"]) == 2


async def test_slack_429_is_retried_after_retry_after(running, slack):
    alice = await sign_up("alice")
    await connect_slack(alice.user.id, slack.hook("limited"))

    await alert_by(alice.user, AlertChannel.SLACK)

    [delivery] = await settled(alice.user.id)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 2)
    first, second = slack.calls["limited"]
    assert second.at - first.at >= 0.95  # Retry-After: 1, though the backoff is 50 ms


async def test_slack_404_channel_not_found_fails_at_once(running, slack):
    alice = await sign_up("alice")
    await connect_slack(alice.user.id, slack.hook("gone"))

    await alert_by(alice.user, AlertChannel.SLACK)

    [delivery] = await settled(alice.user.id)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 1)
    assert delivery.last_error == "Slack answered 404: channel_not_found"
    assert len(slack.calls["gone"]) == 1


async def test_transient_failures_give_up_after_the_last_attempt(running, slack):
    alice = await sign_up("alice")
    await connect_slack(alice.user.id, slack.hook("down"))

    await alert_by(alice.user, AlertChannel.SLACK)

    [delivery] = await settled(alice.user.id)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 3)
    assert delivery.last_error == "Slack answered 500: internal_error"
    calls = slack.calls["down"]
    assert len(calls) == 3
    gaps = [b.at - a.at for a, b in zip(calls, calls[1:], strict=False)]
    assert gaps[0] >= 0.045 and gaps[1] >= 0.095  # 50 ms, then 100 ms


async def test_slack_disconnected_before_sending_fails(running):
    alice = await sign_up("alice")

    await alert_by(alice.user, AlertChannel.SLACK)

    [delivery] = await settled(alice.user.id)
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.last_error == "Slack is not connected any more."


async def test_a_claim_of_a_dead_process_is_taken_over_when_its_lease_expires(
    db, slack, monkeypatch
):
    monkeypatch.setattr(config, "DELIVERY_POLL_SECONDS", 0.1)
    alice = await sign_up("alice")
    await connect_slack(alice.user.id, slack.hook("ok"))
    event = await AlertEvent.create(
        user_id=alice.user.id,
        type="SCRIPTABLE",
        title="t",
        text="x",
        entity_name="alice",
        project_name="p",
        run_name="r",
    )
    lease_until = datetime.now(UTC) + timedelta(seconds=0.6)
    await AlertDelivery.create(  # as a process leaves it when SIGKILLed mid-send
        event_id=event.id,
        user_id=alice.user.id,
        channel="SLACK",
        next_attempt_at=datetime.now(UTC),
        attempts=1,
        lease_until=lease_until,
    )

    async with dispatcher.running() as worker:
        worker.wake()
        await asyncio.sleep(0.3)
        assert slack.calls["ok"] == []
        [delivery] = await settled(alice.user.id, timeout=5)

    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 2)
    assert len(slack.calls["ok"]) == 1


async def test_a_dead_process_last_attempt_is_marked_failed(db, fast_retries):
    alice = await sign_up("alice")
    event = await AlertEvent.create(
        user_id=alice.user.id,
        type="SCRIPTABLE",
        title="t",
        text="x",
        entity_name="alice",
        project_name="p",
        run_name="r",
    )
    past = datetime.now(UTC) - timedelta(seconds=1)
    await AlertDelivery.create(
        event_id=event.id,
        user_id=alice.user.id,
        channel="EMAIL",
        next_attempt_at=past,
        attempts=config.DELIVERY_MAX_ATTEMPTS,
        attempt_limit=config.DELIVERY_MAX_ATTEMPTS,
        lease_until=past,
    )

    async with dispatcher.running():
        [delivery] = await settled(alice.user.id, timeout=5)

    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.last_error and "Gave up" in delivery.last_error


async def test_a_taken_over_delivery_is_not_finished_by_its_old_claimant(db):
    alice = await sign_up("alice")
    event = await AlertEvent.create(
        user_id=alice.user.id,
        type="SCRIPTABLE",
        title="t",
        text="x",
        entity_name="alice",
        project_name="p",
        run_name="r",
    )
    delivery = await AlertDelivery.create(
        event_id=event.id,
        user_id=alice.user.id,
        channel="EMAIL",
        next_attempt_at=datetime.now(UTC) + timedelta(hours=1),
        attempts=2,
    )
    worker = dispatcher.Dispatcher({})

    finished = await worker._update(delivery, 1, {"status": DeliveryStatus.DELIVERED})

    assert finished is False
    await delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING


async def test_concurrent_claims_never_take_a_row_twice(db):
    alice = await sign_up("alice")
    event = await AlertEvent.create(
        user_id=alice.user.id,
        type="SCRIPTABLE",
        title="t",
        text="x",
        entity_name="alice",
        project_name="p",
        run_name="r",
    )
    # Due in an hour, and claimed as if it were then: no running dispatcher sends them.
    later = datetime.now(UTC) + timedelta(hours=1)
    await AlertDelivery.bulk_create(
        AlertDelivery(
            event_id=event.id, user_id=alice.user.id, channel="EMAIL", next_attempt_at=later
        )
        for _ in range(500)
    )
    claimants = [dispatcher.Dispatcher({}) for _ in range(4)]

    async def claim_all(worker: dispatcher.Dispatcher) -> list[int]:
        taken: list[int] = []
        while batch := await worker._claim(later + timedelta(seconds=1), 7):
            taken += [delivery_id for delivery_id, _, _ in batch]
        return taken

    results = await asyncio.gather(*(claim_all(w) for w in claimants))

    taken = [delivery_id for result in results for delivery_id in result]
    assert len(taken) == 500 and len(set(taken)) == 500
    assert await AlertDelivery.filter(attempts=1).count() == 500


async def test_a_stopping_dispatcher_stops_promptly(db):
    worker = dispatcher.Dispatcher({})
    await worker.start()
    await asyncio.sleep(0.05)

    started = time.monotonic()
    await worker.stop()

    assert time.monotonic() - started < 0.5
