"""Team invitations: a team admin invites, the invitee accepts or declines, an admin
withdraws. Nobody joins a team without saying yes to it."""

from __future__ import annotations

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

import config
from api.cost import LIST_BOUND
from errors import AlreadyExists, Invalid, LimitExceeded, NotFound
from models.alert import AlertChannel, AlertEventType, AlertSeverity
from models.team import Invite as InviteModel
from models.team import Team as TeamModel
from models.team import TeamMember, TeamRole
from models.user import User as UserModel
from notifiers.outbox import Recorded, announce, record_alert
from resolvers.context import Info
from resolvers.teams import answer_team, lock_team, locked_team, person, require_team_admin
from resolvers.validation import Checks, row_id
from schema.common import SuccessPayload
from schema.invite import (
    CreateInviteInput,
    CreateInvitePayload,
    Invite,
    InviteIdInput,
)
from schema.team import TeamPayload
from text_checks import email_address, email_key

#: Invitations a team may have waiting at once: all of them fit the list `Team.invites`
#: is priced at.
MAX_PENDING_INVITES = LIST_BOUND


async def create_invite(info: Info, input: CreateInviteInput) -> CreateInvitePayload:
    checks = Checks()
    role = checks.run(_role, input)
    invitee = checks.run(_invitee, input)
    checks.done()
    if role is None or invitee is None:
        raise AssertionError("checks.done() raises for a failed check")
    username, email = invitee
    viewer = info.context.viewer
    async with in_transaction():
        team = await locked_team(viewer, input.entity_name, field="entityName")
        await require_team_admin(viewer, team)
        to_user = None if username is None else await person(username)
        await _check_not_in_team(team, to_user, email)
        if await InviteModel.filter(team_id=team.id).count() >= MAX_PENDING_INVITES:
            raise LimitExceeded(
                f"{team.name} has {MAX_PENDING_INVITES} invitations waiting: withdraw some first."
            )
        try:
            async with in_transaction():
                invite = await InviteModel.create(
                    team=team,
                    from_user=viewer,
                    to_user=to_user,
                    email=email,
                    email_key=None if email is None else email_key(email),
                    role=role,
                )
        except IntegrityError:
            raise AlreadyExists(
                f"{username or email} is already invited to {team.name}.",
                field="username" if username is not None else "email",
            ) from None
        mail = await _mail(invite, team, viewer, to_user)
    announce(mail)
    return CreateInvitePayload(invite=Invite.from_model(invite, team.name))


def _role(input: CreateInviteInput) -> TeamRole:
    if input.admin is not None and input.role is not None:
        if input.admin != (input.role == TeamRole.ADMIN):
            raise Invalid("`admin` and `role` disagree: send one of them.", field="role")
    if input.role is not None:
        return input.role
    return TeamRole.ADMIN if input.admin else TeamRole.MEMBER


def _invitee(input: CreateInviteInput) -> tuple[str | None, str | None]:
    """(username, None) or (None, email): exactly one of them."""
    username = (input.username or "").strip() or None
    email = (input.email or "").strip() or None
    if (username is None) == (email is None):
        raise Invalid("Invite by username or by email address: one of them.", field="username")
    if email is not None:
        return None, email_address(email, field="email")
    return username, None


async def _check_not_in_team(team: TeamModel, to_user: UserModel | None, email: str | None) -> None:
    members = TeamMember.filter(team_id=team.id)
    if to_user is not None and await members.filter(user_id=to_user.id).exists():
        raise AlreadyExists(
            f"'{to_user.username}' is already a member of {team.name}.", field="username"
        )
    if email is not None:
        address = email_key(email)
        joined = await members.filter(user__email__iexact=address).values_list(
            "user__username", flat=True
        )
        if joined:
            raise AlreadyExists(
                f"{email} is the address of '{joined[0]}', already a member of {team.name}.",
                field="email",
            )


async def _mail(
    invite: InviteModel, team: TeamModel, sender: UserModel, to_user: UserModel | None
) -> Recorded:
    """The invitation by email, through the outbox: an INVITE alert of the invitee's
    account, or, for an address, of the admin who typed it (who sees it arrive)."""
    who = to_user.username if to_user is not None else invite.email
    as_what = "an admin" if invite.role == TeamRole.ADMIN else "a member"
    sign_in = f"as {who}" if to_user is not None else f"with {who}"
    return await record_alert(
        to_user or sender,
        type=AlertEventType.INVITE,
        title=f"Invitation to join {team.name}"[:64],
        text=(
            f"{sender.username} invited {who} to join the team {team.name} on Switchboard, "
            f"as {as_what}. Sign in {sign_in} to accept or decline it: "
            f"{config.PUBLIC_URL}/settings#teams"
        ),
        severity=AlertSeverity.INFO,
        entity_name=team.name,
        channels=[AlertChannel.EMAIL],
        address=None if to_user is not None else invite.email,
    )


# Answering


def addressed_to(account: UserModel) -> Q:
    """The invitations `account` may answer."""
    return InviteModel.addressed_to(account.id, email_key(account.email) if account.email else None)


async def accept_invite(info: Info, input: InviteIdInput) -> TeamPayload:
    viewer = info.context.viewer
    async with in_transaction():
        invite = await _invite_for(viewer, input.id, answering=True)
        await lock_team(invite.team_id)
        if not await InviteModel.filter(id=invite.id).delete():
            raise _missing()  # withdrawn since it was read
        # Every other invitation of this account to this team is answered by joining.
        await InviteModel.filter(addressed_to(viewer), team_id=invite.team_id).delete()
        try:
            async with in_transaction():
                await TeamMember.create(team_id=invite.team_id, user=viewer, role=invite.role)
        except IntegrityError:
            pass  # added by a site admin meanwhile: the invitation is answered all the same
    return TeamPayload(team=await answer_team(info, invite.team))


async def delete_invite(info: Info, input: InviteIdInput) -> SuccessPayload:
    viewer = info.context.viewer
    async with in_transaction():
        invite = await _invite_for(viewer, input.id, answering=False)
        if not await InviteModel.filter(id=invite.id).delete():
            raise _missing()  # answered or withdrawn meanwhile
    return SuccessPayload(success=True)


async def _invite_for(viewer: UserModel, invite_id: str, *, answering: bool) -> InviteModel:
    """The invitation, if the viewer is its invitee, or (`answering` False) an admin
    of its team. Anyone else's reads as missing: ids must not reveal invitations."""
    found = None
    if (number := row_id(invite_id)) is not None:
        found = await InviteModel.filter(id=number).select_related("team").first()
    if found is not None:
        mine = await InviteModel.filter(addressed_to(viewer), id=found.id).exists()
        if mine or (not answering and await _is_team_admin(viewer, found.team_id)):
            return found
    raise _missing()


def _missing() -> NotFound:
    return NotFound("No invitation for you has that id.", field="id")


async def _is_team_admin(viewer: UserModel, team_id: int) -> bool:
    return await TeamMember.filter(team_id=team_id, user_id=viewer.id, role=TeamRole.ADMIN).exists()
