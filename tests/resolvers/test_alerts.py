"""Alert settings, ingestion (the W&B client's mutation), test alerts and history."""

from __future__ import annotations

import asyncio
import base64
import time
from typing import Any

import pytest

from models.alert import AlertDelivery, AlertEvent, AlertEventType, DeliveryStatus
from models.entity import Entity
from models.team import Team, TeamMember
from tests.support.fakes import connect_slack, settled
from tests.support.helpers import Account, GraphQL, count_queries, sign_up

# The document the W&B client (wandb/sdk/internal/internal_api.py,
# `notify_scriptable_run_alert`) sends for wandb.alert(), byte for byte.
WANDB_NOTIFY_SCRIPTABLE_RUN_ALERT = """
        mutation NotifyScriptableRunAlert(
            $entityName: String!,
            $projectName: String!,
            $runName: String!,
            $title: String!,
            $text: String!,
            $severity: AlertSeverity = INFO,
            $waitDuration: Duration
        ) {
            notifyScriptableRunAlert(input: {
                entityName: $entityName,
                projectName: $projectName,
                runName: $runName,
                title: $title,
                text: $text,
                severity: $severity,
                waitDuration: $waitDuration
            }) {
               success
            }
        }
        """

NOTIFY = """
mutation($input: NotifyScriptableRunAlertInput!) {
  notifyScriptableRunAlert(input: $input) {
    success clientMutationId errors { field code message }
  }
}
"""

REPORT_RUN_STATE = """
mutation($input: ReportRunStateInput!) {
  reportRunState(input: $input) { success errors { field code message } }
}
"""

SET_SUBSCRIPTION = """
mutation($input: SetAlertSubscriptionInput!) {
  setAlertSubscription(input: $input) {
    alertSubscription { event channel enabled }
    errors { field code message }
  }
}
"""

SUBSCRIPTIONS = "{ viewer { alertSubscriptions { event channel enabled } } }"

SEND_TEST_ALERT = """
mutation($input: SendTestAlertInput!) {
  sendTestAlert(input: $input) {
    alertEvent { type title entityName deliveries { channel status } }
    errors { field code message }
  }
}
"""

EVENTS = """
query($first: Int, $after: String) {
  viewer {
    alertEvents(first: $first, after: $after) {
      edges { cursor node { title type severity entityName projectName runName
                            deliveries { channel status attempts lastError deliveredAt } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""

GENERATE_API_KEY = """
mutation { generateApiKey(input: {name: "laptop"}) { secret } }
"""


def run_alert(**overrides: object) -> dict[str, object]:
    return {
        "entityName": "alice",
        "projectName": "mnist",
        "runName": "3x7k9q2p",
        "title": "Loss diverged",
        "text": "loss = nan at step 1200",
        "severity": "WARN",
        "waitDuration": None,
        **overrides,
    }


async def api_key_client(api: GraphQL, account: Account) -> GraphQL:
    data = await api.signed_in(account).execute(GENERATE_API_KEY)
    secret = data["generateApiKey"]["secret"]
    return api.signed_in("Basic " + base64.b64encode(f"api:{secret}".encode()).decode())


async def test_new_account_hears_of_crashes_and_run_alerts_by_email(api):
    alice = await sign_up("alice")

    data = await api.signed_in(alice).execute(SUBSCRIPTIONS)

    assert data["viewer"]["alertSubscriptions"] == [
        {"event": "RUN_CRASHED", "channel": "EMAIL", "enabled": True},
        {"event": "SCRIPTABLE", "channel": "EMAIL", "enabled": True},
    ]


async def test_set_alert_subscription_turns_one_pair_on_or_off(api):
    alice = await sign_up("alice")
    client = api.signed_in(alice)

    on = {"event": "RUN_FINISHED", "channel": "EMAIL", "enabled": True}
    off = {"event": "SCRIPTABLE", "channel": "EMAIL", "enabled": False}
    first = await client.execute(SET_SUBSCRIPTION, {"input": on})
    await client.execute(SET_SUBSCRIPTION, {"input": off})
    await client.execute(SET_SUBSCRIPTION, {"input": off})

    assert first["setAlertSubscription"] == {"alertSubscription": on, "errors": []}
    data = await client.execute(SUBSCRIPTIONS)
    assert data["viewer"]["alertSubscriptions"] == [
        {"event": "RUN_FINISHED", "channel": "EMAIL", "enabled": True},
        {"event": "RUN_CRASHED", "channel": "EMAIL", "enabled": True},
        off,
    ]


async def test_enabling_slack_alerts_without_slack_is_invalid_on_channel(api):
    alice = await sign_up("alice")

    data = await api.signed_in(alice).execute(
        SET_SUBSCRIPTION, {"input": {"event": "RUN_CRASHED", "channel": "SLACK", "enabled": True}}
    )

    payload = data["setAlertSubscription"]
    assert payload["alertSubscription"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("channel", "INVALID")]
    data = await api.signed_in(alice).execute(SUBSCRIPTIONS)
    assert all(s["channel"] == "EMAIL" for s in data["viewer"]["alertSubscriptions"])


async def test_enabling_slack_alerts_with_slack_connected(api, slack):
    alice = await sign_up("alice")
    await connect_slack(alice.user.id, slack.hook("ok"))
    setting = {"event": "RUN_CRASHED", "channel": "SLACK", "enabled": True}

    data = await api.signed_in(alice).execute(SET_SUBSCRIPTION, {"input": setting})

    assert data["setAlertSubscription"] == {"alertSubscription": setting, "errors": []}


async def test_test_alerts_cannot_be_subscribed_to(api):
    alice = await sign_up("alice")

    data = await api.signed_in(alice).execute(
        SET_SUBSCRIPTION, {"input": {"event": "TEST", "channel": "EMAIL", "enabled": True}}
    )

    assert [e["field"] for e in data["setAlertSubscription"]["errors"]] == ["event"]


async def test_wandb_client_document_with_api_key_sends_email(api, mail):
    alice = await sign_up("alice")
    tracker = await api_key_client(api, alice)

    data = await tracker.execute(WANDB_NOTIFY_SCRIPTABLE_RUN_ALERT, run_alert())

    assert data == {"notifyScriptableRunAlert": {"success": True}}
    [message] = await mail.wait_for(1)
    assert message["To"] == "alice@example.com"
    assert message["From"] == "alerts@switchboard.test"
    assert "Loss diverged" in message["Subject"] and "[WARN]" in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    link = "http://testserver/alice/mnist/runs/3x7k9q2p"
    for part in (text, html):
        assert "loss = nan at step 1200" in part
        assert "WARN" in part and "mnist" in part and "3x7k9q2p" in part
        assert link in part
    [delivery] = await settled(alice.user.id)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 1)


async def test_wandb_client_sending_null_severity_means_info(api, mail):
    alice = await sign_up("alice")

    data = await api.signed_in(alice).execute(
        WANDB_NOTIFY_SCRIPTABLE_RUN_ALERT, run_alert(severity=None)
    )

    assert data["notifyScriptableRunAlert"]["success"] is True
    event = await AlertEvent.get(user_id=alice.user.id)
    assert event.severity == "INFO"


async def test_notify_echoes_client_mutation_id(api, mail):
    alice = await sign_up("alice")
    alert = run_alert(clientMutationId="m-1")
    del alert["waitDuration"]

    data = await api.signed_in(alice).execute(NOTIFY, {"input": alert})

    assert data["notifyScriptableRunAlert"] == {
        "success": True,
        "clientMutationId": "m-1",
        "errors": [],
    }


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 65}, "title"),
        ({"text": "y" * 10_001}, "text"),
        ({"projectName": ""}, "projectName"),
        ({"runName": "r" * 129}, "runName"),
    ],
)
async def test_notify_with_bad_input_is_invalid_and_stores_nothing(api, overrides, field):
    alice = await sign_up("alice")
    alert = run_alert(**overrides)
    del alert["waitDuration"]

    data = await api.signed_in(alice).execute(NOTIFY, {"input": alert})

    payload = data["notifyScriptableRunAlert"]
    assert payload["success"] is False
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [(field, "INVALID")]
    assert await AlertEvent.all().count() == 0


async def test_notify_accepts_title_of_64_and_text_of_10000_characters(api, mail):
    alice = await sign_up("alice")

    data = await api.signed_in(alice).execute(
        WANDB_NOTIFY_SCRIPTABLE_RUN_ALERT, run_alert(title="t" * 64, text="x" * 10_000)
    )

    assert data["notifyScriptableRunAlert"]["success"] is True


@pytest.mark.parametrize("entity", ["bob", "no-such-team"])
async def test_notify_for_someone_elses_entity_is_forbidden_and_stores_nothing(api, entity):
    alice = await sign_up("alice")
    await sign_up("bob")

    error = await api.signed_in(alice).error(
        WANDB_NOTIFY_SCRIPTABLE_RUN_ALERT, run_alert(entityName=entity)
    )

    assert error["extensions"]["code"] == "FORBIDDEN"
    assert await AlertEvent.all().count() == 0
    assert await AlertDelivery.all().count() == 0


async def test_notify_for_a_team_of_the_caller(api, mail):
    alice = await sign_up("alice")
    entity = await Entity.create(name="ML-Lab", name_key="ml-lab", is_team=True)
    team = await Team.create(entity=entity, name="ML-Lab", type="WORK")
    await TeamMember.create(team=team, user_id=alice.user.id)

    data = await api.signed_in(alice).execute(
        WANDB_NOTIFY_SCRIPTABLE_RUN_ALERT, run_alert(entityName="ml-lab")
    )

    assert data["notifyScriptableRunAlert"]["success"] is True
    event = await AlertEvent.get(user_id=alice.user.id)
    assert event.entity_name == "ML-Lab"


async def test_notify_for_a_team_the_caller_is_not_in_is_forbidden(api):
    alice = await sign_up("alice")
    entity = await Entity.create(name="ml-lab", name_key="ml-lab", is_team=True)
    await Team.create(entity=entity, name="ml-lab", type="WORK")

    error = await api.signed_in(alice).error(
        WANDB_NOTIFY_SCRIPTABLE_RUN_ALERT, run_alert(entityName="ml-lab")
    )

    assert error["extensions"]["code"] == "FORBIDDEN"


async def test_notify_without_credentials_is_unauthenticated(api):
    error = await api.error(WANDB_NOTIFY_SCRIPTABLE_RUN_ALERT, run_alert())

    assert error["extensions"]["code"] == "UNAUTHENTICATED"


async def test_wait_duration_suppresses_the_same_title_for_the_same_run(api, mail):
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    minute = 60_000

    for _ in range(3):
        data = await client.execute(
            WANDB_NOTIFY_SCRIPTABLE_RUN_ALERT, run_alert(waitDuration=minute)
        )
        assert data["notifyScriptableRunAlert"]["success"] is True
    await client.execute(
        WANDB_NOTIFY_SCRIPTABLE_RUN_ALERT, run_alert(title="Other", waitDuration=minute)
    )
    await client.execute(
        WANDB_NOTIFY_SCRIPTABLE_RUN_ALERT, run_alert(runName="other-run", waitDuration=minute)
    )

    statuses = [d.status for d in await settled(alice.user.id)]
    assert statuses == [
        DeliveryStatus.DELIVERED,
        DeliveryStatus.SUPPRESSED,
        DeliveryStatus.SUPPRESSED,
        DeliveryStatus.DELIVERED,
        DeliveryStatus.DELIVERED,
    ]
    assert await AlertEvent.filter(user_id=alice.user.id).count() == 5
    await mail.wait_for(3)
    await asyncio.sleep(0.2)
    assert len(mail.messages) == 3


async def test_concurrent_copies_of_one_alert_are_sent_once(api, mail):
    alice = await sign_up("alice")
    client = api.signed_in(alice)

    answers = await asyncio.gather(
        *(
            client.execute(WANDB_NOTIFY_SCRIPTABLE_RUN_ALERT, run_alert(waitDuration=60_000))
            for _ in range(10)
        )
    )

    assert all(a["notifyScriptableRunAlert"]["success"] for a in answers)
    statuses = sorted(d.status for d in await settled(alice.user.id))
    assert statuses == [DeliveryStatus.DELIVERED] + [DeliveryStatus.SUPPRESSED] * 9
    await mail.wait_for(1)


async def test_wait_duration_elapsed_sends_again(api, mail):
    alice = await sign_up("alice")
    client = api.signed_in(alice)

    await client.execute(WANDB_NOTIFY_SCRIPTABLE_RUN_ALERT, run_alert(waitDuration=300))
    await asyncio.sleep(0.4)
    await client.execute(WANDB_NOTIFY_SCRIPTABLE_RUN_ALERT, run_alert(waitDuration=300))

    statuses = [d.status for d in await settled(alice.user.id)]
    assert statuses == [DeliveryStatus.DELIVERED, DeliveryStatus.DELIVERED]


async def test_without_wait_duration_every_alert_is_sent(api, mail):
    alice = await sign_up("alice")

    for _ in range(2):
        await api.signed_in(alice).execute(WANDB_NOTIFY_SCRIPTABLE_RUN_ALERT, run_alert())

    await mail.wait_for(2)


async def test_report_run_state_crashed_emails_and_finished_is_only_recorded(api, mail):
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    run = {"entityName": "alice", "projectName": "mnist", "runName": "3x7k9q2p"}

    crashed = await client.execute(REPORT_RUN_STATE, {"input": {**run, "state": "CRASHED"}})
    finished = await client.execute(REPORT_RUN_STATE, {"input": {**run, "state": "FINISHED"}})

    assert crashed["reportRunState"] == {"success": True, "errors": []}
    assert finished["reportRunState"] == {"success": True, "errors": []}
    [message] = await mail.wait_for(1)
    assert "Run crashed" in message["Subject"] and "[ERROR]" in message["Subject"]
    data = await client.execute(EVENTS)
    nodes = [e["node"] for e in data["viewer"]["alertEvents"]["edges"]]
    assert [(n["type"], n["severity"], len(n["deliveries"])) for n in nodes] == [
        ("RUN_FINISHED", "INFO", 0),
        ("RUN_CRASHED", "ERROR", 1),
    ]


async def test_report_run_state_for_someone_elses_entity_is_forbidden(api):
    alice = await sign_up("alice")
    await sign_up("bob")
    run = {"entityName": "bob", "projectName": "p", "runName": "r", "state": "CRASHED"}

    error = await api.signed_in(alice).error(REPORT_RUN_STATE, {"input": run})

    assert error["extensions"]["code"] == "FORBIDDEN"
    assert await AlertEvent.all().count() == 0


async def test_send_test_alert_reaches_every_connected_channel(api, mail, slack):
    alice = await sign_up("alice")
    await connect_slack(alice.user.id, slack.hook("ok"))

    data = await api.signed_in(alice).execute(SEND_TEST_ALERT, {"input": {}})

    event = data["sendTestAlert"]["alertEvent"]
    assert (event["type"], event["title"], event["entityName"]) == ("TEST", "Test alert", "alice")
    assert [d["channel"] for d in event["deliveries"]] == ["EMAIL", "SLACK"]
    [message] = await mail.wait_for(1)
    assert "Test alert" in message["Subject"]
    [post] = await slack.wait_for("ok", 1)
    assert "Test alert" in post.body["text"]
    assert post.body["blocks"][0]["type"] == "header"
    assert [d.status for d in await settled(alice.user.id)] == [DeliveryStatus.DELIVERED] * 2


async def test_send_test_alert_to_one_channel(api, mail):
    alice = await sign_up("alice")

    data = await api.signed_in(alice).execute(SEND_TEST_ALERT, {"input": {"channel": "EMAIL"}})

    assert [d["channel"] for d in data["sendTestAlert"]["alertEvent"]["deliveries"]] == ["EMAIL"]
    await mail.wait_for(1)


async def test_send_test_alert_to_slack_without_slack_is_invalid(api):
    alice = await sign_up("alice")

    data = await api.signed_in(alice).execute(SEND_TEST_ALERT, {"input": {"channel": "SLACK"}})

    payload = data["sendTestAlert"]
    assert payload["alertEvent"] is None
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("channel", "INVALID")]
    assert await AlertEvent.all().count() == 0


async def test_test_alerts_are_limited_per_minute(api, mail):
    alice = await sign_up("alice")
    client = api.signed_in(alice)

    for _ in range(5):
        await client.execute(SEND_TEST_ALERT, {"input": {"channel": "EMAIL"}})
    status, body = await client.post(SEND_TEST_ALERT, {"input": {"channel": "EMAIL"}})

    assert status == 429
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "LIMIT_EXCEEDED"
    assert 0 < error["extensions"]["retryAfter"] <= 60
    assert error["message"].startswith("Too many test alerts: at most 5 per minute.")
    assert await AlertEvent.filter(type=AlertEventType.TEST).count() == 5


async def test_alert_events_are_paged_newest_first(api, mail):
    alice = await sign_up("alice")
    client = api.signed_in(alice)
    for n in range(5):
        await client.execute(WANDB_NOTIFY_SCRIPTABLE_RUN_ALERT, run_alert(title=f"alert {n}"))
    await settled(alice.user.id)

    first = (await client.execute(EVENTS, {"first": 2}))["viewer"]["alertEvents"]
    after = first["pageInfo"]["endCursor"]
    second = (await client.execute(EVENTS, {"first": 2, "after": after}))["viewer"]["alertEvents"]
    after = second["pageInfo"]["endCursor"]
    last = (await client.execute(EVENTS, {"first": 2, "after": after}))["viewer"]["alertEvents"]

    def titles(page: dict[str, Any]) -> list[str]:
        return [edge["node"]["title"] for edge in page["edges"]]

    assert titles(first) == ["alert 4", "alert 3"]
    assert titles(second) == ["alert 2", "alert 1"]
    assert titles(last) == ["alert 0"]
    assert [p["pageInfo"]["hasNextPage"] for p in (first, second, last)] == [True, True, False]
    delivery = first["edges"][0]["node"]["deliveries"][0]
    assert delivery["channel"] == "EMAIL" and delivery["status"] == "DELIVERED"
    assert delivery["attempts"] == 1 and delivery["lastError"] is None
    assert delivery["deliveredAt"] is not None


async def test_alert_events_show_only_the_viewers_own(api, mail):
    alice, bob = await sign_up("alice"), await sign_up("bob")
    await api.signed_in(bob).execute(WANDB_NOTIFY_SCRIPTABLE_RUN_ALERT, run_alert(entityName="bob"))

    data = await api.signed_in(alice).execute(EVENTS)

    assert data["viewer"]["alertEvents"]["edges"] == []


@pytest.mark.parametrize(
    "variables",
    [
        {"first": 101},
        {"first": -1},
        {"after": "bm90LWEtY3Vyc29y"},
        {"after": "%%"},
        {"after": base64.urlsafe_b64encode("AlertEvent:²".encode()).decode()},
    ],
)
async def test_alert_events_refuse_bad_page_arguments(api, variables):
    alice = await sign_up("alice")

    error = await api.signed_in(alice).error(EVENTS, variables)

    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_ingestion_does_not_wait_for_slack(api, slack):
    alice = await sign_up("alice")
    await connect_slack(alice.user.id, slack.hook("slow"))
    slack.slow_seconds = 1.5
    await api.signed_in(alice).execute(
        SET_SUBSCRIPTION, {"input": {"event": "SCRIPTABLE", "channel": "SLACK", "enabled": True}}
    )
    await api.signed_in(alice).execute(
        SET_SUBSCRIPTION, {"input": {"event": "SCRIPTABLE", "channel": "EMAIL", "enabled": False}}
    )

    started = time.monotonic()
    data = await api.signed_in(alice).execute(WANDB_NOTIFY_SCRIPTABLE_RUN_ALERT, run_alert())
    elapsed = time.monotonic() - started

    assert data["notifyScriptableRunAlert"]["success"] is True
    assert elapsed < 1.0
    [delivery] = await settled(alice.user.id)
    assert delivery.status == DeliveryStatus.DELIVERED


async def test_alert_events_cost_the_same_queries_for_two_or_twenty_events(api, mail):
    alice = await sign_up("alice")
    client = api.signed_in(alice)

    async def statements_for(count: int) -> int:
        await AlertEvent.filter(user_id=alice.user.id).delete()
        for n in range(count):
            await client.execute(WANDB_NOTIFY_SCRIPTABLE_RUN_ALERT, run_alert(title=f"a{n}"))
        await settled(alice.user.id)
        with count_queries() as statements:
            data = await client.execute(EVENTS, {"first": 20})
        assert len(data["viewer"]["alertEvents"]["edges"]) == count
        return len(statements)

    assert await statements_for(2) == await statements_for(20)
