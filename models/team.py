from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.expressions import Q
from tortoise.models import Model

from models.timestamps import Timestamp

if TYPE_CHECKING:
    from models.entity import Entity
    from models.user import User


#: PostgreSQL only, run by the migration: a b-tree in byte order so that
#: `name_key LIKE 'prefix%'` (the organization dropdown) is an index range scan
#: whatever the database collation. SQLite, the embedded default, does without.
ORGANIZATION_PREFIX_INDEX_SQL = (
    'CREATE INDEX IF NOT EXISTS "organization_name_key_prefix" '
    'ON "organization" ("name_key" varchar_pattern_ops)'
)
#: PostgreSQL only, run by a later migration: a finer histogram of the names, so
#: that the planner estimates a prefix's matches well enough to pick the range scan
#: above over walking the unique index in name order (with the default it once
#: guessed 2,020 matches for "org 4242" among 200,000 instead of 11).
ORGANIZATION_NAME_STATISTICS_SQL = (
    'ALTER TABLE "organization" ALTER COLUMN "name_key" SET STATISTICS 1000'
)


class TeamType(StrEnum):
    WORK = "WORK"
    ACADEMIC = "ACADEMIC"


class TeamRole(StrEnum):
    ADMIN = "ADMIN"
    MEMBER = "MEMBER"


class Organization(Model):
    """A company or school that teams belong to."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=128)
    #: `name` lower-cased: unique, so a name is reused rather than duplicated,
    #: and indexed for the prefix search of the team-creation dropdown.
    name_key = fields.CharField(max_length=128, unique=True)
    created_at = Timestamp(auto_now_add=True)

    teams: fields.ReverseRelation[Team]

    class Meta:
        table = "organization"


class Team(Model):
    """A team entity, its name (on its entity) never changes."""

    id = fields.IntField(primary_key=True)
    entity: fields.OneToOneRelation[Entity] = fields.OneToOneField(
        "models.Entity", related_name="team", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=64)
    type = fields.CharEnumField(TeamType, max_length=16)
    organization: fields.ForeignKeyNullableRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="teams", null=True, on_delete=fields.SET_NULL
    )
    created_at = Timestamp(auto_now_add=True)

    members: fields.ReverseRelation[TeamMember]
    invites: fields.ReverseRelation[Invite]

    entity_id: int
    organization_id: int | None

    class Meta:
        table = "team"


class TeamMember(Model):
    """A user's membership of a team, with its role."""

    id = fields.IntField(primary_key=True)
    team: fields.ForeignKeyRelation[Team] = fields.ForeignKeyField(
        "models.Team", related_name="members", on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="memberships", on_delete=fields.CASCADE
    )
    role = fields.CharEnumField(TeamRole, default=TeamRole.MEMBER, max_length=16)
    joined_at = Timestamp(auto_now_add=True)

    team_id: int
    user_id: int

    class Meta:
        table = "team_member"
        unique_together = (("team", "user"),)
        # A user's teams are read on every settings page.
        indexes = (("user_id",),)


class Invite(Model):
    """An invitation to join a team, waiting for the invitee's answer: to an account
    by username, or to whoever signs in with an email address."""

    id = fields.IntField(primary_key=True)
    team: fields.ForeignKeyRelation[Team] = fields.ForeignKeyField(
        "models.Team", related_name="invites", on_delete=fields.CASCADE
    )
    #: The admin who sent it, null once that account is deleted.
    from_user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="sent_invites", null=True, on_delete=fields.SET_NULL
    )
    #: An invitation by username.
    to_user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="invites", null=True, on_delete=fields.CASCADE
    )
    #: An invitation by email, as it was typed, and lower-cased (`email_key`): the
    #: account whose address it is may accept it.
    email = fields.CharField(max_length=320, null=True)
    email_key = fields.CharField(max_length=320, null=True, db_index=True)
    role = fields.CharEnumField(TeamRole, default=TeamRole.MEMBER, max_length=16)
    created_at = Timestamp(auto_now_add=True)

    team_id: int
    from_user_id: int | None
    to_user_id: int | None

    @staticmethod
    def addressed_to(user_id: int, address_key: str | None) -> Q:
        """The invitations an account may answer: by its id, or by its address's key."""
        mine = Q(to_user_id=user_id)
        return mine | Q(email_key=address_key) if address_key else mine

    class Meta:
        table = "team_invite"
        # One invitation per invitee and team; NULLs (the other kind) never collide.
        unique_together = (("team", "to_user"), ("team", "email_key"))
