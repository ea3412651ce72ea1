"""Teams and organizations: creation (admins), membership (team admins), lookups."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from errors import AlreadyExists, Conflict, Forbidden, Invalid, NotFound
from models.entity import NAME_LENGTH, Entity, name_key
from models.team import Organization as OrganizationModel
from models.team import Team as TeamModel
from models.team import TeamMember, TeamRole, TeamType
from models.user import User as UserModel
from notifiers.hooks import CredentialsRevoked, after_commit
from resolvers.context import Info
from resolvers.erasure import dissolve
from resolvers.validation import Checks, lookup_key, row_id, shown
from schema.common import SuccessPayload
from schema.entity import Entity as EntitySchema
from schema.team import (
    AddTeamMemberInput,
    CreateTeamInput,
    CreateTeamPayload,
    DeleteTeamInput,
    Organization,
    RemoveTeamMemberInput,
    Team,
    TeamPayload,
    UpdateTeamMemberInput,
    viewer_role,
)
from text_checks import text, unstorable

TEAM_NAME = re.compile(rf"[A-Za-z0-9_-]{{3,{NAME_LENGTH}}}")
MAX_ORGANIZATIONS = 100
DEFAULT_ORGANIZATIONS = 20
ORGANIZATION_NAME_LENGTH = 128
#: The largest value of an integer primary key.


@dataclass(frozen=True)
class OrganizationChoice:
    """At most one of: an existing organization's id, or a name to find or create.
    Neither: a team of no organization, as W&B's createTeam makes."""

    id: str | None = None
    name: str | None = None


async def answer_team(info: Info, team: TeamModel) -> Team:
    """A team as a mutation answers it, as it is now after the mutation's writes."""
    info.context.fresh_loaders()
    row = await info.context.loaders.team_by_id.load(team.id)
    if row is None:
        raise AssertionError("a team answered by a mutation exists")
    return Team.from_row(row, await viewer_role(info, team.id))


# Queries


async def team(info: Info, name: str) -> Team | None:
    viewer = info.context.user
    key = lookup_key(name)
    if viewer is None or key is None:
        return None
    found = await info.context.loaders.team_by_name_key.load(key)
    if found is None:
        return None
    role = await viewer_role(info, found.team_id)
    # Anyone else gets the same null as for a team that does not exist.
    if not viewer.admin and role is None:
        return None
    return Team.from_row(found, role)


async def organizations(
    info: Info, search: str | None = None, first: int | None = DEFAULT_ORGANIZATIONS
) -> list[Organization]:
    found = await organizations_matching(search, first)
    return [Organization.of(o.id, o.name) for o in found]


def organizations_matching(search: str | None, first: int | None) -> QuerySet[OrganizationModel]:
    """Organizations whose name starts with `search`, any case, at most 100, by name."""
    limit = min(max(first if first is not None else DEFAULT_ORGANIZATIONS, 0), MAX_ORGANIZATIONS)
    query = OrganizationModel.all()
    if search and unstorable(search):
        return query.limit(0)  # no name holds it, and the database could not compare it
    if search and search.strip():
        prefix = name_key(search.strip())
        # LIKE 'prefix%' on the lower-cased key: a range scan of its pattern index.
        query = query.filter(name_key__startswith=prefix)
    return query.order_by("name_key").limit(limit)


# createTeam


async def create_team(info: Info, input: CreateTeamInput) -> CreateTeamPayload:
    checks = Checks()
    team_name = checks.run(_team_name, input.team_name)
    choice = checks.run(_organization_choice, input)
    checks.done()
    if team_name is None or choice is None:
        raise AssertionError("checks.done() raises for a failed check")
    admin = info.context.viewer
    admin_name = (input.team_admin_user_name or "").strip()
    if admin_name:
        found = await user_named(admin_name)
        if found is None:
            raise NotFound(
                f"There is no user named {shown(admin_name)!r}.", field="teamAdminUserName"
            )
        admin = found
    async with in_transaction():
        entity = await _claim_team_name(team_name)
        organization = await _organization(choice)
        created = await TeamModel.create(
            entity=entity,
            name=team_name,
            type=input.type or TeamType.WORK,
            organization=organization,
        )
        await TeamMember.create(team=created, user=admin, role=TeamRole.ADMIN)
    answered = await answer_team(info, created)
    return CreateTeamPayload(team=answered, entity=EntitySchema.from_model(entity))


def _team_name(value: str) -> str:
    value = value.strip()
    if not TEAM_NAME.fullmatch(value):
        raise Invalid(
            f"A team name must be 3 to {NAME_LENGTH} characters: letters, digits, '-' and '_'.",
            field="teamName",
        )
    return value


def _organization_choice(input: CreateTeamInput) -> OrganizationChoice:
    organization_id = (input.organization_id or "").strip() or None
    organization_name = (input.organization_name or "").strip() or None
    if input.organization_name is not None and organization_name is None:
        raise Invalid("Organization name cannot be empty.", field="organizationName")
    if organization_id and organization_name:
        raise Invalid(
            "Choose an existing organization or name a new one, not both.",
            field="organizationName",
        )
    if organization_name:
        name = text(
            organization_name,
            field="organizationName",
            label="Organization name",
            min_length=1,
            max_length=ORGANIZATION_NAME_LENGTH,
        )
        key = name_key(name)
        if not key:
            # Nothing but invisible characters: a name no one could read or type.
            raise Invalid("Organization name has no visible character.", field="organizationName")
        if len(key) > ORGANIZATION_NAME_LENGTH:
            raise Invalid("Organization name is too long.", field="organizationName")
        return OrganizationChoice(name=name)
    if organization_id:
        return OrganizationChoice(id=organization_id)
    return OrganizationChoice()


async def _claim_team_name(team_name: str) -> Entity:
    # The unique index on `name_key` decides between concurrent claims (and against
    # usernames); the savepoint keeps the PostgreSQL transaction usable afterwards.
    try:
        async with in_transaction():
            return await Entity.create(name=team_name, name_key=name_key(team_name), is_team=True)
    except IntegrityError:
        raise AlreadyExists(f"The name '{team_name}' is taken.", field="teamName") from None


async def _organization(choice: OrganizationChoice) -> OrganizationModel | None:
    if choice.id is not None:
        found = None
        if (number := row_id(choice.id)) is not None:
            found = await OrganizationModel.filter(id=number).first()
        if found is None:
            raise NotFound("There is no organization with that id.", field="organizationId")
        return found
    if choice.name is None:
        return None  # a team of no organization
    key = name_key(choice.name)
    found = await OrganizationModel.filter(name_key=key).first()
    if found is not None:
        return found
    try:
        async with in_transaction():
            return await OrganizationModel.create(name=choice.name, name_key=key)
    except IntegrityError:
        # Created by a concurrent request since we looked: reuse it.
        return await OrganizationModel.get(name_key=key)


# Membership


async def add_team_member(info: Info, input: AddTeamMemberInput) -> TeamPayload:
    viewer = info.context.viewer
    async with in_transaction():
        # Site admins only (the field's permission): anyone else invites (`createInvite`).
        managed = await locked_team(viewer, input.team_name)
        user = await person(input.username)
        try:
            async with in_transaction():
                await TeamMember.create(team=managed, user=user, role=input.role or TeamRole.MEMBER)
        except IntegrityError:
            raise AlreadyExists(
                f"'{user.username}' is already a member of {managed.name}.", field="username"
            ) from None
    return TeamPayload(team=await answer_team(info, managed))


async def update_team_member(info: Info, input: UpdateTeamMemberInput) -> TeamPayload:
    viewer = info.context.viewer
    async with in_transaction():
        managed = await locked_team(viewer, input.team_name)
        await require_team_admin(viewer, managed)
        membership = await _membership(managed, input.username)
        if membership.role == TeamRole.ADMIN and input.role != TeamRole.ADMIN:
            # Even when it is the only member: a team without an admin cannot be managed.
            if await _admin_count(managed) <= 1:
                raise Conflict(
                    f"'{membership.user.username}' is the last admin of {managed.name}: "
                    "make another member an admin first.",
                    field="username",
                )
        await TeamMember.filter(id=membership.id).update(role=input.role)
    return TeamPayload(team=await answer_team(info, managed))


async def remove_team_member(info: Info, input: RemoveTeamMemberInput) -> TeamPayload:
    viewer = info.context.viewer
    leaving = name_key(input.username.strip()) == name_key(viewer.username)
    async with in_transaction():
        managed = await locked_team(viewer, input.team_name)
        viewer_role = await _role_of(viewer, managed)
        if not (viewer_role == TeamRole.ADMIN or (leaving and viewer_role is not None)):
            raise _not_team_admin(managed.name)
        membership = await _membership(managed, input.username)
        if membership.role == TeamRole.ADMIN and await _admin_count(managed) <= 1:
            if await TeamMember.filter(team_id=managed.id).count() > 1:
                raise Conflict(
                    f"'{membership.user.username}' is the last admin of {managed.name}, "
                    "which has other members: make one of them an admin first.",
                    field="username",
                )
            # A team nobody is in could never be managed, nor its name used again.
            raise Conflict(
                f"'{membership.user.username}' is the last member of {managed.name}: "
                "delete the team instead.",
                field="username",
            )
        await TeamMember.filter(id=membership.id).delete()
        # Projects can no longer go to a team the user has left.
        user = membership.user
        await UserModel.filter(id=user.id, default_entity_id=managed.entity_id).update(
            default_entity_id=user.entity_id
        )
    if viewer.id == user.id and viewer.default_entity_id == managed.entity_id:
        viewer.default_entity_id = viewer.entity_id
    return TeamPayload(team=await answer_team(info, managed))


async def delete_team(info: Info, input: DeleteTeamInput) -> SuccessPayload:
    viewer = info.context.viewer
    async with in_transaction():
        managed = await locked_team(viewer, input.team_name)
        await require_team_admin(viewer, managed)
        erased = await dissolve([managed])
        # The entity stays as a tombstone: the name stays taken, so that links and
        # projects naming the team can never reach whoever claims it next.
        await Entity.filter(id=managed.entity_id).update(
            deleted_at=datetime.now(UTC), storage_limit_bytes=None
        )
    for user_id in erased:  # its service accounts' sockets end with them
        after_commit(CredentialsRevoked(user_id=user_id))
    if viewer.default_entity_id == managed.entity_id:
        viewer.default_entity_id = viewer.entity_id
    return SuccessPayload(success=True)


def _not_team_admin(team_name: str) -> Forbidden:
    # The same refusal for a team that does not exist: names must not be probed.
    return Forbidden(f"Only an admin of team '{shown(team_name)}' may do that.")


async def locked_team(viewer: UserModel, team_name: str, *, field: str = "teamName") -> TeamModel:
    """The team, its row locked until commit so that membership changes of one team
    happen one at a time (no two admins demoting each other at once)."""
    key = lookup_key(team_name)
    found = None if key is None else await TeamModel.filter(entity__name_key=key).first()
    if found is None:
        if viewer.admin:  # admins see every team, so nothing is revealed
            raise NotFound(f"There is no team named {shown(team_name)!r}.", field=field)
        raise _not_team_admin(team_name)
    await lock_team(found.id)
    return found


async def lock_team(team_id: int) -> None:
    await TeamModel.filter(id=team_id).select_for_update().first()


async def _role_of(user: UserModel, team: TeamModel) -> TeamRole | None:
    membership = await TeamMember.filter(team_id=team.id, user_id=user.id).first()
    return membership.role if membership else None


async def require_team_admin(viewer: UserModel, team: TeamModel) -> None:
    if await _role_of(viewer, team) != TeamRole.ADMIN:
        raise _not_team_admin(team.name)


async def user_named(username: str) -> UserModel | None:
    key = lookup_key(username)
    return None if key is None else await UserModel.filter(entity__name_key=key).first()


async def existing_user(username: str) -> UserModel:
    user = await user_named(username.strip())
    if user is None:
        raise NotFound(f"There is no user named {shown(username)!r}.", field="username")
    return user


async def _membership(team: TeamModel, username: str) -> TeamMember:
    user = await existing_user(username)
    membership = await TeamMember.filter(team_id=team.id, user_id=user.id).first()
    if membership is None:
        raise NotFound(f"'{user.username}' is not a member of {team.name}.", field="username")
    if user.service:
        raise Conflict(
            f"'{user.username}' is a service account of {team.name}: it stays a member until "
            "it is deleted (deleteServiceAccount).",
            field="username",
        )
    membership.user = user
    return membership


async def person(username: str) -> UserModel:
    """The account of a person (not a service account) to put in a team."""
    user = await existing_user(username)
    if user.service:
        raise Invalid(
            f"'{user.username}' is a service account: it belongs to its own team only.",
            field="username",
        )
    return user


async def _admin_count(team: TeamModel) -> int:
    return await TeamMember.filter(team_id=team.id, role=TeamRole.ADMIN).count()
