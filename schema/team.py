"""Teams, their members and organizations."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import strawberry

from api.cost import LIST_BOUND
from errors import Forbidden
from models import team as team_models
from models.entity import name_key
from resolvers.context import Info
from resolvers.loaders import Row
from schema.common import UserError
from schema.connection import Connection, Cursors, Edge
from schema.destination import MAX_DESTINATIONS, MAX_ROUTES, AlertRoute, Destination
from schema.entity import Entity
from schema.invite import Invite
from schema.reading import Derived, reader
from schema.storage import StorageUsage, load_storage_usage
from schema.user import Profile, read_profile

strawberry.enum(team_models.TeamType, name="TeamType")
strawberry.enum(team_models.TeamRole, name="TeamRole")


@strawberry.type
class Organization:
    id: strawberry.ID
    name: str

    @classmethod
    def of(cls, organization_id: int, name: str) -> Organization:
        return _read_organization(None, strawberry.ID(str(organization_id)), name)


_read_organization = reader(Organization, "id", "name")


@strawberry.type
class TeamMember:
    profile: Profile
    role: team_models.TeamRole
    joined_at: datetime
    account_type: str = strawberry.field(description="USER, or SERVICE for a service account.")


@strawberry.type
class Team:
    id: strawberry.ID
    name: str
    type: team_models.TeamType
    created_at: datetime
    viewer_role: team_models.TeamRole | None = strawberry.field(
        description="The viewer's role in this team; null when it is not a member."
    )
    organization: Organization | None
    team_id: strawberry.Private[int]
    entity_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, team: Row, viewer_role: team_models.TeamRole | None) -> Team:
        """A team (a `TeamRow`, or a `MembershipRow`), as the viewer sees it."""
        organization_id = team.organization_id
        organization = (
            None
            if organization_id is None
            else Organization.of(organization_id, team.organization_name)
        )
        return _read_team(team, strawberry.ID(str(team.team_id)), viewer_role, organization)

    def _seen_whole(self, info: Info) -> bool:
        """Members and admins see every member; others see what public profiles show."""
        viewer = info.context.user
        return viewer is not None and (viewer.admin or self.viewer_role is not None)

    def _visible(self, info: Info, members: list[Row]) -> list[Row]:
        """The team's `MemberRow`s the viewer may see."""
        if self._seen_whole(info):
            return members
        # A team reached through someone's public profile must not list the members
        # who hide their teams: that would undo their `hideTeamsFromPublic`.
        return [m for m in members if not m.hide_teams_from_public]

    def _listed(self, info: Info, members: list[Row]) -> list[Row]:
        """The members the viewer is shown: a public profile's team shows as many as
        the query cost counts a list at, so a large team costs what it was priced."""
        visible = self._visible(info, members)
        return visible if self._seen_whole(info) else visible[:LIST_BOUND]

    @strawberry.field
    async def member_count(self, info: Info) -> int:
        members = await info.context.loaders.members_by_team_id.load(self.team_id)
        return len(self._visible(info, members))

    @strawberry.field
    async def members(self, info: Info) -> list[TeamMember]:
        members = await info.context.loaders.members_by_team_id.load(self.team_id)
        return [_read_member(m) for m in self._listed(info, members)]

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="Invitations waiting for an answer: for the team's admins (and site "
        "admins); empty for anyone else."
    )
    async def invites(self, info: Info) -> list[Invite]:
        if not self._managed(info):
            return []
        rows = await info.context.loaders.invites_by_team_id.load(self.team_id)
        return [Invite.from_row(row) for row in rows]

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="The team's webhooks and Discord webhooks: for its admins (and site "
        "admins); empty for anyone else.",
        metadata={"bound": MAX_DESTINATIONS},
    )
    async def destinations(self, info: Info) -> list[Destination]:
        if not self._managed(info):
            return []
        rows = await info.context.loaders.destinations_by_team_id.load(self.team_id)
        return [Destination.from_model(row) for row in rows]

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="Which alerts of the team's runs go to its destinations: for its admins "
        "(and site admins); empty for anyone else.",
        metadata={"bound": MAX_ROUTES},
    )
    async def alert_routes(self, info: Info) -> list[AlertRoute]:
        if not self._managed(info):
            return []
        rows = await info.context.loaders.alert_routes_by_team_id.load(self.team_id)
        return [AlertRoute.from_model(row) for row in rows]

    def _managed(self, info: Info) -> bool:
        """Whether the viewer manages the team: one of its admins, or a site admin."""
        viewer = info.context.user
        return viewer is not None and (
            viewer.admin or self.viewer_role == team_models.TeamRole.ADMIN
        )

    @strawberry.field
    async def storage_usage(self, info: Info) -> StorageUsage:
        # A team reached through a public profile shows its members, not its usage.
        if not self._seen_whole(info):
            raise Forbidden("Only the team's members and administrators may see its storage.")
        return await load_storage_usage(info, self.entity_id)


#: A team's member, from its `MemberRow`.
_read_member = reader(
    TeamMember,
    profile=read_profile,
    account_type=Derived(lambda service: "SERVICE" if service else "USER", "service"),
)
_read_team = reader(Team, "id", "viewer_role", "organization")


@strawberry.type
class TeamEdge(Edge):
    node: Team


@strawberry.type
class TeamConnection(Connection):
    edges: list[TeamEdge]
    total_count: int


#: A user's teams come by name (`resolvers.loaders.MEMBERSHIPS`): their cursors name it.
TEAM_CURSORS = Cursors("Team", TeamEdge, key=lambda row: name_key(row.name))


async def load_team_connection(
    info: Info, user_id: int, first: int | None, after: str | None
) -> TeamConnection:
    """A page of a user's teams, each with the viewer's role in it."""
    window = TEAM_CURSORS.window(first, after)
    loaders = info.context.loaders
    memberships = await loaders.memberships_by_user_id.load(user_id)
    viewer = info.context.user
    node: Callable[[Row], Team] = _own_team  # the viewer's own teams
    if viewer is None or viewer.id != user_id:
        mine = [] if viewer is None else await loaders.memberships_by_user_id.load(viewer.id)
        roles = {m.team_id: m.role for m in mine}

        def node(m: Row) -> Team:
            return Team.from_row(m, roles.get(m.team_id))

    total = len(memberships)
    return TEAM_CURSORS.page(TeamConnection, memberships, window, node, total_count=total)


def _own_team(membership: Row) -> Team:
    return Team.from_row(membership, membership.role)


async def viewer_role(info: Info, team_id: int) -> team_models.TeamRole | None:
    """The viewer's role in a team, from the viewer's memberships loaded once."""
    viewer = info.context.user
    if viewer is None:
        return None
    memberships = await info.context.loaders.memberships_by_user_id.load(viewer.id)
    return next((m.role for m in memberships if m.team_id == team_id), None)


@strawberry.input
class CreateTeamInput:
    team_name: str = strawberry.field(
        description="Unique among all users and teams; letters, digits, '-' and '_'; never renamed."
    )
    type: team_models.TeamType | None = team_models.TeamType.WORK
    organization_id: strawberry.ID | None = strawberry.field(
        default=None, description="An existing organization, or..."
    )
    organization_name: str | None = strawberry.field(
        default=None,
        description=(
            "...a new one by name (an existing one of that name, case-insensitive, is reused)."
        ),
    )
    team_admin_user_name: str | None = strawberry.field(
        default=None,
        description="The team's first admin, as W&B's createTeam takes it; the caller when absent.",
    )


@strawberry.type
class CreateTeamPayload:
    team: Team | None = None
    entity: Entity | None = strawberry.field(
        default=None, description="The new team's entity, as W&B's createTeam answers."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class AddTeamMemberInput:
    team_name: str
    username: str
    role: team_models.TeamRole | None = team_models.TeamRole.MEMBER


@strawberry.input
class UpdateTeamMemberInput:
    team_name: str
    username: str
    role: team_models.TeamRole


@strawberry.input
class RemoveTeamMemberInput:
    team_name: str
    username: str


@strawberry.input
class DeleteTeamInput:
    team_name: str


@strawberry.type
class TeamPayload:
    team: Team | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
