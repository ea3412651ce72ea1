"""Look-alike names, through the running server: no team takes a twin of a taken name
(a Cyrillic letter, an invisible character, fullwidth letters), an organization named
as a twin of an existing one is that one, and a token naming a twin of a user signs
nobody in. Each refusal writes nothing (every table compared)."""

from __future__ import annotations

import pytest

from auth.tokens import issue_token
from models.team import Organization, Team
from tests.support.helpers import sign_up
from tests.support.rows import snapshot
from tests.support.team_helpers import make_team

CREATE_TEAM = """
mutation CreateTeam($input: CreateTeamInput!) {
  createTeam(input: $input) {
    team { name organization { name } }
    errors { code field }
  }
}
"""
ORGANIZATIONS = "query Organizations($search: String) { organizations(search: $search) { name } }"
VIEWER = "{ viewer { username } }"

#: Twins of "acme". At most 10 of them: createTeam's rate limit is 10 an hour an account.
TWINS = {
    "cyrillic-capital-a": "\u0410cme",
    "all-cyrillic-capitals": "\u0410\u0421\u041c\u0415",
    "zero-width-space": "acme\u200b",
    "soft-hyphen": "ac\u00adme",
    "word-joiner": "ac\u2060me",
    "fullwidth": "\uff41\uff43\uff4d\uff45",
    "mathematical-bold": "\U0001d41a\U0001d41c\U0001d426\U0001d41e",
}
#: Entity names no sign-up or createTeam makes today (both take ASCII only), as an
#: import or an older release could have written them, and the ASCII name each holds.
UNICODE_HOLDERS = {
    "\u0410cme": "ACME",
    "\uff4d\uff4c-\uff4c\uff41\uff42": "ml-lab",
    "data\u200bops": "dataops",
}


def new_team(name: str, organization: str = "Acme") -> dict[str, object]:
    return {"input": {"teamName": name, "type": "WORK", "organizationName": organization}}


@pytest.mark.attack("names")
@pytest.mark.parametrize("holder", ["team", "user"])
async def test_team_named_as_a_twin_of_a_taken_name_is_refused(api, count_as, holder):
    root = await sign_up("root", admin=True)
    if holder == "team":
        await make_team("acme", root, organization="Acme")
    else:
        await sign_up("acme")
    client = api.signed_in(root)
    before = await snapshot()

    answers = [
        (await client.execute(CREATE_TEAM, new_team(twin)))["createTeam"] for twin in TWINS.values()
    ]

    # Team names are ASCII letters, digits, '-' and '_' (resolvers/teams.py): a twin is
    # refused as such before its key is compared; the key is the wall behind (below).
    refused = {"team": None, "errors": [{"code": "INVALID", "field": "teamName"}]}
    assert answers == [refused] * len(TWINS)
    assert await snapshot() == before
    count_as("attacks", len(TWINS))


@pytest.mark.attack("names")
@pytest.mark.parametrize("holder", ["team", "user"])
async def test_team_named_like_a_unicode_name_it_imitates_is_taken(api, count_as, holder):
    root = await sign_up("root", admin=True)
    for name in UNICODE_HOLDERS:
        if holder == "team":
            await make_team(name, root)
        else:
            await sign_up(name)
    client = api.signed_in(root)
    before = await snapshot()

    answers = [
        (await client.execute(CREATE_TEAM, new_team(ascii_name)))["createTeam"]
        for ascii_name in UNICODE_HOLDERS.values()
    ]

    taken = {"team": None, "errors": [{"code": "ALREADY_EXISTS", "field": "teamName"}]}
    assert answers == [taken] * len(UNICODE_HOLDERS)
    assert await snapshot() == before
    count_as("attacks", len(UNICODE_HOLDERS))


ORGANIZATION_TWINS = {
    **TWINS,
    "right-to-left-override": "Acme\u202e",
    "fullwidth-capitals": "\uff21\uff23\uff2d\uff25",
}


@pytest.mark.attack("names")
async def test_organization_named_as_a_twin_is_the_existing_one(api, count_as):
    root = await sign_up("root", admin=True)
    await make_team("first", root, organization="Acme")
    client = api.signed_in(root)

    answers = [
        (await client.execute(CREATE_TEAM, new_team(f"team-{n}", organization=twin)))["createTeam"]
        for n, twin in enumerate(ORGANIZATION_TWINS.values())
    ]

    assert [answer["errors"] for answer in answers] == [[]] * len(ORGANIZATION_TWINS)
    assert {answer["team"]["organization"]["name"] for answer in answers} == {"Acme"}
    assert await Organization.all().values_list("name", "name_key") == [("Acme", "acme")]
    assert await Team.filter(organization__name="Acme").count() == 1 + len(ORGANIZATION_TWINS)
    count_as("attacks", len(ORGANIZATION_TWINS))


@pytest.mark.attack("names")
@pytest.mark.parametrize(
    "twin",
    ["\u0430lice", "alice\u200b", "\uff41\uff4c\uff49\uff43\uff45"],
    ids=["cyrillic-a", "zero-width-space", "fullwidth"],
)
async def test_token_naming_a_twin_of_a_user_signs_nobody_in(api, twin):
    await sign_up("alice")
    before = await snapshot()

    status, body = await api.signed_in(f"Bearer {issue_token(twin)}").post(VIEWER)

    assert status == 401
    assert body["data"] is None
    assert [error["extensions"] for error in body["errors"]] == [{"code": "UNAUTHENTICATED"}]
    assert await snapshot() == before


async def test_organization_search_finds_a_name_by_a_lookalike_prefix(api):
    root = await sign_up("root", admin=True)
    await make_team("first", root, organization="Acme")
    await make_team("second", root, organization="Zürich")
    client = api.signed_in(root)

    found = {
        typed: (await client.execute(ORGANIZATIONS, {"search": typed}))["organizations"]
        for typed in ("\u0410c", "\uff41\uff43", "ac\u200b", "zu\u0308", "ZÜ")
    }

    assert found == {
        "\u0410c": [{"name": "Acme"}],
        "\uff41\uff43": [{"name": "Acme"}],
        "ac\u200b": [{"name": "Acme"}],
        "zu\u0308": [{"name": "Zürich"}],
        "ZÜ": [{"name": "Zürich"}],
    }


@pytest.mark.attack("names")
@pytest.mark.parametrize("invisible", ["\u200b", "\u00ad\u2060", "\ufeff\u200d"])
async def test_an_organization_named_with_invisible_characters_only_is_refused(api, invisible):
    root = await sign_up("root", admin=True)
    before = await snapshot()

    data = await api.signed_in(root).execute(CREATE_TEAM, new_team("new-team", invisible))

    assert data["createTeam"] == {
        "team": None,
        "errors": [{"code": "INVALID", "field": "organizationName"}],
    }
    assert await snapshot() == before
