"""The whole settings page in one query, at a cost that does not grow with teams."""

from __future__ import annotations

import base64

from models.entity import Entity
from models.team import Organization, Team, TeamMember, TeamRole, TeamType
from models.user import User
from seed import seed_catalog
from tests.support.helpers import count_queries, sign_up

SETTINGS_PAGE = """
query SettingsPage {
  viewer {
    id username email name institution bio location websiteUrl photoUrl admin createdAt
    hideTeamsFromPublic
    projectDefaults { entity { name isTeam } privacy codeSavingEnabled }
    availableEntities { name isTeam }
    teams {
      edges {
        node {
          id name type createdAt memberCount viewerRole
          members { profile { username name photoUrl } role joinedAt }
          organization { id name }
        }
      }
    }
    betaFeatures { key name description enabled }
    apiKeys { edges { node { id name description prefix createdAt lastUsedAt } } }
  }
}
"""

GENERATE_API_KEY = """
mutation { generateApiKey(input: {name: "laptop"}) { errors { code } } }
"""

GENERATE_API_KEY_SECRET = """
mutation { generateApiKey(input: {name: "tracker"}) { secret } }
"""

SET_BETA_FEATURE = """
mutation { setBetaFeature(input: {key: "launch", enabled: true}) { errors { code } } }
"""


async def add_teams(viewer: User, first: int, count: int, members_each: int) -> None:
    """Teams `t<first>`...: the viewer and `members_each - 1` users of their own in each."""
    org = await Organization.create(name=f"Org {first}", name_key=f"org {first}")
    numbers = range(first, first + count)
    others = [f"t{n}-u{m}" for n in numbers for m in range(members_each - 1)]
    await Entity.bulk_create(
        [Entity(name=f"t{n}", name_key=f"t{n}", is_team=True) for n in numbers]
        + [Entity(name=name, name_key=name) for name in others]
    )
    entities = {
        e.name: e for e in await Entity.filter(name__in=[*others, *map("t{}".format, numbers)])
    }
    await User.bulk_create(
        User(username=n, entity=entities[n], default_entity=entities[n], name=n.upper())
        for n in others
    )
    users = {u.username: u for u in await User.filter(username__in=others)}
    await Team.bulk_create(
        Team(entity=entities[f"t{n}"], name=f"t{n}", type=TeamType.WORK, organization=org)
        for n in numbers
    )
    teams = {t.name: t for t in await Team.filter(name__in=[f"t{n}" for n in numbers])}
    await TeamMember.bulk_create(
        [TeamMember(team=teams[f"t{n}"], user=viewer, role=TeamRole.ADMIN) for n in numbers]
        + [
            TeamMember(team=teams[f"t{n}"], user=users[f"t{n}-u{m}"])
            for n in numbers
            for m in range(members_each - 1)
        ]
    )


async def test_settings_page_costs_the_same_for_1_team_and_for_50_teams_of_20(api):
    await seed_catalog()
    ada = await sign_up("ada")
    client = api.signed_in(ada)
    await client.execute(GENERATE_API_KEY)
    await client.execute(SET_BETA_FEATURE)
    await add_teams(ada.user, first=0, count=1, members_each=20)

    with count_queries() as one_team:
        small = await client.execute(SETTINGS_PAGE)
    await add_teams(ada.user, first=1, count=49, members_each=20)
    with count_queries() as fifty_teams:
        large = await client.execute(SETTINGS_PAGE)

    teams = [edge["node"] for edge in large["viewer"]["teams"]["edges"]]
    assert len(small["viewer"]["teams"]["edges"]) == 1
    assert len(teams) == 50
    assert all(len(t["members"]) == 20 and t["memberCount"] == 20 for t in teams)
    assert all(t["organization"] is not None for t in teams)
    assert len(large["viewer"]["availableEntities"]) == 51
    assert [f["enabled"] for f in large["viewer"]["betaFeatures"]] == [False, True, False]
    assert len(large["viewer"]["apiKeys"]["edges"]) == 1
    assert len(fifty_teams) == len(one_team), (one_team, fifty_teams)
    # Sign-in (with the viewer's own and default entities), memberships (with their
    # teams' organizations), members, catalog, toggles, API keys: six, not one per
    # team or member.
    assert len(one_team) <= 6, one_team


ENTITIES = "{ viewer { projectDefaults { entity { name } } availableEntities { name } } }"


async def test_sign_in_reads_the_viewers_entities_for_tokens_and_api_keys(api):
    ada = await sign_up("ada")
    team = await Entity.create(name="lab", name_key="lab", is_team=True)
    await User.filter(id=ada.user.id).update(default_entity_id=team.id)
    secret = (await api.signed_in(ada).execute(GENERATE_API_KEY_SECRET))["generateApiKey"]["secret"]
    basic = "Basic " + base64.b64encode(f"api:{secret}".encode()).decode()

    answers, statements = [], []
    for authorization in (ada.authorization, basic):
        with count_queries() as seen:
            answers.append(await api.signed_in(authorization).execute(ENTITIES))
        statements.append(seen)

    assert answers[0] == answers[1]
    assert answers[0]["viewer"]["projectDefaults"] == {"entity": {"name": "lab"}}
    for seen in statements:
        assert not [s for s in seen if s.startswith("SELECT") and ' FROM "entity"' in s], seen
