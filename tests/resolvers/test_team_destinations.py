"""A team's destinations and routes: its admins manage them, and the alerts of its runs,
whoever reports them (a member, a service account), go to them once."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from models.alert import AlertDelivery, AlertEvent
from models.destination import AlertRoute, Destination
from tests.resolvers.test_destinations import CREATE, NOTIFY, SET_ROUTE, UPDATE
from tests.support.fakes import settled
from tests.support.helpers import GraphQL, sign_up
from tests.support.receivers import Reply
from tests.support.team_helpers import make_team

TEAM_SETTINGS = """
{ team(name: "lab") {
    destinations { id kind name target }
    alertRoutes { entityName projectPattern events destinations { id } }
} }
"""
MAKE_SERVICE_ACCOUNT = """
mutation { createServiceAccount(input: {entityName: "lab", description: "CI"}) { secret } }
"""
DELETE_TEAM = 'mutation { deleteTeam(input: {teamName: "lab"}) { success errors { message } } }'


@pytest.fixture
async def lab(db):
    """Team `lab`: ada and max its admins, mem a member; eve outside."""
    people = {name: await sign_up(name) for name in ("ada", "max", "mem", "eve")}
    await make_team("lab", people["ada"], people["mem"], admins=(people["max"],))
    return people


async def team_hook(client: GraphQL, url: str) -> tuple[str, str]:
    made = await client.execute(
        CREATE, {"input": {"name": "Lab hook", "url": url, "teamName": "lab"}}
    )
    answer = made["createWebhookDestination"]
    assert answer["errors"] == []
    return answer["destination"]["id"], answer["signingSecret"]


async def team_route(client: GraphQL, hook: str, **given: Any) -> dict[str, Any]:
    fields = {"teamName": "lab", "events": ["SCRIPTABLE"], "destinationIds": [hook], **given}
    answer: dict[str, Any] = (await client.execute(SET_ROUTE, {"input": fields}))["setAlertRoute"]
    return answer


async def lab_alert(client: GraphQL, project: str = "train-1", entity: str = "lab") -> None:
    fields = {
        "entityName": entity,
        "projectName": project,
        "runName": "r",
        "title": "Loss diverged",
        "text": "nan",
    }
    assert (await client.execute(NOTIFY, {"input": fields}))["notifyScriptableRunAlert"]["success"]


async def test_team_admins_manage_the_teams_destinations_members_see_none(
    api, lab, webhook_receiver
):
    ada, mem = api.signed_in(lab["ada"]), api.signed_in(lab["mem"])
    hook, secret = await team_hook(ada, webhook_receiver.hook())
    made = await team_route(ada, hook)

    seen_by_admins = [await api.signed_in(lab[n]).execute(TEAM_SETTINGS) for n in ("ada", "max")]
    seen_by_member = await mem.execute(TEAM_SETTINGS)
    touched = await mem.execute(UPDATE, {"input": {"id": hook, "enabled": False}})
    as_mine = await mem.error(
        CREATE, {"input": {"name": "x", "url": webhook_receiver.hook(), "teamName": "lab"}}
    )

    assert secret.startswith("whsec_") and made["errors"] == []
    assert made["alertRoute"]["entityName"] == "lab"
    for seen in seen_by_admins:
        assert [d["id"] for d in seen["team"]["destinations"]] == [hook]
        assert seen["team"]["alertRoutes"][0]["destinations"] == [{"id": hook}]
    assert seen_by_member["team"] == {"destinations": [], "alertRoutes": []}
    assert touched["updateDestination"]["errors"][0]["code"] == "NOT_FOUND"
    assert as_mine["extensions"]["code"] == "FORBIDDEN"
    assert await Destination.filter(team__name="lab").count() == 1
    assert (await Destination.get(id=int(hook))).enabled is True
    ada_own = await ada.execute("{ viewer { destinations { id } } }")
    assert [d["id"] for d in ada_own["viewer"]["destinations"]] == ["email"]


async def test_a_members_alert_of_a_team_run_goes_to_the_team_route_and_their_own(
    api, lab, webhook_receiver, mail
):
    hook, secret = await team_hook(api.signed_in(lab["ada"]), webhook_receiver.hook())
    webhook_receiver.secrets = (secret,)
    await team_route(api.signed_in(lab["ada"]), hook, projectPattern="train-*")
    mem = api.signed_in(lab["mem"])

    await lab_alert(mem, project="train-1")
    await lab_alert(mem, project="eval")  # not the route's projects
    await lab_alert(mem, project="train-2", entity="mem")  # not the team's run
    [request] = await webhook_receiver.wait_for(1)
    await mail.wait_for(3)
    deliveries = await settled(lab["mem"].user.id)

    assert request.verified_by == (secret,)
    assert json.loads(request.body)["data"]["projectName"] == "train-1"
    channels = sorted(d.channel.value for d in deliveries)
    assert channels == ["EMAIL", "EMAIL", "EMAIL", "WEBHOOK"]
    history = await mem.execute(
        "{ viewer { alertEvents { edges { node { deliveries { destination { id name } } } } } } }"
    )
    shown = [d["destination"] for e in history["viewer"]["alertEvents"]["edges"]
             for d in e["node"]["deliveries"]]  # fmt: skip
    assert {"id": hook, "name": "Lab hook"} in shown


async def test_a_service_accounts_alert_reaches_the_team_route_once(api, lab, webhook_receiver):
    ada = api.signed_in(lab["ada"])
    hook, _ = await team_hook(ada, webhook_receiver.hook())
    await team_route(ada, hook)
    secret = (await ada.execute(MAKE_SERVICE_ACCOUNT))["createServiceAccount"]["secret"]
    robot = api.signed_in("Basic " + base64.b64encode(f"api:{secret}".encode()).decode())

    await lab_alert(robot)
    await webhook_receiver.wait_for(1)

    # Two admins, each told by their own subscriptions; the team's webhook once.
    webhooks = await AlertDelivery.filter(destination_id=int(hook))
    assert len(webhooks) == 1 and len(webhook_receiver.received) == 1
    events = await AlertEvent.filter(title="Loss diverged").select_related("user")
    owners = [event.user.username for event in events]
    people = sorted(o for o in owners if not o.startswith("sa-"))
    assert people == ["ada", "max"] and len(owners) == 3  # and the service account's own


async def test_routes_and_destinations_keep_to_their_owner(api, lab, webhook_receiver):
    ada = api.signed_in(lab["ada"])
    hook, _ = await team_hook(ada, webhook_receiver.hook())

    personal = await ada.execute(
        SET_ROUTE, {"input": {"events": ["SCRIPTABLE"], "destinationIds": [hook]}}
    )
    team_to_email = await team_route(ada, "email")
    other_entity = await team_route(ada, hook, entityName="ada")

    assert personal["setAlertRoute"]["errors"][0]["field"] == "destinationIds"
    assert team_to_email["errors"][0]["field"] == "destinationIds"
    assert other_entity["errors"][0]["field"] == "entityName"
    assert await AlertRoute.all().count() == 0


async def test_a_team_webhook_turned_off_tells_every_team_admin(api, lab, webhook_receiver, mail):
    ada = api.signed_in(lab["ada"])
    hook, _ = await team_hook(ada, webhook_receiver.hook())
    await team_route(ada, hook)
    webhook_receiver.script(Reply(410))
    for person in ("ada", "max", "mem"):  # only the stopping goes by email
        await api.signed_in(lab[person]).execute(
            "mutation { setAlertSubscription(input: {event: SCRIPTABLE, channel: EMAIL, "
            "enabled: false}) { errors { code } } }"
        )

    await lab_alert(api.signed_in(lab["mem"]))
    messages = await mail.wait_for(2)

    assert sorted(m["To"] for m in messages) == ["ada@example.com", "max@example.com"]
    assert (await Destination.get(id=int(hook))).enabled is False


async def test_deleting_the_team_takes_its_destinations_and_routes(api, lab, webhook_receiver):
    ada = api.signed_in(lab["ada"])
    hook, _ = await team_hook(ada, webhook_receiver.hook())
    await team_route(ada, hook)

    deleted = await ada.execute(DELETE_TEAM)

    assert deleted["deleteTeam"] == {"success": True, "errors": []}
    assert await Destination.filter(id=int(hook)).count() == 0
    assert await AlertRoute.all().count() == 0
