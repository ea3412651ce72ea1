"""createInvite, acceptInvite, deleteInvite, viewer.invites, and pending members."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from models.alert import AlertDelivery, AlertEvent, AlertEventType, DeliveryStatus
from models.team import Invite, TeamMember
from tests.support.fakes import settled
from tests.support.helpers import Account, GraphQL, set_rate_limits, sign_up
from tests.support.team_helpers import make_team, members_of, team_rows

CREATE_INVITE = """
mutation CreateInvite($input: CreateInviteInput!) {
  createInvite(input: $input) {
    invite { id name email role createdAt fromUser { username } toUser { username name } }
    errors { code field message }
  }
}
"""

ACCEPT_INVITE = """
mutation Accept($id: ID!) {
  acceptInvite(input: {id: $id}) {
    team { name viewerRole members { profile { username } role } }
    errors { code field }
  }
}
"""

DELETE_INVITE = """
mutation Delete($id: ID!) { deleteInvite(input: {id: $id}) { success errors { code field } } }
"""

MY_INVITES = (
    "{ viewer { invites { id name email role fromUser { username } toUser { username } } } }"
)

TEAM_MEMBERS = """
query Members($name: String!) {
  entity(name: $name) { members { id username name email role admin pending } }
  team(name: $name) { invites { id email toUser { username } } }
}
"""


@pytest.fixture
async def lab(db):
    """Team `lab`: ada its admin, mem a member; carol and eve outside; root a site admin."""
    people = {
        "ada": await sign_up("ada"),
        "mem": await sign_up("mem"),
        "carol": await sign_up("carol", email="Carol@Lab.test"),
        "eve": await sign_up("eve"),
        "root": await sign_up("root", admin=True),
    }
    await make_team("lab", people["ada"], people["mem"])
    return people


async def invite(api: GraphQL, who: Account, **input: Any) -> Any:
    data = await api.signed_in(who).execute(
        CREATE_INVITE, {"input": {"entityName": "lab", **input}}
    )
    return data["createInvite"]


async def test_invite_by_username_waits_for_the_invitee(api, lab):
    created = await invite(api, lab["ada"], username="carol")

    assert created["errors"] == []
    assert created["invite"]["name"] == "lab"
    assert created["invite"]["role"] == "MEMBER"
    assert created["invite"]["email"] is None
    assert created["invite"]["fromUser"] == {"username": "ada"}
    assert created["invite"]["toUser"] == {"username": "carol", "name": "Carol"}
    assert await members_of("lab") == {"ada": "ADMIN", "mem": "MEMBER"}
    mine = await api.signed_in(lab["carol"]).execute(MY_INVITES)
    assert mine["viewer"]["invites"] == [
        {
            "id": created["invite"]["id"],
            "name": "lab",
            "email": None,
            "role": "MEMBER",
            "fromUser": {"username": "ada"},
            "toUser": {"username": "carol"},
        }
    ]
    theirs = await api.signed_in(lab["eve"]).execute(MY_INVITES)
    assert theirs["viewer"]["invites"] == []


async def test_accepting_joins_with_the_invited_role(api, lab):
    created = await invite(api, lab["ada"], username="carol", admin=True)

    data = await api.signed_in(lab["carol"]).execute(ACCEPT_INVITE, {"id": created["invite"]["id"]})

    assert data["acceptInvite"]["errors"] == []
    assert data["acceptInvite"]["team"]["viewerRole"] == "ADMIN"
    assert await members_of("lab") == {"ada": "ADMIN", "carol": "ADMIN", "mem": "MEMBER"}
    assert await Invite.all().count() == 0


async def test_invitation_by_email_is_accepted_by_the_account_with_that_address(api, lab):
    created = await invite(api, lab["ada"], email="carol@lab.TEST")
    invite_id = created["invite"]["id"]

    assert created["invite"]["toUser"] is None
    assert created["invite"]["email"] == "carol@lab.TEST"
    others = await api.signed_in(lab["eve"]).execute(ACCEPT_INVITE, {"id": invite_id})
    assert others["acceptInvite"]["errors"] == [{"code": "NOT_FOUND", "field": "id"}]
    mine = await api.signed_in(lab["carol"]).execute(MY_INVITES)
    assert [i["id"] for i in mine["viewer"]["invites"]] == [invite_id]
    await api.signed_in(lab["carol"]).execute(ACCEPT_INVITE, {"id": invite_id})
    assert (await members_of("lab"))["carol"] == "MEMBER"


async def test_an_address_without_an_account_is_accepted_once_it_signs_up(api, lab):
    created = await invite(api, lab["ada"], email="dana@lab.test")

    dana = await sign_up("dana", email="dana@lab.test")
    data = await api.signed_in(dana).execute(ACCEPT_INVITE, {"id": created["invite"]["id"]})

    assert data["acceptInvite"]["errors"] == []
    assert (await members_of("lab"))["dana"] == "MEMBER"


async def test_declining_leaves_the_team_as_it_was(api, lab):
    created = await invite(api, lab["ada"], username="carol")
    before = await team_rows()

    data = await api.signed_in(lab["carol"]).execute(DELETE_INVITE, {"id": created["invite"]["id"]})

    assert data["deleteInvite"] == {"success": True, "errors": []}
    assert await team_rows() == before
    assert await Invite.all().count() == 0


async def test_a_team_admin_withdraws_and_the_invitee_can_no_longer_accept(api, lab):
    created = await invite(api, lab["ada"], username="carol")
    invite_id = created["invite"]["id"]

    withdrawn = await api.signed_in(lab["ada"]).execute(DELETE_INVITE, {"id": invite_id})
    accepted = await api.signed_in(lab["carol"]).execute(ACCEPT_INVITE, {"id": invite_id})

    assert withdrawn["deleteInvite"]["success"] is True
    assert accepted["acceptInvite"]["errors"] == [{"code": "NOT_FOUND", "field": "id"}]
    assert "carol" not in await members_of("lab")


@pytest.mark.parametrize("caller", ["mem", "eve", "root"])
async def test_only_the_invitee_and_team_admins_may_delete_an_invitation(api, lab, caller):
    created = await invite(api, lab["ada"], username="carol")

    data = await api.signed_in(lab[caller]).execute(DELETE_INVITE, {"id": created["invite"]["id"]})

    assert data["deleteInvite"]["errors"] == [{"code": "NOT_FOUND", "field": "id"}]
    assert await Invite.all().count() == 1


@pytest.mark.parametrize(
    ("caller", "code"),
    [(None, "UNAUTHENTICATED"), ("mem", "FORBIDDEN"), ("eve", "FORBIDDEN"), ("root", "FORBIDDEN")],
)
async def test_only_team_admins_invite(api, lab, caller, code):
    client = api.signed_in(lab[caller]) if caller else api
    variables = {"input": {"entityName": "lab", "username": "carol"}}

    error = await client.error(CREATE_INVITE, variables)

    assert error["extensions"]["code"] == code
    assert await Invite.all().count() == 0


@pytest.mark.parametrize(
    ("input", "field", "code"),
    [
        ({}, "username", "INVALID"),
        ({"username": "carol", "email": "carol@lab.test"}, "username", "INVALID"),
        ({"username": "nobody"}, "username", "NOT_FOUND"),
        ({"username": "mem"}, "username", "ALREADY_EXISTS"),
        ({"username": "ada"}, "username", "ALREADY_EXISTS"),
        ({"email": "MEM@example.com"}, "email", "ALREADY_EXISTS"),
        ({"email": "a@x, b@x"}, "email", "INVALID"),
        ({"email": "Carol <carol@lab.test>"}, "email", "INVALID"),
        ({"email": "carol@lab.test\r\nBcc: eve@x"}, "email", "INVALID"),
        ({"username": "carol", "admin": True, "role": "MEMBER"}, "role", "INVALID"),
    ],
)
async def test_bad_invitations_change_nothing(api, lab, input, field, code):
    created = await invite(api, lab["ada"], **input)

    assert created["invite"] is None
    assert [(e["code"], e["field"]) for e in created["errors"]] == [(code, field)]
    assert await Invite.all().count() == 0
    assert await AlertEvent.all().count() == 0


async def test_inviting_twice_is_refused(api, lab):
    await invite(api, lab["ada"], username="carol")
    await invite(api, lab["ada"], email="x@lab.test")

    again = await invite(api, lab["ada"], username="Carol")
    again_by_email = await invite(api, lab["ada"], email="X@LAB.test")

    assert [e["code"] for e in again["errors"]] == ["ALREADY_EXISTS"]
    assert [e["code"] for e in again_by_email["errors"]] == ["ALREADY_EXISTS"]
    assert await Invite.all().count() == 2


async def test_concurrent_identical_invitations_make_one(api, lab):
    results = await asyncio.gather(*(invite(api, lab["ada"], username="carol") for _ in range(5)))

    assert sum(1 for r in results if r["invite"] is not None) == 1
    assert await Invite.all().count() == 1


async def test_pending_invitations_show_as_pending_members_to_team_admins(api, lab):
    by_name = await invite(api, lab["ada"], username="carol")
    by_email = await invite(api, lab["ada"], email="dana@lab.test", admin=True)

    seen = await api.signed_in(lab["ada"]).execute(TEAM_MEMBERS, {"name": "lab"})
    seen_by_member = await api.signed_in(lab["mem"]).execute(TEAM_MEMBERS, {"name": "lab"})

    pending = [m for m in seen["entity"]["members"] if m["pending"]]
    assert pending == [
        {
            "id": by_name["invite"]["id"],
            "username": "carol",
            "name": "Carol",
            "email": None,
            "role": "MEMBER",
            "admin": False,
            "pending": True,
        },
        {
            "id": by_email["invite"]["id"],
            "username": None,
            "name": "dana@lab.test",
            "email": "dana@lab.test",
            "role": "ADMIN",
            "admin": True,
            "pending": True,
        },
    ]
    assert [i["toUser"] for i in seen["team"]["invites"]] == [{"username": "carol"}, None]
    assert not any(m["pending"] for m in seen_by_member["entity"]["members"])
    assert seen_by_member["team"]["invites"] == []


async def test_the_invitee_gets_an_email_with_a_link_to_the_settings(api, lab, mail):
    await invite(api, lab["ada"], username="carol")

    [message] = await mail.wait_for(1)

    assert message["To"] == "Carol@Lab.test"
    assert "Invitation to join lab" in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    assert "ada invited carol to join the team lab" in text
    assert "http://testserver/settings#teams" in text
    [delivery] = await settled(lab["carol"].user.id)
    assert delivery.status == DeliveryStatus.DELIVERED
    event = await AlertEvent.get(id=delivery.event_id)
    assert event.type == AlertEventType.INVITE


async def test_an_address_is_mailed_and_the_admin_sees_it_delivered(api, lab, mail):
    await invite(api, lab["ada"], email="dana@lab.test")

    [message] = await mail.wait_for(1)

    assert message["To"] == "dana@lab.test"
    [delivery] = await settled(lab["ada"].user.id)
    assert (delivery.status, delivery.address) == (DeliveryStatus.DELIVERED, "dana@lab.test")
    assert await AlertDelivery.filter(user_id=lab["ada"].user.id).count() == 1


async def test_invitations_cannot_be_subscribed_to(api, lab):
    document = """
    mutation { setAlertSubscription(input: {event: INVITE, channel: EMAIL, enabled: false}) {
      errors { code field } } }
    """

    data = await api.signed_in(lab["carol"]).execute(document)

    assert data["setAlertSubscription"]["errors"] == [{"code": "INVALID", "field": "event"}]


async def test_deleting_the_team_takes_its_invitations(api, lab):
    await invite(api, lab["ada"], username="carol")

    document = 'mutation { deleteTeam(input: {teamName: "lab"}) { success } }'
    await api.signed_in(lab["ada"]).execute(document)

    assert await Invite.all().count() == 0
    assert await api.signed_in(lab["carol"]).execute(MY_INVITES) == {"viewer": {"invites": []}}


async def test_invitations_count_against_the_invitation_rate_limit(api, lab, monkeypatch):
    set_rate_limits(monkeypatch, {"invitations.account": "2/hour"})
    await invite(api, lab["ada"], username="carol")
    await invite(api, lab["ada"], username="eve")

    error = await api.signed_in(lab["ada"]).error(
        CREATE_INVITE, {"input": {"entityName": "lab", "email": "x@lab.test"}}
    )

    assert error["extensions"]["code"] == "LIMIT_EXCEEDED"
    assert await Invite.all().count() == 2


async def test_nobody_joins_without_saying_yes(api, lab):
    """An admin once could add anyone as ADMIN and leave, leaving the victim stuck."""
    await invite(api, lab["ada"], username="carol", admin=True)

    add = """
    mutation { addTeamMember(input: {teamName: "lab", username: "carol", role: ADMIN}) {
      errors { code } } }
    """
    error = await api.signed_in(lab["ada"]).error(add)

    assert error["extensions"]["code"] == "FORBIDDEN"
    assert await TeamMember.filter(user_id=lab["carol"].user.id).count() == 0
