"""Service accounts: made and removed by a team's admins, a member of that one team,
signed in with their API keys only (`auth.accounts` refuses tokens for them)."""

from __future__ import annotations

import secrets

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from errors import Conflict, LimitExceeded, NotFound
from models.entity import NAME_LENGTH, Entity, name_key
from models.team import Team as TeamModel
from models.team import TeamMember, TeamRole
from models.user import User as UserModel
from notifiers.hooks import CredentialsRevoked, after_commit
from resolvers.api_keys import issue_key
from resolvers.context import Info
from resolvers.erasure import Doomed, erase_account
from resolvers.teams import existing_user, locked_team, require_team_admin
from schema.api_key import ApiKey
from schema.common import SuccessPayload
from schema.service_account import (
    CreateServiceAccountInput,
    CreateServiceAccountPayload,
    DeleteServiceAccountInput,
)
from schema.user import User
from text_checks import text

#: Service accounts a team may have.
MAX_SERVICE_ACCOUNTS = 20
DESCRIPTION_LENGTH = 128


async def create_service_account(
    info: Info, input: CreateServiceAccountInput
) -> CreateServiceAccountPayload:
    description = text(
        input.description,
        field="description",
        label="Description",
        min_length=1,
        max_length=DESCRIPTION_LENGTH,
        multiline=True,
    )
    viewer = info.context.viewer
    async with in_transaction():
        team = await locked_team(viewer, input.entity_name, field="entityName")
        await require_team_admin(viewer, team)
        held = await TeamMember.filter(team_id=team.id, user__service=True).count()
        if held >= MAX_SERVICE_ACCOUNTS:
            raise LimitExceeded(
                f"{team.name} has {MAX_SERVICE_ACCOUNTS} service accounts: delete one first."
            )
        account = await _new_account(team, description)
        await TeamMember.create(team=team, user=account, role=TeamRole.MEMBER)
        key, secret = await issue_key(account.id, name=None, description=description)
    return CreateServiceAccountPayload(
        user=User.from_model(account), api_key=ApiKey.from_model(key), secret=secret
    )


async def _new_account(team: TeamModel, description: str) -> UserModel:
    # A name no one chose: "sa-" and a random tag before the team's, to stay unique.
    for _ in range(3):
        username = f"sa-{secrets.token_hex(3)}-{team.name}"[:NAME_LENGTH]
        try:
            async with in_transaction():
                entity = await Entity.create(name=username, name_key=name_key(username))
        except IntegrityError:
            continue
        return await UserModel.create(
            entity=entity,
            default_entity_id=team.entity_id,  # its runs go to its team
            username=username,
            name=description.splitlines()[0],
            service=True,
        )
    raise Conflict("No free name for the service account was found: try again.")


async def delete_service_account(info: Info, input: DeleteServiceAccountInput) -> SuccessPayload:
    viewer = info.context.viewer
    async with in_transaction():
        team = await locked_team(viewer, input.entity_name, field="entityName")
        await require_team_admin(viewer, team)
        account = await existing_user(input.username)
        member = await TeamMember.filter(team_id=team.id, user_id=account.id).exists()
        if not (account.service and member):
            raise NotFound(
                f"{team.name} has no service account named {account.username!r}.",
                field="username",
            )
        erased = await erase_account(Doomed(user_id=account.id, entity_id=account.entity_id))
    for user_id in erased:
        after_commit(CredentialsRevoked(user_id=user_id))
    return SuccessPayload(success=True)
