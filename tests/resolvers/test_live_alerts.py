"""Subscription.alertEvents on one server process (in-process bus)."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
import pytest

from auth.tokens import issue_token
from models.alert import AlertChannel, AlertEventType, AlertSeverity
from notifiers import bus
from notifiers.outbox import raise_alert
from resolvers import live
from tests.support.fakes import MailServer, use_mail_server
from tests.support.helpers import sign_up
from tests.support.ws import ALERT_EVENTS, RawSocket, graphql_socket

NOTIFY = """
mutation($title: String!) {
  notifyScriptableRunAlert(input: {
    entityName: "alice", projectName: "mnist", runName: "run-1",
    title: $title, text: "loss is NaN", severity: ERROR
  }) { success errors { field code } }
}
"""


async def quiet_alert(user, title: str, text: str = "t") -> int:
    """An alert with no delivery channel: recorded and published, nothing sent."""
    event = await raise_alert(
        user,
        type=AlertEventType.TEST,
        title=title,
        text=text,
        severity=AlertSeverity.INFO,
        channels=[],
    )
    return int(event.id)


@pytest.fixture
async def alice(db):
    return await sign_up("alice")


async def test_subscriber_receives_an_alert_raised_through_the_api(api, server, alice):
    async with graphql_socket(server.url, alice.authorization) as socket:
        await socket.subscribe()
        await asyncio.sleep(0.1)  # the subscription is listening

        await api.signed_in(alice).execute(NOTIFY, {"title": "diverged"})
        event = await socket.event()

    assert {
        k: event[k] for k in ("type", "title", "text", "severity", "entityName", "runName")
    } == {
        "type": "SCRIPTABLE",
        "title": "diverged",
        "text": "loss is NaN",
        "severity": "ERROR",
        "entityName": "alice",
        "runName": "run-1",
    }


async def test_another_users_alerts_never_arrive(server, alice):
    bob = await sign_up("bob")
    async with graphql_socket(server.url, bob.authorization) as socket:
        await socket.subscribe()
        await asyncio.sleep(0.1)

        await quiet_alert(alice.user, "alice's")
        await quiet_alert(bob.user, "bob's")
        event = await socket.event()
        with pytest.raises(TimeoutError):
            await socket.message(timeout=0.3)

    assert event["title"] == "bob's"


async def test_without_after_only_new_events_arrive(server, alice):
    await quiet_alert(alice.user, "old")
    async with graphql_socket(server.url, alice.authorization) as socket:
        await socket.subscribe()
        await asyncio.sleep(0.1)

        await quiet_alert(alice.user, "new")

        assert (await socket.event())["title"] == "new"


async def test_after_replays_what_followed_then_streams_live(server, alice):
    first = await quiet_alert(alice.user, "one")
    await quiet_alert(alice.user, "two")
    await quiet_alert(alice.user, "three")

    async with graphql_socket(server.url, alice.authorization) as socket:
        await socket.subscribe(variables={"after": str(first)})
        replayed = [(await socket.event())["title"] for _ in range(2)]
        await quiet_alert(alice.user, "four")
        live_event = await socket.event()
        with pytest.raises(TimeoutError):
            await socket.message(timeout=0.3)

    assert replayed == ["two", "three"]
    assert live_event["title"] == "four"


async def test_no_gap_and_no_repeat_when_alerts_are_raised_during_the_replay(server, alice):
    before = [await quiet_alert(alice.user, f"before-{i}") for i in range(250)]

    async with graphql_socket(server.url, alice.authorization) as socket:
        await socket.subscribe(variables={"after": "0"})
        raising = asyncio.gather(*(quiet_alert(alice.user, f"during-{i}") for i in range(30)))
        received = [int((await socket.event())["id"]) for _ in range(280)]
        during = await raising
        with pytest.raises(TimeoutError):
            await socket.message(timeout=0.5)

    assert len(received) == len(set(received)) == 280
    assert set(received) == set(before) | set(during)
    assert received[:250] == before  # the replay comes in order


async def test_a_delivery_update_sends_the_event_again(server, alice, mail, fast_retries):
    async with graphql_socket(server.url, alice.authorization) as socket:
        await socket.subscribe()
        await asyncio.sleep(0.1)

        event = await raise_alert(
            alice.user,
            type=AlertEventType.TEST,
            title="mail me",
            text="t",
            severity=AlertSeverity.INFO,
            channels=[AlertChannel.EMAIL],
        )
        raised = await socket.event()
        updated = await socket.event()

    assert raised["id"] == updated["id"] == str(event.id)
    # The first read may already see the mail sent; the update is sent all the same.
    assert raised["deliveries"][0]["status"] in ("PENDING", "DELIVERED")
    assert updated["deliveries"] == [
        {"channel": "EMAIL", "status": "DELIVERED", "attempts": 1, "lastError": None}
    ]


async def test_each_update_reads_the_deliveries_attempts_afresh(
    server, alice, fast_retries, monkeypatch
):
    document = """
    subscription { alertEvents { id deliveries { status attemptLog { statusCode } } } }
    """
    async with MailServer.running("temporary", refusals=1) as flaky:
        use_mail_server(monkeypatch, flaky)
        async with graphql_socket(server.url, alice.authorization) as socket:
            await socket.subscribe(document)
            await asyncio.sleep(0.1)
            await raise_alert(
                alice.user,
                type=AlertEventType.TEST,
                title="mail me",
                text="t",
                severity=AlertSeverity.INFO,
                channels=[AlertChannel.EMAIL],
            )
            seen = [await socket.event()]
            while seen[-1]["deliveries"][0]["status"] != "DELIVERED":
                seen.append(await socket.event())

    # Refused once (451), then accepted: the last update shows both attempts.
    assert seen[-1]["deliveries"][0]["attemptLog"] == [{"statusCode": 451}, {"statusCode": 250}]


async def test_stalled_subscriber_is_ended_while_another_keeps_receiving(
    server, alice, monkeypatch
):
    monkeypatch.setattr(bus, "MAX_PENDING", 5)
    stalled = await RawSocket.connect(server.url, alice.authorization)
    try:
        await stalled.send({"id": "1", "type": "subscribe", "payload": {"query": ALERT_EVENTS}})
        async with graphql_socket(server.url, alice.authorization) as healthy:
            await healthy.subscribe()
            await asyncio.sleep(0.1)
            # 10 KB alerts: the stalled socket's buffers fill after a few dozen.
            for i in range(200):
                event_id = await quiet_alert(alice.user, f"alert {i}", "x" * 10_000)
                assert int((await healthy.event())["id"]) == event_id

        received = []
        while (message := await stalled.receive(timeout=3))[
            "type"
        ] == "next" and "errors" not in message["payload"]:
            received.append(message)
    finally:
        stalled.close()

    [error] = message["payload"]["errors"]
    assert error["extensions"]["code"] == "SUBSCRIBER_TOO_SLOW"
    assert "subscribe again with `after`" in error["message"]
    assert len(received) < 200


async def test_subscription_ends_when_the_token_expires(server, alice):
    token = issue_token("alice", ttl_seconds=2)

    async with graphql_socket(server.url, f"Bearer {token}") as socket:
        await socket.subscribe()
        body = await socket.message(timeout=10)

    assert body["type"] == "next"
    assert body["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "expired" in body["payload"]["errors"][0]["message"]


async def test_a_token_socket_runs_nothing_after_the_expiry_and_then_closes(server, alice):
    token = issue_token("alice", ttl_seconds=2)

    async with graphql_socket(server.url, f"Bearer {token}") as socket:
        await socket.subscribe()
        ended = await socket.message(timeout=10)  # the subscription's own error
        await socket.subscribe(query="{ viewer { username } }", op="2")
        while (refused := await socket.message(timeout=5))["id"] != "2":
            assert refused == {"id": "1", "type": "complete"}
        closed = await socket.ws.receive(timeout=5)

    assert "expired" in ended["payload"]["errors"][0]["message"]
    assert (refused["type"], refused["id"]) == ("error", "2")
    assert refused["payload"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert (closed.type, closed.data, closed.extra) == (
        aiohttp.WSMsgType.CLOSE,
        4401,
        "The token has expired.",
    )


async def test_internal_error_in_a_subscription_is_masked(server, alice, monkeypatch, caplog):
    async def broken(user_id: int, event_id: int):
        raise RuntimeError("secret detail of the database")

    monkeypatch.setattr(live, "_read_one", broken)
    caplog.set_level(logging.ERROR, logger="switchboard.errors")
    async with graphql_socket(server.url, alice.authorization) as socket:
        await socket.subscribe()
        await asyncio.sleep(0.1)
        await quiet_alert(alice.user, "boom")
        body = await socket.message()

    assert "secret" not in str(body)
    assert body["payload"]["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "secret detail" in caplog.text


@pytest.mark.parametrize("after", ["not-an-id", "²", "1" * 19])
async def test_bad_after_is_refused(server, alice, after):
    async with graphql_socket(server.url, alice.authorization) as socket:
        await socket.subscribe(ALERT_EVENTS, {"after": after})
        body = await socket.message()

    assert body["payload"]["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
