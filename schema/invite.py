"""Invitations to teams, as W&B's Invite and createInvite."""

from __future__ import annotations

from datetime import datetime

import strawberry

from models import team as team_models
from models import user as user_models
from resolvers.context import Info
from resolvers.loaders import Row
from schema.common import UserError
from schema.reading import reader
from schema.user import Profile
from text_checks import email_key


@strawberry.type(description="An invitation to join a team, waiting for the invitee's answer.")
class Invite:
    id: strawberry.ID
    name: str = strawberry.field(description="The team's name.")
    email: str | None = strawberry.field(
        description="The address invited; null for an invitation by username."
    )
    role: team_models.TeamRole
    created_at: datetime
    from_user_id: strawberry.Private[int | None]
    to_user_id: strawberry.Private[int | None]

    @classmethod
    def from_model(cls, invite: team_models.Invite, team_name: str) -> Invite:
        return _read_invite(invite, strawberry.ID(str(invite.id)), team_name)

    @classmethod
    def from_row(cls, invite: Row) -> Invite:
        """An invitation, from its `InviteRow`."""
        return _read_invite_row(invite, strawberry.ID(str(invite.id)))

    @strawberry.field(description="The team admin who sent it; null once that account is gone.")  # type: ignore[untyped-decorator]
    async def from_user(self, info: Info) -> Profile | None:
        return await _profile(info, self.from_user_id)

    @strawberry.field(description="The account invited by username; null for an address.")  # type: ignore[untyped-decorator]
    async def to_user(self, info: Info) -> Profile | None:
        return await _profile(info, self.to_user_id)


_read_invite = reader(Invite, "id", "name")
_read_invite_row = reader(Invite, "id")


async def load_invites_of(info: Info, account: user_models.User) -> list[Invite]:
    """The invitations an account may answer, oldest first."""
    address = email_key(account.email) if account.email else None
    rows = await info.context.loaders.invites_by_invitee.load((account.id, address))
    return [Invite.from_row(row) for row in rows]


async def _profile(info: Info, user_id: int | None) -> Profile | None:
    if user_id is None:
        return None
    account = await info.context.loaders.user_by_id.load(user_id)
    return None if account is None else Profile.from_account(account)


@strawberry.input
class CreateInviteInput:
    entity_name: str = strawberry.field(description="The team's name.")
    username: str | None = strawberry.field(
        default=None, description="Invite an account by username, or..."
    )
    email: str | None = strawberry.field(
        default=None, description="...an address: the account that signs in with it may accept."
    )
    admin: bool | None = strawberry.field(
        default=None, description="As W&B's createInvite: true invites as ADMIN."
    )
    role: team_models.TeamRole | None = strawberry.field(
        default=None, description="MEMBER unless `admin` or this says otherwise."
    )


@strawberry.type
class CreateInvitePayload:
    invite: Invite | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class InviteIdInput:
    id: strawberry.ID
