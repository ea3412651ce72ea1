"""A receiver's pace: Slack's one message a second a channel, kept across processes by
turns reserved in the database; a turn too far off puts the delivery back, uncounted."""

from __future__ import annotations

import time

import pytest

from models.alert import AlertChannel, AlertEventType, AlertSeverity, DeliveryStatus
from notifiers import dispatcher, pace
from notifiers.outbox import raise_alert
from tests.support.fakes import connect_slack, settled
from tests.support.helpers import sign_up


async def slack_alert(user, title: str) -> None:
    await raise_alert(
        user,
        type=AlertEventType.SCRIPTABLE,
        title=title,
        text="x",
        severity=AlertSeverity.INFO,
        entity_name=user.username,
        project_name="p",
        run_name="r",
        channels=[AlertChannel.SLACK],
    )


def test_jitter_waits_up_to_a_quarter_longer_never_less():
    delays = [dispatcher.jittered(8.0) for _ in range(2000)]

    assert min(delays) >= 8.0 and max(delays) <= 10.0
    assert max(delays) - min(delays) > 1.0  # spread, not a constant


async def test_turns_follow_each_other_by_the_interval(db):
    turns = [await pace.reserve("destination:1", 1.0, within=10.0) for _ in range(4)]
    other = await pace.reserve("destination:2", 1.0, within=10.0)

    assert all(turn.taken for turn in turns) and other == pace.Turn(0.0, taken=True)
    waits = [turn.wait for turn in turns]
    assert waits[0] == 0.0
    for earlier, later in zip(waits, waits[1:], strict=False):
        assert later - earlier == pytest.approx(1.0, abs=0.05)


async def test_a_turn_too_far_off_is_not_taken(db):
    for _ in range(3):
        await pace.reserve("destination:1", 1.0, within=10.0)  # turns at 0, 1 and 2 s

    late = await pace.reserve("destination:1", 1.0, within=0.5)
    again = await pace.reserve("destination:1", 1.0, within=0.5)

    assert not late.taken and late.wait == pytest.approx(2.5, abs=0.05)
    assert again == late or again.wait <= late.wait  # nothing was taken meanwhile


async def test_slack_posts_to_one_channel_keep_a_second_apart(db, slack):
    alice = await sign_up("alice")
    await connect_slack(alice.user.id, slack.hook("ok"))

    async with dispatcher.running():
        for n in range(3):
            await slack_alert(alice.user, f"Alert {n}")
        calls = await slack.wait_for("ok", 3)
        await settled(alice.user.id)

    gaps = [b.at - a.at for a, b in zip(calls, calls[1:], strict=False)]
    assert all(gap >= 0.9 for gap in gaps), gaps


async def test_a_turn_too_far_off_puts_the_delivery_back_without_an_attempt(db, slack, monkeypatch):
    monkeypatch.setattr(dispatcher, "MAX_PACE_WAIT_SECONDS", 0.5)
    alice = await sign_up("alice")
    await connect_slack(alice.user.id, slack.hook("ok"))
    for _ in range(3):  # the channel's turns: now, in 1 s and in 2 s
        await pace.reserve(f"slack:{alice.user.id}", 1.0, within=10.0)

    async with dispatcher.running():
        await slack_alert(alice.user, "Later")
        started = time.monotonic()
        [delivery] = await settled(alice.user.id)

    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts == 1  # put back, not counted, then sent once
    assert time.monotonic() - started >= 1.5
