"""Teams made directly in the database, for tests whose subject is not team creation."""

from __future__ import annotations

from models.entity import Entity, name_key
from models.team import Organization, Team, TeamMember, TeamRole, TeamType
from models.user import User
from tests.support.helpers import Account


def _user(who: Account | User) -> User:
    return who.user if isinstance(who, Account) else who


async def make_team(
    name: str,
    admin: Account | User,
    *members: Account | User,
    organization: str | None = None,
    type: TeamType = TeamType.WORK,
    admins: tuple[Account | User, ...] = (),
) -> Team:
    """A team with `admin` (and `admins`) as its ADMINs and `members` as MEMBERs."""
    entity = await Entity.create(name=name, name_key=name_key(name), is_team=True)
    org = None
    if organization is not None:
        org, _ = await Organization.get_or_create(
            name_key=name_key(organization), defaults={"name": organization}
        )
    team = await Team.create(entity=entity, name=name, type=type, organization=org)
    for each in (admin, *admins):
        await TeamMember.create(team=team, user=_user(each), role=TeamRole.ADMIN)
    for member in members:
        await TeamMember.create(team=team, user=_user(member), role=TeamRole.MEMBER)
    return team


async def team_rows() -> dict[str, list[tuple[object, ...]]]:
    """Everything the team mutations may write, to compare before and after."""
    return {
        "entities": sorted(await Entity.all().values_list("name", "is_team")),
        "teams": sorted(await Team.all().values_list("name", "type", "organization__name")),
        "members": sorted(
            await TeamMember.all().values_list("team__name", "user__username", "role")
        ),
        "organizations": sorted(await Organization.all().values_list("name", "name_key")),
        "defaults": sorted(await User.all().values_list("username", "default_entity__name")),
    }


async def members_of(team_name: str) -> dict[str, str]:
    rows = await TeamMember.filter(team__name=team_name).values_list("user__username", "role")
    return {username: str(role) for username, role in rows}


async def default_entities() -> dict[str, str]:
    """Each username and the name of its default entity."""
    rows = await User.all().values_list("username", "default_entity__name")
    return {str(username): str(entity) for username, entity in rows}
