"""Teams, their members and organizations."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

import strawberry

from errors import Forbidden
from models import team as team_models
from resolvers.context import Info
from resolvers.loaders import MemberRow, MembershipRow
from schema.common import UserError
from schema.storage import StorageUsage, load_storage_usage
from schema.user import Profile

strawberry.enum(team_models.TeamType, name="TeamType")
strawberry.enum(team_models.TeamRole, name="TeamRole")


@strawberry.type
class Organization:
    id: strawberry.ID
    name: str

    @classmethod
    def from_model(cls, organization: team_models.Organization) -> Organization:
        return cls(id=strawberry.ID(str(organization.id)), name=organization.name)

    @classmethod
    def from_membership(cls, membership: MembershipRow) -> Organization | None:
        """The team's organization as its membership row holds it; None for none."""
        organization_id, name = membership.team_organization_id, membership.organization_name
        if organization_id is None or name is None:
            return None
        return cls(id=strawberry.ID(str(organization_id)), name=name)


@strawberry.type
class TeamMember:
    profile: Profile
    role: team_models.TeamRole
    joined_at: datetime

    #: A team's member rows stand for its members (see `schema.plans.READ_FROM`).
    read_from: ClassVar[tuple[type, ...]] = (MemberRow,)


async def load_organization(info: Info, organization_id: int | None) -> Organization | None:
    if organization_id is None:
        return None
    found = await info.context.loaders.organization_by_id.load(organization_id)
    return Organization.from_model(found) if found else None


async def viewer_membership(info: Info, team_id: int) -> MembershipRow | None:
    """The viewer's membership of a team, from the viewer's memberships loaded once."""
    viewer = info.context.user
    if viewer is None:
        return None
    memberships = await info.context.loaders.memberships_by_user_id.load(viewer.id)
    return next((m for m in memberships if m.team_id == team_id), None)


@strawberry.type
class Team:
    id: strawberry.ID
    name: str
    type: team_models.TeamType
    created_at: datetime
    viewer_role: team_models.TeamRole | None = strawberry.field(
        description="The viewer's role in this team; null when it is not a member."
    )
    #: Known when the team is made: the viewer's teams read it with their memberships.
    organization: Organization | None
    team_id: strawberry.Private[int]
    entity_id: strawberry.Private[int]

    @classmethod
    def from_model(
        cls,
        team: team_models.Team,
        viewer_member: MembershipRow | None,
        organization: Organization | None,
    ) -> Team:
        return cls(
            id=strawberry.ID(str(team.id)),
            name=team.name,
            type=team.type,
            created_at=team.created_at,
            viewer_role=viewer_member.role if viewer_member else None,
            organization=organization,
            team_id=team.id,
            entity_id=team.entity_id,
        )

    @classmethod
    def from_membership(
        cls, membership: MembershipRow, viewer_member: MembershipRow | None
    ) -> Team:
        return cls(
            id=strawberry.ID(str(membership.team_id)),
            name=membership.team_name,
            type=membership.team_type,
            created_at=membership.team_created_at,
            viewer_role=viewer_member.role if viewer_member else None,
            organization=Organization.from_membership(membership),
            team_id=membership.team_id,
            entity_id=membership.team_entity_id,
        )

    def _seen_whole(self, info: Info) -> bool:
        """Members and admins see every member; others see what public profiles show."""
        viewer = info.context.user
        return viewer is not None and (viewer.admin or self.viewer_role is not None)

    async def _members(self, info: Info) -> list[MemberRow]:
        members = await info.context.loaders.members_by_team_id.load(self.team_id)
        if self._seen_whole(info):
            return members
        # A team reached through someone's public profile must not list the members
        # who hide their teams: that would undo their `hideTeamsFromPublic`.
        return [m for m in members if not m.hide_teams_from_public]

    @strawberry.field
    async def member_count(self, info: Info) -> int:
        return len(await self._members(info))

    @strawberry.field
    async def members(self, info: Info) -> list[TeamMember]:
        # The rows themselves: each is read as a TeamMember and as its Profile.
        return await self._members(info)  # type: ignore[return-value]

    @strawberry.field
    async def storage_usage(self, info: Info) -> StorageUsage:
        # A team reached through a public profile shows its members, not its usage.
        if not self._seen_whole(info):
            raise Forbidden("Only the team's members and administrators may see its storage.")
        return await load_storage_usage(info, self.entity_id)


@strawberry.input
class CreateTeamInput:
    team_name: str = strawberry.field(
        description="Unique among all users and teams; letters, digits, '-' and '_'; never renamed."
    )
    type: team_models.TeamType
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


@strawberry.type
class TeamPayload:
    team: Team | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
