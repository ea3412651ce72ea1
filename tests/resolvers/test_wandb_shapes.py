"""W&B's shapes: viewer.entity, flags, deletedAt, the teams and apiKeys connections,
entity(name:), users(query:), serverInfo, createTeam's entity, generateApiKey's name."""

from __future__ import annotations

import json

from seed import seed_catalog
from tests.support.helpers import count_queries, sign_up
from tests.support.team_helpers import make_team

VIEWER = "{ viewer { entity flags deletedAt } }"
SET_BETA = "mutation { setBetaFeature(input: {key: $key, enabled: true}) { errors { code } } }"

TEAMS_PAGE = """
query($first: Int, $after: String) {
  viewer { teams(first: $first, after: $after) {
    totalCount edges { cursor node { name } } pageInfo { hasNextPage endCursor }
  } }
}
"""

KEYS_PAGE = """
query($first: Int, $after: String) {
  viewer { apiKeys(first: $first, after: $after) {
    edges { cursor node { name description } } pageInfo { hasNextPage endCursor }
  } }
}
"""

ENTITY = """
query($name: String!) {
  entity(name: $name) {
    id name isTeam entityType photoUrl available readOnly readOnlyAdmin privateOnly
    codeSavingEnabled defaultAccess isPaid storageBytes limits
    members { username name email role admin pending accountType apiKey }
  }
}
"""

USERS = """
query($query: String, $first: Int, $after: String) {
  users(query: $query, first: $first, after: $after) {
    edges { node { username email admin apiKeys { edges { node { name } } } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

GENERATE = """
mutation($input: GenerateApiKeyInput!) { generateApiKey(input: $input) {
  apiKey { name description } secret errors { field code } } }
"""

CREATE_TEAM = """
mutation($input: CreateTeamInput!) { createTeam(input: $input) {
  team { name type viewerRole } entity { name isTeam entityType members { username role } }
  errors { field code } } }
"""


async def test_viewer_entity_flags_and_deleted_at(api):
    await seed_catalog()
    ada = await sign_up("ada")
    client = api.signed_in(ada)
    await client.execute(SET_BETA.replace("$key", '"launch"'))

    data = await client.execute(VIEWER)

    assert data["viewer"] == {"entity": "ada", "flags": '{"launch": true}', "deletedAt": None}


async def test_viewer_entity_is_the_default_entity_of_new_projects(api):
    ada = await sign_up("ada")
    await make_team("lab", ada)
    client = api.signed_in(ada)
    update = 'mutation { updateProjectDefaults(input: {entityName: "lab"}) { errors { code } } }'
    await client.execute(update)

    data = await client.execute("{ viewer { entity } }")

    assert data["viewer"]["entity"] == "lab"


async def test_teams_are_paged_by_name_with_cursors(api):
    ada = await sign_up("ada")
    for name in ("c-team", "a-team", "b-team"):
        await make_team(name, ada)
    client = api.signed_in(ada)

    first = (await client.execute(TEAMS_PAGE, {"first": 2}))["viewer"]["teams"]
    after = first["pageInfo"]["endCursor"]
    rest = (await client.execute(TEAMS_PAGE, {"first": 2, "after": after}))["viewer"]["teams"]

    assert [e["node"]["name"] for e in first["edges"]] == ["a-team", "b-team"]
    assert first["totalCount"] == rest["totalCount"] == 3
    assert first["pageInfo"]["hasNextPage"] is True
    assert first["edges"][-1]["cursor"] == after
    assert [e["node"]["name"] for e in rest["edges"]] == ["c-team"]
    assert rest["pageInfo"]["hasNextPage"] is False


async def test_a_bad_cursor_or_page_size_is_refused(api):
    ada = await sign_up("ada")
    client = api.signed_in(ada)

    bad_cursor = await client.error(TEAMS_PAGE, {"after": "nonsense"})
    too_many = await client.error(KEYS_PAGE, {"first": 101})

    assert bad_cursor["extensions"]["code"] == "BAD_USER_INPUT"
    assert too_many["extensions"]["code"] == "BAD_USER_INPUT"


async def test_generate_api_key_with_only_a_description_is_named_after_it(api):
    ada = await sign_up("ada")
    client = api.signed_in(ada)

    described = await client.execute(GENERATE, {"input": {"description": "wandb on laptop"}})
    bare = await client.execute(GENERATE, {"input": {}})
    keys = (await client.execute(KEYS_PAGE, {"first": 1}))["viewer"]["apiKeys"]
    rest = await client.execute(KEYS_PAGE, {"after": keys["pageInfo"]["endCursor"]})

    # With no name given, the answer names the key by itself, as W&B's SDK reads it;
    # the stored name, listed after, is the label.
    assert described["generateApiKey"]["apiKey"] == {
        "name": described["generateApiKey"]["secret"],
        "description": "wandb on laptop",
    }
    assert bare["generateApiKey"]["apiKey"]["name"] == bare["generateApiKey"]["secret"]
    assert [e["node"]["name"] for e in keys["edges"]] == ["wandb on laptop"]
    assert keys["pageInfo"]["hasNextPage"] is True
    names = [e["node"]["name"] for e in rest["viewer"]["apiKeys"]["edges"]]
    assert names == [f"Key {bare['generateApiKey']['secret'][:8]}"]


async def test_entity_of_a_team_for_its_members_only(api):
    ada, bob, eve = await sign_up("ada"), await sign_up("bob"), await sign_up("eve")
    await make_team("lab", ada, bob)

    as_bob = (await api.signed_in(bob).execute(ENTITY, {"name": "LAB"}))["entity"]
    as_ada = (await api.signed_in(ada).execute(ENTITY, {"name": "lab"}))["entity"]
    as_eve = (await api.signed_in(eve).execute(ENTITY, {"name": "lab"}))["entity"]
    other_user = (await api.signed_in(eve).execute(ENTITY, {"name": "ada"}))["entity"]
    missing = (await api.signed_in(eve).execute(ENTITY, {"name": "nobody"}))["entity"]

    assert as_eve is None and other_user is None and missing is None
    assert {k: v for k, v in as_bob.items() if k not in ("id", "members")} == {
        "name": "lab",
        "isTeam": True,
        "entityType": "TEAM",
        "photoUrl": None,
        "available": False,
        "readOnly": False,
        "readOnlyAdmin": False,
        "privateOnly": False,
        "codeSavingEnabled": False,
        "defaultAccess": "PRIVATE",
        "isPaid": False,
        "storageBytes": 0,
        "limits": json.dumps({"storageBytes": 10**11}),
    }
    member = {"pending": False, "accountType": "USER", "apiKey": None}
    # Bob is a member, not an admin: he sees his own address only; Ada, an admin, both.
    assert as_bob["members"] == [
        {"username": "ada", "name": "Ada", "email": None, "role": "ADMIN", "admin": True, **member},
        {
            "username": "bob",
            "name": "Bob",
            "email": bob.user.email,
            "role": "MEMBER",
            "admin": False,
            **member,
        },
    ]
    assert [m["email"] for m in as_ada["members"]] == [ada.user.email, bob.user.email]


async def test_entity_of_the_viewer_itself(api):
    ada = await sign_up("ada")

    data = await api.signed_in(ada).execute(ENTITY, {"name": "ada"})

    assert data["entity"]["entityType"] == "USER"
    assert data["entity"]["defaultAccess"] == "PRIVATE"
    assert [(m["username"], m["role"], m["email"]) for m in data["entity"]["members"]] == [
        ("ada", "ADMIN", ada.user.email)
    ]


async def test_entity_members_cost_the_same_statements_for_any_team_size(api):
    ada = await sign_up("ada")
    small_members = [await sign_up(f"s{n}") for n in range(2)]
    large_members = [await sign_up(f"l{n}") for n in range(12)]
    await make_team("small", ada, *small_members)
    await make_team("large", ada, *large_members)
    client = api.signed_in(ada)

    with count_queries() as small:
        await client.execute(ENTITY, {"name": "small"})
    with count_queries() as large:
        await client.execute(ENTITY, {"name": "large"})

    assert len(small) == len(large), (small, large)


async def test_site_admins_search_users_by_username_or_email_prefix(api):
    root = await sign_up("root", admin=True)
    await sign_up("alice", email="alice@example.com")
    await sign_up("albert", email="bert@example.org")
    await sign_up("bob", email="al@example.net")
    client = api.signed_in(root)

    found = (await client.execute(USERS, {"query": "AL"}))["users"]
    page = (await client.execute(USERS, {"query": "al", "first": 1}))["users"]
    rest = await client.execute(USERS, {"query": "al", "after": page["pageInfo"]["endCursor"]})

    assert [e["node"]["username"] for e in found["edges"]] == ["albert", "alice", "bob"]
    assert [e["node"]["username"] for e in page["edges"]] == ["albert"]
    assert [e["node"]["username"] for e in rest["users"]["edges"]] == ["alice", "bob"]


async def test_users_is_for_site_admins_only(api):
    alice = await sign_up("alice")

    error = await api.signed_in(alice).error(USERS, {})

    assert error["extensions"]["code"] == "FORBIDDEN"


async def test_another_accounts_alerts_are_not_shown_to_a_site_admin(api):
    root = await sign_up("root", admin=True)
    await sign_up("alice")
    query = '{ users(query: "alice") { edges { node { alertSubscriptions { id } } } } }'

    error = await api.signed_in(root).error(query, {})

    assert error["extensions"]["code"] == "FORBIDDEN"


async def test_server_info_lists_the_beta_catalog(api):
    await seed_catalog()

    data = await api.execute("{ serverInfo { features { name isEnabled } } }")

    features = data["serverInfo"]["features"]
    assert len(features) == 3 and all(f["isEnabled"] for f in features)
    assert "launch" in {f["name"] for f in features}


async def test_create_team_defaults_to_work_and_answers_its_entity(api):
    root = await sign_up("root", admin=True)
    await sign_up("bob")
    team = {"teamName": "lab", "organizationName": "Acme", "teamAdminUserName": "bob"}

    data = await api.signed_in(root).execute(CREATE_TEAM, {"input": team})

    assert data["createTeam"] == {
        "team": {"name": "lab", "type": "WORK", "viewerRole": None},
        "entity": {
            "name": "lab",
            "isTeam": True,
            "entityType": "TEAM",
            "members": [{"username": "bob", "role": "ADMIN"}],
        },
        "errors": [],
    }
