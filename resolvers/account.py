"""Deleting the viewer's account: every row of it in one transaction
(`resolvers.erasure`), then the outside effects (the sockets it opened, the GitHub
grant, the photo file) once that has committed."""

from __future__ import annotations

from collections import defaultdict

from tortoise.functions import Count
from tortoise.transactions import in_transaction

from errors import Conflict, Invalid, NotFound
from models.entity import Entity
from models.integration import GithubIntegration
from models.team import Team, TeamMember, TeamRole
from models.user import User as UserModel
from notifiers.hooks import CredentialsRevoked, after_commit
from resolvers.context import Info
from resolvers.erasure import Doomed, erase_account
from resolvers.github import revoke_removed_grant
from resolvers.user import remove_photo_file_if_unused
from schema.account import DeleteAccountInput
from schema.common import SuccessPayload, UserError


async def delete_account(info: Info, input: DeleteAccountInput) -> SuccessPayload:
    account = info.context.viewer
    if input.confirm_username != account.username:
        raise Invalid(
            f"Type your username, {account.username!r}, exactly to confirm the deletion.",
            field="confirmUsername",
        )
    async with in_transaction():
        doomed = await _find(account.id)
        erased = await erase_account(doomed)
    # Effects outside the database cannot roll back, so they wait for the commit.
    # The sockets first: the GitHub call below may take seconds.
    for user_id in erased:
        after_commit(CredentialsRevoked(user_id=user_id))
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
