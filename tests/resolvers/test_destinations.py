"""Destinations and routes through the API, delivered by the live server's dispatcher
to loopback receivers: signed webhooks checked with the `standardwebhooks` library."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from auth.sealing import unseal
from models.alert import AlertDelivery, DeliveryStatus
from models.destination import AlertRoute, Destination
from tests.support.fakes import settled
from tests.support.helpers import Account, GraphQL, sign_up
from tests.support.receivers import Reply

CREATE = """
mutation($input: CreateWebhookDestinationInput!) {
  createWebhookDestination(input: $input) {
    signingSecret
    destination { id kind name target enabled disabledReason mutedUntil }
    errors { field code message }
  }
}
"""
DESTINATIONS = """
{ viewer { destinations { id kind name target enabled disabledReason mutedUntil digestMinutes } } }
"""
SET_ROUTE = """
mutation($input: SetAlertRouteInput!) {
  setAlertRoute(input: $input) {
    alertRoute { id entityName projectPattern events minSeverity destinations { id } }
    errors { field code message }
  }
}
"""
UPDATE = """
mutation($input: UpdateDestinationInput!) {
  updateDestination(input: $input) {
    destination { id enabled disabledReason mutedUntil digestMinutes }
    errors { field code message }
  }
}
"""
ROTATE = """
mutation($id: ID!) {
  rotateWebhookSecret(input: {id: $id}) { signingSecret errors { field message } }
}
"""
DELETE = """
mutation($id: ID!) { deleteDestination(input: {id: $id}) { success errors { field message } } }
"""
TEST = """
mutation($id: ID!) {
  testDestination(input: {id: $id}) {
    alertEvent { id deliveries { channel destination { id } } }
    errors { field message }
  }
}
"""
REDELIVER = """
mutation($id: ID!) {
  redeliverAlert(input: {deliveryId: $id}) { alertEvent { id } errors { field code message } }
}
"""
NOTIFY = """
mutation($input: NotifyScriptableRunAlertInput!) {
  notifyScriptableRunAlert(input: $input) { success errors { field message } }
}
"""
HISTORY = """
{ viewer { alertEvents(first: 10) { edges { node {
  title
  deliveries {
    id channel status attempts lastError
    destination { id kind }
    attemptLog { statusCode durationMs error }
  }
} } } } }
"""


async def make_webhook(client: GraphQL, url: str, name: str = "Ops hook") -> tuple[str, str]:
    data = await client.execute(CREATE, {"input": {"name": name, "url": url}})
    answer = data["createWebhookDestination"]
    assert answer["errors"] == []
    return answer["destination"]["id"], answer["signingSecret"]


async def route(client: GraphQL, destination_ids: list[str], **given: Any) -> dict[str, Any]:
    fields = {"events": ["SCRIPTABLE"], "destinationIds": destination_ids, **given}
    data = await client.execute(SET_ROUTE, {"input": fields})
    answer: dict[str, Any] = data["setAlertRoute"]
    return answer


async def alert(client: GraphQL, who: Account, project: str = "mnist", **given: Any) -> None:
    fields = {
        "entityName": who.user.username,
        "projectName": project,
        "runName": "run-1",
        "title": "Loss diverged",
        "text": "loss = nan",
        **given,
    }
    data = await client.execute(NOTIFY, {"input": fields})
    assert data["notifyScriptableRunAlert"] == {"success": True, "errors": []}


async def test_a_webhook_is_made_with_its_secret_shown_once(api, webhook_receiver):
    alice = await sign_up("alice")
    client = api.signed_in(alice)

    made = await client.execute(
        CREATE, {"input": {"name": "Ops hook", "url": webhook_receiver.hook("in?token=abc")}}
    )
    listed = await client.execute(DESTINATIONS)

    answer = made["createWebhookDestination"]
    assert answer["signingSecret"].startswith("whsec_")
    hook = answer["destination"]
    assert hook["kind"] == "WEBHOOK" and hook["target"] == webhook_receiver.host
    assert listed["viewer"]["destinations"] == [
        {
            "id": "email",
            "kind": "EMAIL",
            "name": "Email",
            "target": "alice@example.com",
            "enabled": True,
            "disabledReason": None,
            "mutedUntil": None,
            "digestMinutes": None,
        },
        {**hook, "digestMinutes": None},
    ]
    row = await Destination.get(id=int(hook["id"]))
    assert "token=abc" not in (row.url_sealed or "") and "whsec_" not in (row.secret_sealed or "")
    assert unseal(row.secret_sealed or "") == answer["signingSecret"]


async def test_a_routed_alert_reaches_the_webhook_signed_and_logged(api, webhook_receiver, mail):
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    hook, secret = await make_webhook(client, webhook_receiver.hook())
    webhook_receiver.secrets = (secret,)
    await route(client, [hook])

    await alert(client, alice)
    [request] = await webhook_receiver.wait_for(1)
    [delivery] = await settled(alice.user.id)

    assert request.verified_by == (secret,)
    assert request.headers["webhook-id"] == f"msg_{delivery.id}"
    body = json.loads(request.body)
    assert body["type"] == "alert.raised"
    assert body["data"]["title"] == "Loss diverged"
    assert body["data"]["projectName"] == "mnist"
    history = await client.execute(HISTORY)
    [node] = [e["node"] for e in history["viewer"]["alertEvents"]["edges"]]
    [shown] = node["deliveries"]  # the route decides: no email beside it
    assert shown["status"] == "DELIVERED" and shown["channel"] == "WEBHOOK"
    assert shown["destination"] == {"id": hook, "kind": "WEBHOOK"}
    assert [a["statusCode"] for a in shown["attemptLog"]] == [200]
    assert mail.messages == []


async def test_failures_are_retried_with_the_same_webhook_id(api, webhook_receiver, fast_retries):
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    hook, secret = await make_webhook(client, webhook_receiver.hook())
    webhook_receiver.secrets = (secret,)
    webhook_receiver.script(500, Reply(503, headers={"Retry-After": "0"}), 200)
    await route(client, [hook])

    await alert(client, alice)
    requests = await webhook_receiver.wait_for(3)
    [delivery] = await settled(alice.user.id)

    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 3
    assert {r.headers["webhook-id"] for r in requests} == {f"msg_{delivery.id}"}
    assert all(r.verified_by == (secret,) for r in requests)
    history = await client.execute(HISTORY)
    [node] = [e["node"] for e in history["viewer"]["alertEvents"]["edges"]]
    log = node["deliveries"][0]["attemptLog"]
    assert [a["statusCode"] for a in log] == [500, 503, 200]
    assert log[0]["error"] and log[2]["error"] is None


async def test_a_receiver_that_says_gone_is_turned_off_and_its_owner_told(
    api, webhook_receiver, mail
):
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    hook, _ = await make_webhook(client, webhook_receiver.hook(), name="Gone hook")
    webhook_receiver.script(410)
    await route(client, [hook])

    await alert(client, alice)
    [message] = await mail.wait_for(1)
    deliveries = await settled(alice.user.id)

    assert deliveries[0].status == DeliveryStatus.FAILED
    assert "Alerts to Gone hook stopped" in message["Subject"]
    listed = await client.execute(DESTINATIONS)
    shown = next(d for d in listed["viewer"]["destinations"] if d["id"] == hook)
    assert shown["enabled"] is False and "gone" in shown["disabledReason"]
    await alert(client, alice, title="Another")
    assert len(webhook_receiver.received) == 1  # turned off: not sent to again


async def test_a_destination_failing_past_the_threshold_is_turned_off(
    api, webhook_receiver, mail, fast_retries, monkeypatch
):
    import config

    monkeypatch.setattr(config, "DESTINATION_FAILURE_LIMIT", 3)
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    hook, _ = await make_webhook(client, webhook_receiver.hook())
    webhook_receiver.default = Reply(500)
    await route(client, [hook])

    await alert(client, alice)
    await mail.wait_for(1)

    row = await Destination.get(id=int(hook))
    assert row.enabled is False and row.failures == 3
    assert row.disabled_reason and "3 attempts in a row failed" in row.disabled_reason
    turned_on = await client.execute(UPDATE, {"input": {"id": hook, "enabled": True}})
    assert turned_on["updateDestination"]["destination"]["disabledReason"] is None
    assert (await Destination.get(id=int(hook))).failures == 0


async def test_redelivery_sends_again_with_the_same_webhook_id(api, webhook_receiver):
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    hook, secret = await make_webhook(client, webhook_receiver.hook())
    webhook_receiver.secrets = (secret,)
    await route(client, [hook])
    await alert(client, alice)
    await webhook_receiver.wait_for(1)
    [delivery] = await settled(alice.user.id)

    again = await client.execute(REDELIVER, {"id": str(delivery.id)})
    first, second = await webhook_receiver.wait_for(2)
    [redelivered] = await settled(alice.user.id)

    assert again["redeliverAlert"]["errors"] == []
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body and second.verified_by == (secret,)
    assert redelivered.status == DeliveryStatus.DELIVERED and redelivered.attempts == 2


async def test_only_finished_deliveries_of_ones_own_can_be_sent_again(api, webhook_receiver):
    alice, bob = await sign_up("alice"), await sign_up("bob")
    client = api.signed_in(alice)
    hook, _ = await make_webhook(client, webhook_receiver.hook())
    webhook_receiver.default = Reply(hang=True)
    await route(client, [hook])
    await alert(client, alice)
    await webhook_receiver.wait_for(1)
    delivery = await AlertDelivery.get(user_id=alice.user.id)

    still_pending = await client.execute(REDELIVER, {"id": str(delivery.id)})
    not_bobs = await api.signed_in(bob).execute(REDELIVER, {"id": str(delivery.id)})

    assert still_pending["redeliverAlert"]["errors"][0]["message"] == (
        "This delivery is still on its way."
    )
    assert not_bobs["redeliverAlert"]["errors"] == [
        {
            "field": "deliveryId",
            "code": "NOT_FOUND",
            "message": "You have no delivery with this id.",
        }
    ]


async def test_a_muted_destination_records_its_deliveries_suppressed(api, webhook_receiver):
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    hook, _ = await make_webhook(client, webhook_receiver.hook())
    until = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    muted = await client.execute(UPDATE, {"input": {"id": hook, "mutedUntil": until}})
    await route(client, [hook])

    await alert(client, alice)

    assert muted["updateDestination"]["destination"]["mutedUntil"] is not None
    [delivery] = await AlertDelivery.filter(user_id=alice.user.id)
    assert delivery.status == DeliveryStatus.SUPPRESSED and delivery.attempts == 0
    assert delivery.last_error and "muted until" in delivery.last_error
    assert webhook_receiver.received == []
    unmuted = await client.execute(UPDATE, {"input": {"id": hook, "mutedUntil": None}})
    assert unmuted["updateDestination"]["destination"]["mutedUntil"] is None


async def test_muting_the_accounts_email_holds_subscribed_alerts_too(api, mail):
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    until = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    await client.execute(UPDATE, {"input": {"id": "email", "mutedUntil": until}})

    await alert(client, alice)

    [delivery] = await AlertDelivery.filter(user_id=alice.user.id)
    assert delivery.status == DeliveryStatus.SUPPRESSED and delivery.destination_id is None
    assert mail.messages == []


async def test_a_digest_gathers_the_alerts_of_its_window_into_one_message(api, webhook_receiver):
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    hook, secret = await make_webhook(client, webhook_receiver.hook())
    webhook_receiver.secrets = (secret,)
    await client.execute(UPDATE, {"input": {"id": hook, "digestMinutes": 5}})
    await route(client, [hook])

    for title in ("First", "Second", "Third"):
        await alert(client, alice, title=title)
    waiting = await AlertDelivery.filter(user_id=alice.user.id, status=DeliveryStatus.PENDING)
    assert len({d.next_attempt_at for d in waiting}) == 1  # one window
    assert waiting[0].next_attempt_at > datetime.now(UTC) + timedelta(minutes=4)
    # The window ends now rather than in five minutes.
    await AlertDelivery.filter(user_id=alice.user.id).update(next_attempt_at=datetime.now(UTC))
    [request] = await webhook_receiver.wait_for(1)
    deliveries = await settled(alice.user.id)

    body = json.loads(request.body)
    assert body["type"] == "alert.digest" and body["data"]["count"] == 3
    assert [a["title"] for a in body["data"]["alerts"]] == ["First", "Second", "Third"]
    assert request.verified_by == (secret,)
    assert {d.status for d in deliveries} == {DeliveryStatus.DELIVERED}


async def test_a_rotated_secret_signs_beside_the_new_one(api, webhook_receiver):
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    hook, old = await make_webhook(client, webhook_receiver.hook())
    rotated = await client.execute(ROTATE, {"id": hook})
    new = rotated["rotateWebhookSecret"]["signingSecret"]
    webhook_receiver.secrets = (old, new)
    await route(client, [hook])

    await alert(client, alice)
    [request] = await webhook_receiver.wait_for(1)

    assert new.startswith("whsec_") and new != old
    assert set(request.verified_by) == {old, new}
    assert len(request.headers["webhook-signature"].split(" ")) == 2


async def test_routes_choose_by_project_glob_and_severity(api, webhook_receiver, mail):
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    hook, _ = await make_webhook(client, webhook_receiver.hook())
    await route(client, [hook], projectPattern="train-*")
    await route(client, ["email"], minSeverity="ERROR")

    await alert(client, alice, project="train-resnet", severity="INFO")
    await alert(client, alice, project="eval", severity="WARN")
    await alert(client, alice, project="eval", severity="ERROR", title="Crash")
    await alert(client, alice, project="train-vit", severity="ERROR", title="Both")
    await settled(alice.user.id)

    rows = await AlertDelivery.filter(user_id=alice.user.id).select_related("event")
    sent = sorted((r.event.project_name, r.event.severity.value, r.channel.value) for r in rows)
    assert sent == [
        ("eval", "ERROR", "EMAIL"),
        ("train-resnet", "INFO", "WEBHOOK"),
        ("train-vit", "ERROR", "EMAIL"),
        ("train-vit", "ERROR", "WEBHOOK"),
    ]


async def test_test_destination_sends_to_that_destination_alone(api, webhook_receiver, mail):
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    hook, _ = await make_webhook(client, webhook_receiver.hook())

    data = await client.execute(TEST, {"id": hook})
    await webhook_receiver.wait_for(1)

    [delivery] = data["testDestination"]["alertEvent"]["deliveries"]
    assert delivery == {"channel": "WEBHOOK", "destination": {"id": hook}}
    assert json.loads(webhook_receiver.received[0].body)["data"]["type"] == "TEST"
    assert mail.messages == []


async def test_deleting_a_destination_takes_it_out_of_its_routes(api, webhook_receiver):
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    hook, _ = await make_webhook(client, webhook_receiver.hook())
    made = await route(client, [hook, "email"])

    deleted = await client.execute(DELETE, {"id": hook})
    refused = await client.execute(DELETE, {"id": "email"})

    assert deleted["deleteDestination"] == {"success": True, "errors": []}
    assert refused["deleteDestination"]["errors"][0]["field"] == "id"
    [left] = await AlertRoute.filter(user_id=alice.user.id).prefetch_related("destinations")
    assert str(left.id) == made["alertRoute"]["id"]
    assert [d.built_in for d in left.destinations] == ["EMAIL"]


async def test_urls_that_could_reach_inside_are_refused_when_stored(api, canary):
    alice = await sign_up("alice")
    client = api.signed_in(alice)

    for url in (
        canary.url,
        f"http://[::1]:{canary.port}/",
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.1/hook",
        "file:///etc/passwd",
        "https://user:secret@example.com/hook",
        "ftp://example.com/hook",
    ):
        data = await client.execute(CREATE, {"input": {"name": "x", "url": url}})
        [error] = data["createWebhookDestination"]["errors"]
        assert error["field"] == "url", url

    assert await Destination.filter(user_id=alice.user.id).count() == 0
    assert canary.hits == 0


async def test_a_redirect_is_a_failed_attempt_and_never_followed(api, webhook_receiver, canary):
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    hook, _ = await make_webhook(client, webhook_receiver.hook())
    webhook_receiver.script(Reply(302, headers={"Location": canary.url}))
    await route(client, [hook])

    await alert(client, alice)
    [delivery] = await settled(alice.user.id)

    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.last_error and "302" in delivery.last_error
    assert canary.hits == 0


async def test_a_discord_webhook_gets_discords_message_shape(api, discord):
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    data = await client.execute(
        CREATE, {"input": {"name": "Lab Discord", "url": discord.webhook(), "kind": "DISCORD"}}
    )
    answer = data["createWebhookDestination"]
    assert answer["errors"] == [] and answer["signingSecret"] is None
    await route(client, [answer["destination"]["id"]])

    await alert(client, alice)
    await discord.wait_for(1)

    [body] = discord.bodies()
    assert "Loss diverged" in body["content"]
    assert body["embeds"][0]["title"] == "Loss diverged"
    assert body["allowed_mentions"] == {"parse": []}


async def test_another_account_can_neither_see_nor_touch_ones_destinations(api, webhook_receiver):
    alice, bob = await sign_up("alice"), await sign_up("bob")
    hook, _ = await make_webhook(api.signed_in(alice), webhook_receiver.hook())
    bobs = api.signed_in(bob)

    listed = await bobs.execute(DESTINATIONS)
    answers = [
        (await bobs.execute(UPDATE, {"input": {"id": hook, "enabled": False}}))[
            "updateDestination"
        ],
        (await bobs.execute(DELETE, {"id": hook}))["deleteDestination"],
        (await bobs.execute(TEST, {"id": hook}))["testDestination"],
        (await bobs.execute(ROTATE, {"id": hook}))["rotateWebhookSecret"],
        await route(bobs, [hook]),
    ]

    assert [d["id"] for d in listed["viewer"]["destinations"]] == ["email"]
    for answer in answers:
        assert answer["errors"][0]["message"] == "You have no destination with this id."
    row = await Destination.get(id=int(hook))
    assert row.enabled is True
    assert await AlertRoute.filter(user_id=bob.user.id).count() == 0


async def test_a_digest_larger_than_a_claim_still_goes_as_one_message(
    api, webhook_receiver, monkeypatch
):
    from notifiers import dispatcher

    monkeypatch.setattr(dispatcher, "CONCURRENCY", 4)  # a claim takes four at most
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    hook, _ = await make_webhook(client, webhook_receiver.hook())
    await client.execute(UPDATE, {"input": {"id": hook, "digestMinutes": 5}})
    await route(client, [hook])
    for n in range(30):
        await alert(client, alice, title=f"Alert {n}")

    await AlertDelivery.filter(user_id=alice.user.id).update(next_attempt_at=datetime.now(UTC))
    await webhook_receiver.wait_for(1)
    await settled(alice.user.id)

    [request] = webhook_receiver.received
    assert json.loads(request.body)["data"]["count"] == 30
    assert len(webhook_receiver.received) == 1


async def test_a_route_left_without_destinations_sends_nowhere(api, webhook_receiver, mail):
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    hook, _ = await make_webhook(client, webhook_receiver.hook())
    await route(client, [hook])
    await client.execute(DELETE, {"id": hook})

    await alert(client, alice)

    assert await AlertDelivery.filter(user_id=alice.user.id).count() == 0
    assert mail.messages == []  # the route still decides: the switches are not used
