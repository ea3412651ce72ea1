"""createTeam, team(name), organizations, viewer.teams and Profile.teams."""

from __future__ import annotations

import asyncio

import pytest
from tortoise import connections

from api.cost import LIST_BOUND
from models.entity import Entity
from models.team import (
    ORGANIZATION_NAME_STATISTICS_SQL,
    ORGANIZATION_PREFIX_INDEX_SQL,
    Organization,
    Team,
    TeamMember,
    TeamType,
)
from resolvers.teams import organizations_matching
from tests.support.helpers import set_rate_limits, sign_up
from tests.support.team_helpers import make_team, members_of, team_rows

CREATE_TEAM = """
mutation CreateTeam($input: CreateTeamInput!) {
  createTeam(input: $input) {
    team {
      name
      type
      organization { name }
      memberCount
      members { profile { username } role }
      viewerRole
    }
    errors { code field }
  }
}
"""

TEAM = """
query Team($name: String!) {
  team(name: $name) {
    id
    name
    type
    createdAt
    organization { id name }
    memberCount
    members { profile { username } role joinedAt }
    viewerRole
  }
}
"""

ORGANIZATIONS = """
query Organizations($search: String, $first: Int) {
  organizations(search: $search, first: $first) { name }
}
"""

ORGANIZATIONS_DEFAULT_FIRST = """
query Organizations { organizations { name } }
"""

VIEWER_TEAMS = """
{
  viewer {
    teams { edges { node { name viewerRole } } }
    availableEntities { name isTeam }
  }
}
"""

PROFILE_TEAMS = """
query Profile($username: String!) {
  user(username: $username) {
    teams { name memberCount members { profile { username } } }
  }
}
"""


def new_team(name: str = "ml-lab", **fields: object) -> dict[str, object]:
    return {"input": {"teamName": name, "type": "WORK", "organizationName": "Acme", **fields}}


async def test_admin_creates_team_as_its_first_admin(api):
    root = await sign_up("root", admin=True)

    data = await api.signed_in(root).execute(CREATE_TEAM, new_team("ml-lab", type="ACADEMIC"))

    assert data["createTeam"] == {
        "team": {
            "name": "ml-lab",
            "type": "ACADEMIC",
            "organization": {"name": "Acme"},
            "memberCount": 1,
            "members": [{"profile": {"username": "root"}, "role": "ADMIN"}],
            "viewerRole": "ADMIN",
        },
        "errors": [],
    }
    assert await team_rows() == {
        "entities": [("ml-lab", True), ("root", False)],
        "teams": [("ml-lab", TeamType.ACADEMIC, "Acme")],
        "members": [("ml-lab", "root", "ADMIN")],
        "organizations": [("Acme", "acme")],
        "defaults": [("root", "root")],
    }


async def test_create_team_with_team_admin_user_name(api):
    root = await sign_up("root", admin=True)
    await sign_up("ada")

    data = await api.signed_in(root).execute(
        CREATE_TEAM, new_team("ml-lab", teamAdminUserName="ADA")
    )

    team = data["createTeam"]["team"]
    assert team["members"] == [{"profile": {"username": "ada"}, "role": "ADMIN"}]
    assert team["viewerRole"] is None
    assert await members_of("ml-lab") == {"ada": "ADMIN"}


async def test_create_team_unknown_team_admin_is_not_found(api):
    root = await sign_up("root", admin=True)
    before = await team_rows()

    data = await api.signed_in(root).execute(
        CREATE_TEAM, new_team("ml-lab", teamAdminUserName="nobody")
    )

    assert data["createTeam"] == {
        "team": None,
        "errors": [{"code": "NOT_FOUND", "field": "teamAdminUserName"}],
    }
    assert await team_rows() == before


async def test_create_team_reuses_organization_by_name_case_insensitively(api):
    root = await sign_up("root", admin=True)
    await make_team("first", root, organization="Acme Corp")

    data = await api.signed_in(root).execute(
        CREATE_TEAM, new_team("second", organizationName="  aCME corp ")
    )

    assert data["createTeam"]["team"]["organization"] == {"name": "Acme Corp"}
    assert await Organization.all().count() == 1
    assert await Team.filter(organization__name="Acme Corp").count() == 2


async def test_create_team_with_organization_id(api):
    root = await sign_up("root", admin=True)
    acme = await Organization.create(name="Acme", name_key="acme")

    data = await api.signed_in(root).execute(
        CREATE_TEAM,
        {"input": {"teamName": "ml-lab", "type": "WORK", "organizationId": str(acme.id)}},
    )

    assert data["createTeam"]["team"]["organization"] == {"name": "Acme"}
    assert await Team.filter(name="ml-lab", organization_id=acme.id).exists()


@pytest.mark.parametrize(
    "organization_id", ["999999", "not-a-number", "99999999999999999999", "²", "٣"]
)
async def test_create_team_unknown_organization_id_is_not_found(api, organization_id):
    root = await sign_up("root", admin=True)
    before = await team_rows()

    data = await api.signed_in(root).execute(
        CREATE_TEAM,
        {"input": {"teamName": "ml-lab", "type": "WORK", "organizationId": organization_id}},
    )

    assert data["createTeam"]["errors"] == [{"code": "NOT_FOUND", "field": "organizationId"}]
    assert await team_rows() == before


async def test_create_team_without_an_organization_as_wandb_sends_it(api):
    root = await sign_up("root", admin=True)

    data = await api.signed_in(root).execute(CREATE_TEAM, {"input": {"teamName": "ml-lab"}})

    assert data["createTeam"]["errors"] == []
    assert data["createTeam"]["team"]["type"] == "WORK"
    assert data["createTeam"]["team"]["organization"] is None
    assert (await team_rows())["teams"] == [("ml-lab", "WORK", None)]


@pytest.mark.parametrize(
    "organization",
    [{"organizationId": "1", "organizationName": "Acme"}, {"organizationName": "   "}],
    ids=["both", "blank-name"],
)
async def test_create_team_takes_at_most_one_organization_choice(api, organization):
    root = await sign_up("root", admin=True)
    await Organization.create(id=1, name="Acme", name_key="acme")
    before = await team_rows()

    data = await api.signed_in(root).execute(
        CREATE_TEAM, {"input": {"teamName": "ml-lab", "type": "WORK", **organization}}
    )

    assert data["createTeam"] == {
        "team": None,
        "errors": [{"code": "INVALID", "field": "organizationName"}],
    }
    assert await team_rows() == before


@pytest.mark.parametrize("organization_name", ["A" * 129, "Acme\nCorp", "Acme\x00"])
async def test_create_team_refuses_a_bad_organization_name(api, organization_name):
    root = await sign_up("root", admin=True)
    before = await team_rows()

    data = await api.signed_in(root).execute(
        CREATE_TEAM, new_team("ml-lab", organizationName=organization_name)
    )

    assert data["createTeam"] == {
        "team": None,
        "errors": [{"code": "INVALID", "field": "organizationName"}],
    }
    assert await team_rows() == before


@pytest.mark.parametrize(
    "name", ["ab", "a" * 65, "ml lab", "ml.lab", "ml/lab", "émile", "ml\u200blab", ""]
)
async def test_create_team_refuses_a_bad_name(api, name):
    root = await sign_up("root", admin=True)
    before = await team_rows()

    data = await api.signed_in(root).execute(CREATE_TEAM, new_team(name))

    assert data["createTeam"] == {
        "team": None,
        "errors": [{"code": "INVALID", "field": "teamName"}],
    }
    assert await team_rows() == before


@pytest.mark.parametrize("name", ["abc", "a" * 64, "ML_lab-2", "-_-"])
async def test_create_team_accepts_a_good_name(api, name):
    root = await sign_up("root", admin=True)

    data = await api.signed_in(root).execute(CREATE_TEAM, new_team(name))

    assert data["createTeam"]["errors"] == []
    assert data["createTeam"]["team"]["name"] == name


async def test_create_team_reports_every_bad_field(api):
    root = await sign_up("root", admin=True)

    data = await api.signed_in(root).execute(
        CREATE_TEAM, {"input": {"teamName": "x", "type": "WORK", "organizationName": " "}}
    )

    assert data["createTeam"]["errors"] == [
        {"code": "INVALID", "field": "teamName"},
        {"code": "INVALID", "field": "organizationName"},
    ]


@pytest.mark.parametrize("taken", ["Ada", "ML-Lab"], ids=["username", "team"])
async def test_create_team_name_taken_case_insensitively(api, taken):
    root = await sign_up("root", admin=True)
    await sign_up("ada")
    await make_team("ml-lab", root)
    before = await team_rows()

    data = await api.signed_in(root).execute(CREATE_TEAM, new_team(taken))

    assert data["createTeam"] == {
        "team": None,
        "errors": [{"code": "ALREADY_EXISTS", "field": "teamName"}],
    }
    assert await team_rows() == before


async def test_create_team_name_taken_leaves_no_new_organization(api):
    root = await sign_up("root", admin=True)

    data = await api.signed_in(root).execute(
        CREATE_TEAM, new_team("root", organizationName="Brand New")
    )

    assert data["createTeam"]["errors"] == [{"code": "ALREADY_EXISTS", "field": "teamName"}]
    assert await Organization.all().count() == 0


async def test_concurrent_create_team_for_one_name_makes_one_team(api, monkeypatch):
    set_rate_limits(monkeypatch, {"teams.account": "100/hour", "teams.address": "100/hour"})
    root = await sign_up("root", admin=True)
    client = api.signed_in(root)
    names = ["race", "Race", "RACE", "rAcE", "race"] * 10

    answers = await asyncio.gather(
        *(client.execute(CREATE_TEAM, new_team(name, organizationName="Acme")) for name in names)
    )

    results = [a["createTeam"] for a in answers]
    created = [r for r in results if r["team"] is not None]
    refused = [r for r in results if r["team"] is None]
    assert len(created) == 1
    assert created[0]["errors"] == []
    assert len(refused) == 49
    assert all(r["errors"] == [{"code": "ALREADY_EXISTS", "field": "teamName"}] for r in refused)
    assert await Entity.filter(name_key="race").count() == 1
    assert await Team.all().count() == 1
    assert await TeamMember.all().count() == 1
    assert await Organization.all().count() == 1


async def test_concurrent_create_team_with_one_new_organization_shares_it(api, monkeypatch):
    set_rate_limits(monkeypatch, {"teams.account": "100/hour", "teams.address": "100/hour"})
    root = await sign_up("root", admin=True)
    client = api.signed_in(root)

    answers = await asyncio.gather(
        *(
            client.execute(CREATE_TEAM, new_team(f"team-{i}", organizationName="New Org"))
            for i in range(20)
        )
    )

    assert all(a["createTeam"]["errors"] == [] for a in answers)
    assert [o.name for o in await Organization.all()] == ["New Org"]
    assert await Team.filter(organization__name="New Org").count() == 20


async def test_team_is_visible_to_members_and_admins(api):
    ada, bob, root = await sign_up("ada"), await sign_up("bob"), await sign_up("root", admin=True)
    await make_team("ml-lab", ada, bob, organization="Acme")

    as_ada = await api.signed_in(ada).execute(TEAM, {"name": "ML-LAB"})
    as_bob = await api.signed_in(bob).execute(TEAM, {"name": "ml-lab"})
    as_root = await api.signed_in(root).execute(TEAM, {"name": "ml-lab"})

    team = as_ada["team"]
    assert team["name"] == "ml-lab"
    assert team["type"] == "WORK"
    assert team["organization"]["name"] == "Acme"
    assert team["memberCount"] == 2
    assert [(m["profile"]["username"], m["role"]) for m in team["members"]] == [
        ("ada", "ADMIN"),
        ("bob", "MEMBER"),
    ]
    assert team["createdAt"].endswith("+00:00")
    assert team["viewerRole"] == "ADMIN"
    assert as_bob["team"]["viewerRole"] == "MEMBER"
    assert as_root["team"]["viewerRole"] is None
    assert as_root["team"]["members"] == team["members"]


TEAM_ORGANIZATIONS = """
query Organizations($username: String!, $name: String!) {
  viewer { teams { edges { node { name organization { id name } } } } }
  user(username: $username) { teams { name organization { id name } } }
  team(name: $name) { name organization { id name } }
}
"""


async def test_a_teams_organization_is_the_same_however_the_team_is_reached(api):
    ada, bob = await sign_up("ada"), await sign_up("bob")
    lab = await make_team("lab", ada, bob, organization="Acme")
    await make_team("ops", bob, ada)  # a team without an organization, as older rows may be
    acme = {"id": str(lab.organization_id), "name": "Acme"}

    seen = [
        await api.signed_in(ada).execute(TEAM_ORGANIZATIONS, {"username": "bob", "name": name})
        for name in ("lab", "ops")
    ]

    teams = [{"name": "lab", "organization": acme}, {"name": "ops", "organization": None}]
    for answer in seen:
        assert [edge["node"] for edge in answer["viewer"]["teams"]["edges"]] == teams
        assert answer["user"]["teams"] == teams
    assert [answer["team"] for answer in seen] == teams


@pytest.mark.parametrize("name", ["ml-lab", "no-such-team", "ada"])
async def test_team_is_null_for_everyone_else(api, name):
    ada, eve = await sign_up("ada"), await sign_up("eve")
    await make_team("ml-lab", ada)

    anonymous = await api.execute(TEAM, {"name": name})
    outsider = await api.signed_in(eve).execute(TEAM, {"name": name})

    assert anonymous == {"team": None}
    assert outsider == {"team": None}


async def test_organizations_match_a_prefix_case_insensitively(api):
    root = await sign_up("root", admin=True)
    for name in ["Acme", "ACME Labs", "Acorn", "Beta", "xAcme", "Ácme"]:
        await Organization.create(name=name, name_key=name.casefold())
    client = api.signed_in(root)

    ac = await client.execute(ORGANIZATIONS, {"search": "ac"})
    acme = await client.execute(ORGANIZATIONS, {"search": " ACME"})
    accented = await client.execute(ORGANIZATIONS, {"search": "á"})
    everything = await client.execute(ORGANIZATIONS, {"search": ""})
    nothing = await client.execute(ORGANIZATIONS, {"search": "zz"})
    too_long = await client.execute(ORGANIZATIONS, {"search": "a" * 500})

    assert [o["name"] for o in ac["organizations"]] == ["Acme", "ACME Labs", "Acorn"]
    assert [o["name"] for o in acme["organizations"]] == ["Acme", "ACME Labs"]
    assert [o["name"] for o in accented["organizations"]] == ["Ácme"]
    assert len(everything["organizations"]) == 6
    assert nothing["organizations"] == []
    assert too_long["organizations"] == []


async def test_organizations_search_treats_wildcards_as_text(api):
    root = await sign_up("root", admin=True)
    for name in ["a_b", "axb", "a%c", "abc", "a\\d"]:
        await Organization.create(name=name, name_key=name)
    client = api.signed_in(root)

    underscore = await client.execute(ORGANIZATIONS, {"search": "a_"})
    percent = await client.execute(ORGANIZATIONS, {"search": "a%"})
    backslash = await client.execute(ORGANIZATIONS, {"search": "a\\"})

    assert underscore["organizations"] == [{"name": "a_b"}]
    assert percent["organizations"] == [{"name": "a%c"}]
    assert backslash["organizations"] == [{"name": "a\\d"}]


@pytest.mark.parametrize(
    ("first", "expected"), [(None, 20), (5, 5), (100, 100), (101, 100), (10_000, 100), (0, 0)]
)
async def test_organizations_first_is_capped_at_100(api, first, expected):
    root = await sign_up("root", admin=True)
    await Organization.bulk_create(
        Organization(name=f"Org {i:03}", name_key=f"org {i:03}") for i in range(120)
    )
    client = api.signed_in(root)

    if first is None:
        data = await client.execute(ORGANIZATIONS_DEFAULT_FIRST)
    else:
        data = await client.execute(ORGANIZATIONS, {"search": "org", "first": first})

    names = [o["name"] for o in data["organizations"]]
    assert names == [f"Org {i:03}" for i in range(expected)]


async def test_organizations_need_a_signed_in_caller(api):
    await Organization.create(name="Acme", name_key="acme")

    error = await api.error(ORGANIZATIONS, {"search": "a"})

    assert error["extensions"]["code"] == "UNAUTHENTICATED"


async def test_viewer_teams_and_available_entities_by_name(api):
    ada, bob = await sign_up("ada"), await sign_up("bob")
    await make_team("zeta", ada)
    await make_team("Alpha", bob, ada)
    await make_team("beta", bob)

    data = await api.signed_in(ada).execute(VIEWER_TEAMS)

    assert data["viewer"] == {
        "teams": {
            "edges": [
                {"node": {"name": "Alpha", "viewerRole": "MEMBER"}},
                {"node": {"name": "zeta", "viewerRole": "ADMIN"}},
            ]
        },
        "availableEntities": [
            {"name": "ada", "isTeam": False},
            {"name": "Alpha", "isTeam": True},
            {"name": "zeta", "isTeam": True},
        ],
    }


async def test_profile_lists_teams_unless_hidden(api):
    ada, bob, eve = await sign_up("ada"), await sign_up("bob"), await sign_up("eve")
    await make_team("ml-lab", ada, bob)
    await make_team("vision", bob)

    shown = await api.signed_in(eve).execute(PROFILE_TEAMS, {"username": "bob"})
    await api.signed_in(bob).execute(
        "mutation { updateUser(input: {hideTeamsFromPublic: true}) { errors { code } } }"
    )
    hidden = await api.signed_in(eve).execute(PROFILE_TEAMS, {"username": "bob"})
    hidden_anonymous = await api.execute(PROFILE_TEAMS, {"username": "bob"})

    assert [t["name"] for t in shown["user"]["teams"]] == ["ml-lab", "vision"]
    assert hidden == {"user": {"teams": []}}
    assert hidden_anonymous == {"user": {"teams": []}}


async def test_public_team_lists_only_members_who_show_their_teams(api):
    ada, bob, eve = await sign_up("ada"), await sign_up("bob"), await sign_up("eve")
    await make_team("ml-lab", ada, bob)
    await api.signed_in(bob).execute(
        "mutation { updateUser(input: {hideTeamsFromPublic: true}) { errors { code } } }"
    )

    outsider = await api.signed_in(eve).execute(PROFILE_TEAMS, {"username": "ada"})
    member = await api.signed_in(ada).execute(PROFILE_TEAMS, {"username": "ada"})

    assert outsider["user"]["teams"] == [
        {"name": "ml-lab", "memberCount": 1, "members": [{"profile": {"username": "ada"}}]}
    ]
    assert member["user"]["teams"][0]["memberCount"] == 2
    assert [m["profile"]["username"] for m in member["user"]["teams"][0]["members"]] == [
        "ada",
        "bob",
    ]


async def test_a_public_profiles_team_lists_as_many_members_as_a_list_is_priced_at(api):
    ada, eve = await sign_up("ada"), await sign_up("eve")
    others = [await sign_up(f"member{n:03}") for n in range(LIST_BOUND + 5)]
    await make_team("big-lab", ada, *others)

    outsider = await api.signed_in(eve).execute(PROFILE_TEAMS, {"username": "ada"})
    member = await api.signed_in(ada).execute(PROFILE_TEAMS, {"username": "ada"})

    [seen_outside] = outsider["user"]["teams"]
    [seen_inside] = member["user"]["teams"]
    assert seen_outside["memberCount"] == seen_inside["memberCount"] == LIST_BOUND + 6
    assert len(seen_outside["members"]) == LIST_BOUND
    assert len(seen_inside["members"]) == LIST_BOUND + 6


async def test_organization_prefix_search_is_an_index_range_scan_on_postgres(db):
    if db.kind != "postgres":
        pytest.skip("the pattern index is PostgreSQL's; SQLite does without")
    connection = connections.get("default")
    # Created exactly as the migrations create it.
    await connection.execute_script(ORGANIZATION_PREFIX_INDEX_SQL)
    await connection.execute_script(ORGANIZATION_NAME_STATISTICS_SQL)
    await connection.execute_query(
        "INSERT INTO organization (name, name_key, created_at) "
        "SELECT 'Org ' || i, 'org ' || i, now() FROM generate_series(1, 200000) AS i"
    )
    await connection.execute_query("ANALYZE organization")

    plans = {}
    for search in ["Org 4242", "o", None]:
        sql = organizations_matching(search, 20).sql(params_inline=True)
        _, rows = await connection.execute_query(f"EXPLAIN {sql}")
        plans[search] = "\n".join(row["QUERY PLAN"] for row in rows)

    assert all("Seq Scan" not in plan for plan in plans.values()), plans
    assert "Index Scan using organization_name_key_prefix" in plans["Org 4242"], plans
    assert [o.name for o in await organizations_matching("ORG 4242", 20)] == [
        "Org 4242",
        *(f"Org 4242{i}" for i in range(10)),
    ]


MEMBER_PROFILES = """
query Members($name: String!) {
  team(name: $name) {
    members {
      profile { username name institution bio location websiteUrl photoUrl teams { name } }
      role
    }
  }
}
"""
PROFILE = """
query Profile($username: String!) {
  user(username: $username) {
    username name institution bio location websiteUrl photoUrl teams { name }
  }
}
"""


async def test_a_members_profile_is_the_profile_anyone_sees(api):
    ada, bob = await sign_up("ada"), await sign_up("bob")
    await make_team("ml-lab", ada, bob)
    await make_team("vision", bob)
    await api.signed_in(bob).execute(
        'mutation { updateUser(input: {bio: "Builds engines.", location: "Turin", '
        "hideTeamsFromPublic: true}) { errors { code } } }"
    )
    client = api.signed_in(ada)

    team = await client.execute(MEMBER_PROFILES, {"name": "ml-lab"})
    profiles = [await client.execute(PROFILE, {"username": u}) for u in ("ada", "bob")]

    members = team["team"]["members"]
    assert [m["profile"] for m in members] == [p["user"] for p in profiles]
    assert [m["role"] for m in members] == ["ADMIN", "MEMBER"]
    assert members[1]["profile"]["bio"] == "Builds engines."
    assert members[1]["profile"]["teams"] == []  # bob hides his teams
    assert members[0]["profile"]["teams"] == [{"name": "ml-lab"}]


async def test_a_public_profiles_teams_carry_the_viewers_role_in_each(api):
    ada, bob, eve = await sign_up("ada"), await sign_up("bob"), await sign_up("eve")
    await make_team("ml-lab", ada, bob, eve)
    await make_team("vision", bob)
    profile = 'query { user(username: "bob") { teams { name viewerRole } } }'

    as_eve = await api.signed_in(eve).execute(profile)
    anonymous = await api.execute(profile)

    assert as_eve["user"]["teams"] == [
        {"name": "ml-lab", "viewerRole": "MEMBER"},
        {"name": "vision", "viewerRole": None},
    ]
    assert [t["viewerRole"] for t in anonymous["user"]["teams"]] == [None, None]
