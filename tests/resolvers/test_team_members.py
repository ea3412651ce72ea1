"""addTeamMember (site admins), updateTeamMember, removeTeamMember (team admins), and
who may call them."""

from __future__ import annotations

import asyncio

import pytest

from models.team import TeamMember
from tests.support.helpers import sign_up
from tests.support.team_helpers import default_entities, make_team, members_of, team_rows

TEAM_FIELDS = (
    "team { name memberCount members { profile { username } role } } errors { code field }"
)

ADD_MEMBER = f"""
mutation Add($input: AddTeamMemberInput!) {{ addTeamMember(input: $input) {{ {TEAM_FIELDS} }} }}
"""

UPDATE_MEMBER = f"""
mutation Update($input: UpdateTeamMemberInput!) {{
  updateTeamMember(input: $input) {{ {TEAM_FIELDS} }}
}}
"""

REMOVE_MEMBER = f"""
mutation Remove($input: RemoveTeamMemberInput!) {{
  removeTeamMember(input: $input) {{ {TEAM_FIELDS} }}
}}
"""

CREATE_TEAM = """
mutation Create($input: CreateTeamInput!) { createTeam(input: $input) { team { name } } }
"""

PROJECT_DEFAULTS = "{ viewer { projectDefaults { entity { name isTeam } } } }"

SET_DEFAULT_ENTITY = """
mutation Default($name: String!) {
  updateProjectDefaults(input: {entityName: $name}) { errors { code field } }
}
"""


@pytest.fixture
async def lab(db):
    """Team `lab`: ada its admin, mem and mem2 members; eve outside; root a site admin."""
    people = {
        "ada": await sign_up("ada"),
        "mem": await sign_up("mem"),
        "mem2": await sign_up("mem2"),
        "eve": await sign_up("eve"),
        "newbie": await sign_up("newbie"),
        "root": await sign_up("root", admin=True),
    }
    await make_team("lab", people["ada"], people["mem"], people["mem2"])
    return people


# The permission matrix: every team mutation, every kind of caller.

CALLERS = {
    "anonymous": None,
    "non-member": "eve",
    "member": "mem",
    "team admin": "ada",
    "admin": "root",
}

MUTATIONS = {
    "addTeamMember": (
        ADD_MEMBER,
        {"teamName": "lab", "username": "newbie"},
        {"ada": "ADMIN", "mem": "MEMBER", "mem2": "MEMBER", "newbie": "MEMBER"},
    ),
    "updateTeamMember": (
        UPDATE_MEMBER,
        {"teamName": "lab", "username": "mem2", "role": "ADMIN"},
        {"ada": "ADMIN", "mem": "MEMBER", "mem2": "ADMIN"},
    ),
    "removeTeamMember": (
        REMOVE_MEMBER,
        {"teamName": "lab", "username": "mem2"},
        {"ada": "ADMIN", "mem": "MEMBER"},
    ),
}


#: Who may call each mutation: anyone else is refused.
ALLOWED = {
    "addTeamMember": "admin",
    "updateTeamMember": "team admin",
    "removeTeamMember": "team admin",
}
#: The mutations of team admins, refused alike for a team that does not exist.
TEAM_ADMINS_MUTATIONS = [m for m, caller in ALLOWED.items() if caller == "team admin"]


def manager(mutation: str) -> str:
    """The username of the `lab` caller allowed to call `mutation`."""
    return CALLERS[ALLOWED[mutation]] or ""


@pytest.mark.parametrize("mutation", MUTATIONS)
@pytest.mark.parametrize("caller", CALLERS)
async def test_member_mutation_permissions(api, lab, mutation, caller):
    document, variables, members_after = MUTATIONS[mutation]
    expected = None if caller == ALLOWED[mutation] else "FORBIDDEN"
    if caller == "anonymous":
        expected = "UNAUTHENTICATED"
    username = CALLERS[caller]
    client = api.signed_in(lab[username]) if username else api
    before = await team_rows()

    if expected is None:
        data = await client.execute(document, {"input": variables})
        assert data[mutation]["errors"] == []
        assert await members_of("lab") == members_after
    else:
        error = await client.error(document, {"input": variables})
        assert error["extensions"]["code"] == expected
        assert error["path"] == [mutation]
        assert await team_rows() == before


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        ("anonymous", "UNAUTHENTICATED"),
        ("non-member", "FORBIDDEN"),
        ("member", "FORBIDDEN"),
        ("team admin", "FORBIDDEN"),
        ("admin", None),
    ],
)
async def test_create_team_permissions(api, lab, caller, expected):
    username = CALLERS[caller]
    client = api.signed_in(lab[username]) if username else api
    variables = {"input": {"teamName": "new-team", "type": "WORK", "organizationName": "Acme"}}
    before = await team_rows()

    if expected is None:
        data = await client.execute(CREATE_TEAM, variables)
        assert data["createTeam"]["team"] == {"name": "new-team"}
    else:
        error = await client.error(CREATE_TEAM, variables)
        assert error["extensions"]["code"] == expected
        assert await team_rows() == before


async def test_anonymous_refusal_does_not_change_what_others_are_told(api, lab):
    variables = {"input": {"teamName": "new-team", "type": "WORK", "organizationName": "Acme"}}

    anonymous = await api.error(CREATE_TEAM, variables)
    signed_in = await api.signed_in(lab["eve"]).error(CREATE_TEAM, variables)

    assert anonymous["extensions"]["code"] == "UNAUTHENTICATED"
    assert signed_in["extensions"]["code"] == "FORBIDDEN"
    assert signed_in["message"] == "Only an administrator may do this."


@pytest.mark.parametrize("team_name", ["no-such-team", "x" * 500])
@pytest.mark.parametrize("mutation", TEAM_ADMINS_MUTATIONS)
async def test_unknown_team_is_refused_like_a_team_of_others(api, lab, mutation, team_name):
    document, variables, _ = MUTATIONS[mutation]
    before = await team_rows()

    error = await api.signed_in(lab["eve"]).error(
        document, {"input": {**variables, "teamName": team_name}}
    )

    assert error["extensions"]["code"] == "FORBIDDEN"
    assert team_name[:64] in error["message"]
    assert await team_rows() == before


@pytest.mark.parametrize("mutation", MUTATIONS)
async def test_unknown_team_is_not_found_for_an_admin(api, lab, mutation):
    document, variables, _ = MUTATIONS[mutation]

    data = await api.signed_in(lab["root"]).execute(
        document, {"input": {**variables, "teamName": "no-such-team"}}
    )

    assert data[mutation] == {"team": None, "errors": [{"code": "NOT_FOUND", "field": "teamName"}]}


# addTeamMember


async def test_site_admin_adds_a_member_with_a_role(api, lab):
    data = await api.signed_in(lab["root"]).execute(
        ADD_MEMBER, {"input": {"teamName": "LAB", "username": "NewBie", "role": "ADMIN"}}
    )

    assert data["addTeamMember"]["errors"] == []
    assert data["addTeamMember"]["team"]["memberCount"] == 4
    assert {"profile": {"username": "newbie"}, "role": "ADMIN"} in data["addTeamMember"]["team"][
        "members"
    ]
    assert (await members_of("lab"))["newbie"] == "ADMIN"


async def test_add_member_with_null_role_adds_a_member(api, lab):
    await api.signed_in(lab["root"]).execute(
        ADD_MEMBER, {"input": {"teamName": "lab", "username": "newbie", "role": None}}
    )

    assert (await members_of("lab"))["newbie"] == "MEMBER"


async def test_add_member_twice_already_exists(api, lab):
    before = await team_rows()

    data = await api.signed_in(lab["root"]).execute(
        ADD_MEMBER, {"input": {"teamName": "lab", "username": "MEM", "role": "ADMIN"}}
    )

    assert data["addTeamMember"] == {
        "team": None,
        "errors": [{"code": "ALREADY_EXISTS", "field": "username"}],
    }
    assert await team_rows() == before


async def test_concurrent_adds_of_one_member_add_it_once(api, lab):
    client = api.signed_in(lab["root"])

    answers = await asyncio.gather(
        *(
            client.execute(ADD_MEMBER, {"input": {"teamName": "lab", "username": "newbie"}})
            for _ in range(10)
        )
    )

    errors = sorted(str(a["addTeamMember"]["errors"]) for a in answers)
    assert errors.count("[]") == 1
    assert errors.count(str([{"code": "ALREADY_EXISTS", "field": "username"}])) == 9
    assert await TeamMember.filter(team__name="lab", user__username="newbie").count() == 1


@pytest.mark.parametrize("username", ["nobody", "x" * 500])
@pytest.mark.parametrize("mutation", MUTATIONS)
async def test_unknown_username_is_not_found(api, lab, mutation, username):
    document, variables, _ = MUTATIONS[mutation]
    before = await team_rows()

    data = await api.signed_in(lab[manager(mutation)]).execute(
        document, {"input": {**variables, "username": username}}
    )

    assert data[mutation] == {"team": None, "errors": [{"code": "NOT_FOUND", "field": "username"}]}
    assert await team_rows() == before


async def test_adding_a_team_as_a_member_is_not_found(api, lab):
    await make_team("other", lab["eve"])

    data = await api.signed_in(lab["root"]).execute(
        ADD_MEMBER, {"input": {"teamName": "lab", "username": "other"}}
    )

    assert data["addTeamMember"]["errors"] == [{"code": "NOT_FOUND", "field": "username"}]


@pytest.mark.parametrize("mutation", ["updateTeamMember", "removeTeamMember"])
async def test_changing_a_non_member_is_not_found(api, lab, mutation):
    document, variables, _ = MUTATIONS[mutation]
    before = await team_rows()

    data = await api.signed_in(lab["ada"]).execute(
        document, {"input": {**variables, "username": "eve"}}
    )

    assert data[mutation]["errors"] == [{"code": "NOT_FOUND", "field": "username"}]
    assert await team_rows() == before


# updateTeamMember and the last admin


async def test_team_admin_promotes_and_demotes(api, lab):
    client = api.signed_in(lab["ada"])

    await client.execute(
        UPDATE_MEMBER, {"input": {"teamName": "lab", "username": "mem", "role": "ADMIN"}}
    )
    data = await client.execute(
        UPDATE_MEMBER, {"input": {"teamName": "lab", "username": "ada", "role": "MEMBER"}}
    )

    assert data["updateTeamMember"]["errors"] == []
    assert await members_of("lab") == {"ada": "MEMBER", "mem": "ADMIN", "mem2": "MEMBER"}


async def test_last_admin_cannot_be_demoted(api, lab):
    before = await team_rows()

    data = await api.signed_in(lab["ada"]).execute(
        UPDATE_MEMBER, {"input": {"teamName": "lab", "username": "ada", "role": "MEMBER"}}
    )

    assert data["updateTeamMember"] == {
        "team": None,
        "errors": [{"code": "CONFLICT", "field": "username"}],
    }
    assert await team_rows() == before


async def test_sole_member_cannot_demote_itself(api, db):
    ada = await sign_up("ada")
    await make_team("solo", ada)

    data = await api.signed_in(ada).execute(
        UPDATE_MEMBER, {"input": {"teamName": "solo", "username": "ada", "role": "MEMBER"}}
    )

    assert data["updateTeamMember"]["errors"] == [{"code": "CONFLICT", "field": "username"}]
    assert await members_of("solo") == {"ada": "ADMIN"}


@pytest.mark.parametrize("round", range(3))
async def test_admins_stepping_down_at_once_leave_one_admin(api, db, round):
    admins = [await sign_up(f"admin{i}") for i in range(8)]
    await make_team("lab", *admins)
    await TeamMember.filter(team__name="lab").update(role="ADMIN")

    answers = await asyncio.gather(
        *(
            api.signed_in(admin).execute(
                UPDATE_MEMBER,
                {"input": {"teamName": "lab", "username": admin.user.username, "role": "MEMBER"}},
            )
            for admin in admins
        )
    )

    outcomes = sorted(str(a["updateTeamMember"]["errors"]) for a in answers)
    assert outcomes == ["[]"] * 7 + [str([{"code": "CONFLICT", "field": "username"}])]
    assert sorted((await members_of("lab")).values()) == ["ADMIN"] + ["MEMBER"] * 7


# removeTeamMember, leaving


async def test_last_admin_cannot_be_removed_while_others_remain(api, lab):
    before = await team_rows()

    data = await api.signed_in(lab["ada"]).execute(
        REMOVE_MEMBER, {"input": {"teamName": "lab", "username": "ada"}}
    )

    assert data["removeTeamMember"] == {
        "team": None,
        "errors": [{"code": "CONFLICT", "field": "username"}],
    }
    assert await team_rows() == before


async def test_the_last_member_is_told_to_delete_the_team_instead(api, db):
    ada = await sign_up("ada")
    await make_team("solo", ada)
    before = await team_rows()

    data = await api.signed_in(ada).execute(
        REMOVE_MEMBER, {"input": {"teamName": "solo", "username": "ada"}}
    )

    assert data["removeTeamMember"] == {
        "team": None,
        "errors": [{"code": "CONFLICT", "field": "username"}],
    }
    assert await team_rows() == before


async def test_the_last_members_refusal_names_the_way_out(api, db):
    ada = await sign_up("ada")
    await make_team("solo", ada)

    data = await api.signed_in(ada).execute(
        'mutation { removeTeamMember(input: {teamName: "solo", username: "ada"}) '
        "{ errors { message } } }"
    )

    assert data["removeTeamMember"]["errors"] == [
        {"message": "'ada' is the last member of solo: delete the team instead."}
    ]


DELETE_TEAM = """
mutation Delete($name: String!) {
  deleteTeam(input: {teamName: $name}) { success errors { code field } }
}
"""


async def test_team_admin_deletes_the_team_and_its_name_stays_taken(api, lab):
    mem = api.signed_in(lab["mem"])
    await mem.execute(SET_DEFAULT_ENTITY, {"name": "lab"})

    data = await api.signed_in(lab["ada"]).execute(DELETE_TEAM, {"name": "lab"})
    again = await api.signed_in(lab["root"]).execute(
        CREATE_TEAM, {"input": {"teamName": "lab", "type": "WORK", "organizationName": "O"}}
    )

    assert data["deleteTeam"] == {"success": True, "errors": []}
    assert await members_of("lab") == {}
    assert (await mem.execute(PROJECT_DEFAULTS))["viewer"]["projectDefaults"]["entity"] == {
        "name": "mem",
        "isTeam": False,
    }
    assert (await api.execute('{ team(name: "lab") { name } }'))["team"] is None
    assert again["createTeam"]["team"] is None
    assert (await team_rows())["entities"].count(("lab", True)) == 1


@pytest.mark.parametrize("caller", ["mem", "eve", "root"])
async def test_only_a_team_admin_deletes_a_team(api, lab, caller):
    before = await team_rows()

    error = await api.signed_in(lab[caller]).error(DELETE_TEAM, {"name": "lab"})

    assert error["extensions"]["code"] == "FORBIDDEN"
    assert await team_rows() == before


async def test_a_deleted_team_cannot_be_deleted_again(api, lab):
    await api.signed_in(lab["ada"]).execute(DELETE_TEAM, {"name": "lab"})

    error = await api.signed_in(lab["ada"]).error(DELETE_TEAM, {"name": "lab"})

    assert error["extensions"]["code"] == "FORBIDDEN"


async def test_an_admin_may_leave_when_another_admin_remains(api, lab):
    await TeamMember.filter(team__name="lab", user=lab["mem"].user).update(role="ADMIN")

    data = await api.signed_in(lab["ada"]).execute(
        REMOVE_MEMBER, {"input": {"teamName": "lab", "username": "ada"}}
    )

    assert data["removeTeamMember"]["errors"] == []
    assert await members_of("lab") == {"mem": "ADMIN", "mem2": "MEMBER"}


async def test_member_may_leave(api, lab):
    data = await api.signed_in(lab["mem"]).execute(
        REMOVE_MEMBER, {"input": {"teamName": "lab", "username": "MEM"}}
    )

    assert data["removeTeamMember"] == {
        "team": {
            "name": "lab",
            "memberCount": 2,
            "members": [
                {"profile": {"username": "ada"}, "role": "ADMIN"},
                {"profile": {"username": "mem2"}, "role": "MEMBER"},
            ],
        },
        "errors": [],
    }
    assert await members_of("lab") == {"ada": "ADMIN", "mem2": "MEMBER"}


async def test_non_member_cannot_leave(api, lab):
    before = await team_rows()

    error = await api.signed_in(lab["eve"]).error(
        REMOVE_MEMBER, {"input": {"teamName": "lab", "username": "eve"}}
    )

    assert error["extensions"]["code"] == "FORBIDDEN"
    assert await team_rows() == before


async def test_leaving_the_default_team_falls_back_to_own_entity(api, lab):
    mem = api.signed_in(lab["mem"])
    await mem.execute(SET_DEFAULT_ENTITY, {"name": "lab"})
    assert (await mem.execute(PROJECT_DEFAULTS))["viewer"]["projectDefaults"]["entity"] == {
        "name": "lab",
        "isTeam": True,
    }

    await mem.execute(REMOVE_MEMBER, {"input": {"teamName": "lab", "username": "mem"}})

    data = await mem.execute(PROJECT_DEFAULTS)
    assert data["viewer"]["projectDefaults"]["entity"] == {"name": "mem", "isTeam": False}
    assert (await default_entities())["mem"] == "mem"


async def test_removed_member_default_team_falls_back_to_own_entity(api, lab):
    await api.signed_in(lab["mem"]).execute(SET_DEFAULT_ENTITY, {"name": "lab"})
    await api.signed_in(lab["mem2"]).execute(SET_DEFAULT_ENTITY, {"name": "lab"})

    await api.signed_in(lab["ada"]).execute(
        REMOVE_MEMBER, {"input": {"teamName": "lab", "username": "mem"}}
    )

    defaults = await default_entities()
    assert defaults["mem"] == "mem"
    assert defaults["mem2"] == "lab"


async def test_refused_removal_keeps_the_default_team(api, lab):
    await api.signed_in(lab["ada"]).execute(SET_DEFAULT_ENTITY, {"name": "lab"})

    data = await api.signed_in(lab["ada"]).execute(
        REMOVE_MEMBER, {"input": {"teamName": "lab", "username": "ada"}}
    )

    assert data["removeTeamMember"]["errors"] == [{"code": "CONFLICT", "field": "username"}]
    assert (await default_entities())["ada"] == "lab"


async def test_payloads_of_several_mutations_in_one_document_are_current(api, lab):
    document = """
    mutation {
      first: updateTeamMember(input: {teamName: "lab", username: "mem2", role: ADMIN}) {
        team { memberCount members { role } }
      }
      second: removeTeamMember(input: {teamName: "lab", username: "mem2"}) {
        team { memberCount members { role } }
      }
    }
    """

    data = await api.signed_in(lab["ada"]).execute(document)

    assert data == {
        "first": {
            "team": {
                "memberCount": 3,
                "members": [{"role": "ADMIN"}, {"role": "MEMBER"}, {"role": "ADMIN"}],
            }
        },
        "second": {"team": {"memberCount": 2, "members": [{"role": "ADMIN"}, {"role": "MEMBER"}]}},
    }


async def test_a_member_changes_answer_with_the_viewers_role_as_it_is_now(api):
    ada, bob = await sign_up("ada"), await sign_up("bob")
    await make_team("lab", ada, bob)
    client = api.signed_in(ada)
    update = UPDATE_MEMBER.replace(TEAM_FIELDS, "team { viewerRole } errors { code }")
    remove = REMOVE_MEMBER.replace(TEAM_FIELDS, "team { viewerRole } errors { code }")

    promoted = await client.execute(
        update, {"input": {"teamName": "lab", "username": "bob", "role": "ADMIN"}}
    )
    stepped_down = await client.execute(
        update, {"input": {"teamName": "lab", "username": "ada", "role": "MEMBER"}}
    )
    left = await client.execute(remove, {"input": {"teamName": "lab", "username": "ada"}})

    assert promoted["updateTeamMember"] == {"team": {"viewerRole": "ADMIN"}, "errors": []}
    assert stepped_down["updateTeamMember"] == {"team": {"viewerRole": "MEMBER"}, "errors": []}
    assert left["removeTeamMember"] == {"team": {"viewerRole": None}, "errors": []}
