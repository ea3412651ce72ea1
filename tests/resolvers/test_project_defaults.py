"""Project defaults: where new projects go, their privacy, code saving."""

from __future__ import annotations

import pytest

from models.entity import Entity
from models.team import Team, TeamMember, TeamRole, TeamType
from models.user import Privacy, User
from tests.support.helpers import sign_up

DEFAULTS = """
{ viewer {
    projectDefaults { entity { name isTeam } privacy codeSavingEnabled }
    availableEntities { name isTeam }
} }
"""
UPDATE = """
mutation($input: UpdateProjectDefaultsInput!) {
  updateProjectDefaults(input: $input) {
    projectDefaults { entity { name isTeam } privacy codeSavingEnabled }
    errors { field message code }
  }
}
"""


async def make_team(name: str, *members: User) -> Team:
    entity = await Entity.create(name=name, name_key=name.casefold(), is_team=True)
    team = await Team.create(entity=entity, name=name, type=TeamType.WORK)
    for member in members:
        await TeamMember.create(team=team, user=member, role=TeamRole.MEMBER)
    return team


async def test_new_account_defaults_to_its_own_entity_private_without_code_saving(api):
    alice = await sign_up("alice")

    data = await api.signed_in(alice).execute(DEFAULTS)

    assert data["viewer"] == {
        "projectDefaults": {
            "entity": {"name": "alice", "isTeam": False},
            "privacy": "PRIVATE",
            "codeSavingEnabled": False,
        },
        "availableEntities": [{"name": "alice", "isTeam": False}],
    }


async def test_available_entities_list_own_entity_then_teams_by_name(api):
    alice = await sign_up("alice")
    await make_team("zeta-lab", alice.user)
    await make_team("Alpha", alice.user)
    await make_team("not-mine")

    data = await api.signed_in(alice).execute(DEFAULTS)

    assert data["viewer"]["availableEntities"] == [
        {"name": "alice", "isTeam": False},
        {"name": "Alpha", "isTeam": True},
        {"name": "zeta-lab", "isTeam": True},
    ]


async def test_update_every_default(api):
    alice = await sign_up("alice")
    await make_team("ml-lab", alice.user)

    data = await api.signed_in(alice).execute(
        UPDATE, {"input": {"entityName": "ML-LAB", "privacy": "OPEN", "codeSavingEnabled": True}}
    )

    assert data["updateProjectDefaults"] == {
        "projectDefaults": {
            "entity": {"name": "ml-lab", "isTeam": True},
            "privacy": "OPEN",
            "codeSavingEnabled": True,
        },
        "errors": [],
    }
    row = await User.get(id=alice.user.id).select_related("default_entity")
    assert (row.default_entity.name, row.default_privacy, row.code_saving_enabled) == (
        "ml-lab",
        Privacy.OPEN,
        True,
    )


async def test_omitted_defaults_are_left_alone(api):
    alice = await sign_up("alice")
    await api.signed_in(alice).execute(UPDATE, {"input": {"privacy": "PUBLIC"}})

    data = await api.signed_in(alice).execute(UPDATE, {"input": {"codeSavingEnabled": True}})

    assert data["updateProjectDefaults"]["projectDefaults"]["privacy"] == "PUBLIC"


@pytest.mark.parametrize("entity_name", ["not-mine", "nobody-at-all", "bob"])
async def test_entity_must_be_own_or_a_team_of_the_viewer(api, entity_name):
    alice = await sign_up("alice")
    await sign_up("bob")
    await make_team("not-mine")

    data = await api.signed_in(alice).execute(
        UPDATE, {"input": {"entityName": entity_name, "privacy": "PUBLIC"}}
    )

    [error] = data["updateProjectDefaults"]["errors"]
    assert (error["field"], error["code"]) == ("entityName", "INVALID")
    row = await User.get(id=alice.user.id)
    assert (row.default_entity_id, row.default_privacy) == (row.entity_id, Privacy.PRIVATE)


async def test_unknown_privacy_is_a_validation_error(api):
    alice = await sign_up("alice")

    error = await api.signed_in(alice).error(UPDATE, {"input": {"privacy": "SECRET"}})

    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "SECRET" in error["message"]
