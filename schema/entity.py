"""Entities (a user's or a team's name that owns projects) and their members, in the
shape of W&B's `Entity` and `Member`.

An `Entity` is only ever made for a viewer who may see all of it: its own, a team it
belongs to, or any for a site admin (`resolvers.entities`). Fields W&B has for
concepts Switchboard lacks (billing, read-only entities) answer a fixed value,
and say so in their descriptions.
"""

from __future__ import annotations

import json
from operator import attrgetter

import strawberry

from models import user as user_models
from models.entity import Entity as EntityModel
from models.entity import name_key
from models.team import TeamRole
from models.user import photo_address
from resolvers.context import Info
from resolvers.loaders import Row
from schema.reading import Derived, reader
from schema.scalars import Int64, JSONString

#: What a team answers for `defaultAccess`: it keeps no default privacy of its own.
TEAM_DEFAULT_ACCESS = user_models.Privacy.PRIVATE


@strawberry.type(description="A user's or team's name that owns projects, as W&B's Entity.")
class Entity:
    name: str
    is_team: bool
    entity_id: strawberry.Private[int]
    #: A team entity's team, when the entity was read with it (None: look it up).
    team_id: strawberry.Private[int | None]

    @classmethod
    def from_model(cls, entity: EntityModel) -> Entity:
        return _read_entity(entity, None)

    @classmethod
    def from_row(cls, team: Row) -> Entity:
        """A team's entity, from its `TeamRow` or a `MembershipRow`."""
        return _read_team_entity(team)

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.entity_id))

    @strawberry.field(description="USER or TEAM.")  # type: ignore[untyped-decorator]
    def entity_type(self) -> str:
        return "TEAM" if self.is_team else "USER"

    @strawberry.field(description="The user's profile photo; null for a team, which has none.")  # type: ignore[untyped-decorator]
    async def photo_url(self, info: Info) -> str | None:
        account = await self._account(info)
        return None if account is None else photo_address(account.photo_file)

    @strawberry.field(  # type: ignore[untyped-decorator]
        description=(
            "True when the name is free to take (W&B's `available`). An entity that exists "
            "holds its name, so this is always false here."
        )
    )
    def available(self) -> bool:
        return False

    @strawberry.field(description="Switchboard has no read-only entities: always false.")  # type: ignore[untyped-decorator]
    def read_only(self) -> bool:
        return False

    @strawberry.field(description="Switchboard has no read-only entities: always false.")  # type: ignore[untyped-decorator]
    def read_only_admin(self) -> bool:
        return False

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="Any entity may have public projects here (no private-only plans): false."
    )
    def private_only(self) -> bool:
        return False

    @strawberry.field(  # type: ignore[untyped-decorator]
        description=(
            "A user's project default for code saving; false for a team, which keeps no "
            "default of its own."
        )
    )
    async def code_saving_enabled(self, info: Info) -> bool:
        account = await self._account(info)
        return False if account is None else account.code_saving_enabled

    @strawberry.field(  # type: ignore[untyped-decorator]
        description=(
            "PRIVATE, PUBLIC or OPEN: the default privacy of the entity's new projects (a "
            "user's project default; PRIVATE for a team, which keeps none of its own)."
        )
    )
    async def default_access(self, info: Info) -> str:
        account = await self._account(info)
        return str(TEAM_DEFAULT_ACCESS if account is None else account.default_privacy)

    @strawberry.field(description="Switchboard has no billing: always false.")  # type: ignore[untyped-decorator]
    def is_paid(self) -> bool:
        return False

    @strawberry.field(description="The bytes its stored files use (storageUsage.usedBytes).")  # type: ignore[untyped-decorator]
    async def storage_bytes(self, info: Info) -> Int64:
        totals = await info.context.loaders.storage_totals_by_entity_id.load(self.entity_id)
        return Int64(0 if totals is None else totals.used_bytes)

    @strawberry.field(description='Its limits as a JSON object: {"storageBytes": <bytes>}.')  # type: ignore[untyped-decorator]
    async def limits(self, info: Info) -> JSONString | None:
        totals = await info.context.loaders.storage_totals_by_entity_id.load(self.entity_id)
        if totals is None:
            return None
        return JSONString(json.dumps({"storageBytes": totals.limit_bytes}))

    @strawberry.field(  # type: ignore[untyped-decorator]
        description=(
            "A team's pending invitations (for its admins and site admins), then its "
            "members in the order they joined; a user entity's own member row."
        )
    )
    async def members(self, info: Info) -> list[Member]:
        if not self.is_team:
            account = await self._account(info)
            return [] if account is None else [Member.of_account(account, info)]
        loaders = info.context.loaders
        team_id = self.team_id
        if team_id is None:
            team = await loaders.team_by_name_key.load(name_key(self.name))
            if team is None:
                return []
            team_id = team.team_id
        rows, invites, mine = await _members_invites_and_viewer_memberships(info, team_id)
        viewer = info.context.viewer
        # Addresses are for the team's admins (and site admins) to reach its members.
        manager = viewer.admin or any(
            m.team_id == team_id and m.role == TeamRole.ADMIN for m in mine
        )
        # In the order they joined, the newest last: W&B's SDK answers the last member as
        # the service account it has just made.
        joined = sorted(rows, key=_joined)
        members = [Member.of_row(row, manager or row.id == viewer.id) for row in joined]
        if not manager:  # who is invited, and at which address, is the admins' to know
            return members
        return [Member.of_invite(invite) for invite in invites] + members

    async def _account(self, info: Info) -> user_models.User | None:
        """A user entity's account (None for a team's)."""
        if self.is_team:
            return None
        viewer = info.context.user
        if viewer is not None and viewer.entity_id == self.entity_id:
            return viewer
        return await info.context.loaders.user_by_entity_id.load(self.entity_id)


_joined = attrgetter("joined_at", "id")
_read_entity = reader(Entity, "team_id", entity_id="id")
_read_team_entity = reader(Entity, entity_id="entity_id")


async def _members_invites_and_viewer_memberships(
    info: Info, team_id: int
) -> tuple[list[Row], list[Row], list[Row]]:
    loaders = info.context.loaders
    members = loaders.members_by_team_id.load(team_id)
    invites = loaders.invites_by_team_id.load(team_id)
    mine = loaders.memberships_by_user_id.load(info.context.viewer.id)
    return await members, await invites, await mine


@strawberry.type(description="A team member or a pending invitation, as W&B's Member.")
class Member:
    id: strawberry.ID
    username: str | None
    name: str
    photo_url: str | None
    role: TeamRole
    #: The account; None for an invitation to an address.
    user_id: strawberry.Private[int | None]
    #: Whether the viewer may see the member's address.
    email_shown: strawberry.Private[bool]
    #: A pending invitation's `InviteRow`; None for a member.
    invite: strawberry.Private[Row | None]
    #: A team's service account.
    service: strawberry.Private[bool]

    @classmethod
    def of_row(cls, member: Row, email_shown: bool) -> Member:
        """A team's member, from its `MemberRow`."""
        return _read_member(member, strawberry.ID(str(member.id)), email_shown, None)

    @classmethod
    def of_invite(cls, invite: Row) -> Member:
        """A pending invitation, from its `InviteRow`: its id is the invitation's."""
        return cls(
            id=strawberry.ID(str(invite.id)),
            username=invite.username,
            name=invite.to_name if invite.to_user_id is not None else invite.email,
            photo_url=photo_address(invite.photo_file),
            role=invite.role,
            user_id=invite.to_user_id,
            email_shown=True,
            invite=invite,
            service=False,
        )

    @classmethod
    def of_account(cls, account: user_models.User, info: Info) -> Member:
        """A user entity's own member row: the account, its only admin."""
        viewer = info.context.viewer
        shown = viewer.admin or viewer.id == account.id
        return _read_own_member(
            account, strawberry.ID(str(account.id)), TeamRole.ADMIN, shown, None
        )

    @strawberry.field(  # type: ignore[untyped-decorator]
        description=(
            "The member's address: shown to the member itself, the team's admins and site "
            "admins; null to anyone else. A pending invitation's: the address invited."
        )
    )
    async def email(self, info: Info) -> str | None:
        if not self.email_shown:
            return None
        if self.invite is not None:
            invited: str | None = self.invite.email  # None for an invitation by username
            return invited
        if self.user_id is None:
            return None
        account = await info.context.loaders.user_by_id.load(self.user_id)
        return None if account is None else account.email

    @strawberry.field
    def admin(self) -> bool:
        return self.role == TeamRole.ADMIN

    @strawberry.field(description="True for an invitation not yet accepted.")  # type: ignore[untyped-decorator]
    def pending(self) -> bool:
        return self.invite is not None

    @strawberry.field(description="USER, or SERVICE for a team's service account.")  # type: ignore[untyped-decorator]
    def account_type(self) -> str:
        return "SERVICE" if self.service else "USER"

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="Never a key: always null here (W&B's field is kept for its clients)."
    )
    def api_key(self) -> str | None:
        return None


_PHOTO = Derived(photo_address, "photo_file")
_read_member = reader(Member, "id", "email_shown", "invite", user_id="id", photo_url=_PHOTO)
_read_own_member = reader(
    Member, "id", "role", "email_shown", "invite", user_id="id", photo_url=_PHOTO
)
