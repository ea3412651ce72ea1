"""createServiceAccount, deleteServiceAccount, and what a service account may do."""

from __future__ import annotations

import base64
from typing import Any

import aiohttp
import pytest

from auth.tokens import issue_token
from models.api_key import ApiKey
from models.entity import Entity
from models.user import User
from resolvers import service_accounts
from tests.support.fakes import settled
from tests.support.helpers import Account, GraphQL, sign_up
from tests.support.team_helpers import make_team, members_of, team_rows
from tests.support.ws import graphql_socket

CREATE = """
mutation Create($input: CreateServiceAccountInput!) {
  createServiceAccount(input: $input) {
    user { id username name }
    apiKey { scopes }
    secret
    errors { code field }
  }
}
"""
DELETE = """
mutation Delete($username: String!) {
  deleteServiceAccount(input: {entityName: "lab", username: $username}) {
    success errors { code field }
  }
}
"""
MEMBERS = """
{
  entity(name: "lab") { members { username accountType } }
  team(name: "lab") { members { profile { username } accountType } }
}
"""
ALERT = """
mutation {
  notifyScriptableRunAlert(input: {entityName: "lab", projectName: "p", runName: "r",
    title: "Loss diverged", text: "nan"}) { success }
}
"""


def basic(secret: str) -> str:
    return "Basic " + base64.b64encode(f"api:{secret}".encode()).decode()


@pytest.fixture
async def lab(db):
    """Team `lab`: ada its admin, mem a member; eve outside."""
    people = {name: await sign_up(name) for name in ("ada", "mem", "eve")}
    await make_team("lab", people["ada"], people["mem"])
    return people


async def create(api: GraphQL, who: Account, description: str = "CI runner") -> Any:
    variables = {"input": {"entityName": "lab", "description": description}}
    return (await api.signed_in(who).execute(CREATE, variables))["createServiceAccount"]


async def test_a_team_admin_makes_a_member_that_signs_in_with_its_key(api, lab):
    made = await create(api, lab["ada"])

    username = made["user"]["username"]
    assert made["errors"] == []
    assert username.startswith("sa-") and username.endswith("-lab")
    assert made["user"]["name"] == "CI runner"
    assert made["apiKey"]["scopes"] == ["READ", "RUNS"]
    viewer = await api.signed_in(basic(made["secret"])).execute("{ viewer { username } }")
    assert viewer == {"viewer": {"username": username}}
    seen = await api.signed_in(lab["ada"]).execute(MEMBERS)
    assert {"username": username, "accountType": "SERVICE"} in seen["entity"]["members"]
    assert {"profile": {"username": username}, "accountType": "SERVICE"} in seen["team"]["members"]
    assert (await members_of("lab"))[username] == "MEMBER"


async def test_its_run_alerts_reach_the_teams_admins(api, lab, mail):
    made = await create(api, lab["ada"])

    await api.signed_in(basic(made["secret"])).execute(ALERT)

    [message] = await mail.wait_for(1)
    assert message["To"] == "ada@example.com"
    assert "Loss diverged" in message["Subject"]
    [delivery] = await settled(lab["ada"].user.id)
    assert delivery.status == "DELIVERED"
    assert await settled(lab["mem"].user.id) == []


async def test_a_token_never_signs_in_as_a_service_account(api, lab):
    made = await create(api, lab["ada"])
    token = issue_token(made["user"]["username"], email="x@example.com")

    error = await api.signed_in(f"Bearer {token}").error("{ viewer { username } }")

    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert "service account" in error["message"]
    assert await User.get(username=made["user"]["username"]).values("email") == {"email": ""}


@pytest.mark.parametrize(
    ("document", "code"),
    [
        (
            'removeTeamMember(input: {teamName: "lab", username: "%s"}) { errors { code } }',
            "CONFLICT",
        ),
        (
            'updateTeamMember(input: {teamName: "lab", username: "%s", role: ADMIN}) '
            "{ errors { code } }",
            "CONFLICT",
        ),
        ('createInvite(input: {entityName: "lab", username: "%s"}) { errors { code } }', "INVALID"),
    ],
    ids=["remove", "promote", "invite"],
)
async def test_it_is_neither_removed_promoted_nor_invited(api, lab, document, code):
    made = await create(api, lab["ada"])
    before = await team_rows()

    data = await api.signed_in(lab["ada"]).execute(
        "mutation { answer: " + document % made["user"]["username"] + " }"
    )

    assert [e["code"] for e in data["answer"]["errors"]] == [code]
    assert await team_rows() == before


@pytest.mark.parametrize("caller", ["mem", "eve"])
async def test_only_team_admins_make_one(api, lab, caller):
    error = await api.signed_in(lab[caller]).error(
        CREATE, {"input": {"entityName": "lab", "description": "CI"}}
    )

    assert error["extensions"]["code"] == "FORBIDDEN"
    assert not await User.filter(service=True).exists()


async def test_a_team_has_a_bounded_number(api, lab, monkeypatch):
    monkeypatch.setattr(service_accounts, "MAX_SERVICE_ACCOUNTS", 2)
    await create(api, lab["ada"])
    await create(api, lab["ada"])

    third = await create(api, lab["ada"])

    assert [e["code"] for e in third["errors"]] == ["LIMIT_EXCEEDED"]
    assert await User.filter(service=True).count() == 2


async def test_deleting_it_removes_it_with_its_keys_and_closes_its_sockets(api, server, lab):
    made = await create(api, lab["ada"])
    username = made["user"]["username"]

    async with graphql_socket(server.url, basic(made["secret"])) as socket:
        await socket.subscribe()
        data = await api.signed_in(lab["ada"]).execute(DELETE, {"username": username})
        closed = await socket.ws.receive(timeout=10)

    assert data["deleteServiceAccount"] == {"success": True, "errors": []}
    assert (closed.type, closed.data) == (aiohttp.WSMsgType.CLOSE, 4401)
    assert not await User.filter(username=username).exists()
    assert await ApiKey.all().count() == 0
    assert (await Entity.get(name=username)).deleted_at is not None
    status, _ = await api.signed_in(basic(made["secret"])).post("{ viewer { username } }")
    assert status == 401


async def test_only_a_service_account_of_the_team_is_deleted_so(api, lab):
    data = await api.signed_in(lab["ada"]).execute(DELETE, {"username": "mem"})

    assert data["deleteServiceAccount"]["errors"] == [{"code": "NOT_FOUND", "field": "username"}]
    assert "mem" in await members_of("lab")


async def test_deleting_the_team_takes_its_service_accounts(api, lab):
    made = await create(api, lab["ada"])

    await api.signed_in(lab["ada"]).execute(
        'mutation { deleteTeam(input: {teamName: "lab"}) { success } }'
    )

    assert not await User.filter(service=True).exists()
    status, _ = await api.signed_in(basic(made["secret"])).post("{ viewer { username } }")
    assert status == 401
