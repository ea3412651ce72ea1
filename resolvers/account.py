"""Deleting the viewer's account: every row of it in one transaction, then the
outside effects (the GitHub grant, the photo file) once that has committed.

The entity row stays as a tombstone with `deleted_at` set: the name stays
taken. `tokens_valid_after` is set to the same moment and never cleared, so
`auth.accounts` refuses every token issued before it, also once an account is made
again with the name. Once committed, every socket the account opened is ended, on
every process (`notifiers.hooks.CredentialsRevoked`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tortoise.functions import Count
from tortoise.transactions import in_transaction

from errors import Conflict, Invalid, NotFound
from models.alert import AlertDelivery, AlertEvent, AlertSubscription
from models.api_key import ApiKey
from models.beta import UserBetaFeature
from models.entity import Entity
from models.integration import GithubIntegration, OAuthState, SlackIntegration
from models.team import Invite, Team, TeamMember, TeamRole
from models.user import User as UserModel
from notifiers.hooks import CredentialsRevoked, after_commit
from resolvers.context import Info
from resolvers.github import revoke_removed_grant
from resolvers.teams import dissolve
from resolvers.user import remove_photo_file_if_unused
from schema.account import DeleteAccountInput
from schema.common import SuccessPayload, UserError
from services import storage_ledger


@dataclass
class Doomed:
    """What one deletion removes, found under lock before anything is removed."""

    user_id: int
    entity_id: int
    photo_file: str | None
    github_token_sealed: str | None = None
    #: Teams whose only member is the user: they go with it.
    teams: list[Team] = field(default_factory=list)


async def delete_account(info: Info, input: DeleteAccountInput) -> SuccessPayload:
    account = info.context.viewer
    if input.confirm_username != account.username:
        raise Invalid(
            f"Type your username, {account.username!r}, exactly to confirm the deletion.",
            field="confirmUsername",
        )
    async with in_transaction():
        doomed = await _find(account.id)
        await _delete_teams_left_empty(doomed)
        await _delete_memberships(doomed)
        await _delete_credentials(doomed)
        await _delete_preferences(doomed)
        await _delete_alerts(doomed)
        await _delete_integrations(doomed)
        await _delete_storage(doomed)
        await _delete_profile(doomed)
    # Effects outside the database cannot roll back, so they wait for the commit.
    # The sockets first: the GitHub call below may take seconds.
    after_commit(CredentialsRevoked(user_id=account.id))
    problem = None
    if doomed.github_token_sealed:
        problem = await revoke_removed_grant(doomed.github_token_sealed)
    if doomed.photo_file:
        await remove_photo_file_if_unused(doomed.photo_file)
    return SuccessPayload(success=True, errors=[UserError.from_error(problem)] if problem else [])


async def _find(user_id: int) -> Doomed:
    # Locks (on PostgreSQL) the account and its teams, so no member joins a
    # team while this decides that the team goes.
    user = await UserModel.filter(id=user_id).select_for_update().first()
    if user is None:
        raise NotFound("This account no longer exists.")
    memberships = await TeamMember.filter(user_id=user_id).select_related("team")
    team_ids = [m.team_id for m in memberships]
    others: dict[int, int] = defaultdict(int)
    other_admins: dict[int, int] = defaultdict(int)
    counted: list[tuple[int, str, int]] = []
    if team_ids:
        # A whole-row query: values_list() would drop the FOR UPDATE.
        await Team.filter(id__in=team_ids).select_for_update()
        counted = (
            await TeamMember.filter(team_id__in=team_ids)
            .exclude(user_id=user_id)
            .annotate(members=Count("id"))
            .group_by("team_id", "role")
            .values_list("team_id", "role", "members")
        )
    for team_id, role, members in counted:
        others[team_id] += members
        if role == TeamRole.ADMIN:
            other_admins[team_id] += members
    stranded = sorted(
        m.team.name
        for m in memberships
        if m.role == TeamRole.ADMIN and others[m.team_id] and not other_admins[m.team_id]
    )
    if stranded:
        names = ", ".join(repr(name) for name in stranded)
        raise Conflict(
            f"You are the only admin of {names}, which {'has' if len(stranded) == 1 else 'have'} "
            f"other members: make another member an admin, or remove them, first."
        )
    alone = [m.team for m in memberships if not others[m.team_id]]
    # The storage writers' lock: a file report waiting on it finds the entity gone.
    entity_ids = [user.entity_id, *(team.entity_id for team in alone)]
    await Entity.filter(id__in=entity_ids).select_for_update(no_key=True)
    github = await GithubIntegration.filter(user_id=user_id).first()
    return Doomed(
        user_id=user_id,
        entity_id=user.entity_id,
        photo_file=user.photo_file,
        github_token_sealed=github.token_sealed if github else None,
        teams=alone,
    )


async def _delete_teams_left_empty(doomed: Doomed) -> None:
    if not doomed.teams:
        return
    await dissolve(doomed.teams)
    await Entity.filter(id__in=[team.entity_id for team in doomed.teams]).delete()


async def _delete_memberships(doomed: Doomed) -> None:
    await TeamMember.filter(user_id=doomed.user_id).delete()
    await Invite.filter(to_user_id=doomed.user_id).delete()
    # Invitations it sent stand: the invitee may still answer them.
    await Invite.filter(from_user_id=doomed.user_id).update(from_user_id=None)


async def _delete_credentials(doomed: Doomed) -> None:
    await ApiKey.filter(user_id=doomed.user_id).delete()
    await OAuthState.filter(user_id=doomed.user_id).delete()


async def _delete_preferences(doomed: Doomed) -> None:
    await UserBetaFeature.filter(user_id=doomed.user_id).delete()


async def _delete_alerts(doomed: Doomed) -> None:
    await AlertDelivery.filter(user_id=doomed.user_id).delete()
    await AlertEvent.filter(user_id=doomed.user_id).delete()
    await AlertSubscription.filter(user_id=doomed.user_id).delete()


async def _delete_integrations(doomed: Doomed) -> None:
    await SlackIntegration.filter(user_id=doomed.user_id).delete()
    await GithubIntegration.filter(user_id=doomed.user_id).delete()


async def _delete_storage(doomed: Doomed) -> None:
    await storage_ledger.remove_all([doomed.entity_id])


async def _delete_profile(doomed: Doomed) -> None:
    await UserModel.filter(id=doomed.user_id).delete()
    now = datetime.now(UTC)
    await Entity.filter(id=doomed.entity_id).update(
        deleted_at=now, tokens_valid_after=now, storage_limit_bytes=None
    )
