from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from models.timestamps import Timestamp

if TYPE_CHECKING:
    from models.storage import StorageCategoryCounter, StorageProjectCounter, StoredFile
    from models.team import Team
    from models.user import User


#: The longest name of a user or a team.
NAME_LENGTH = 64


class Entity(Model):
    """A name that owns projects: a user's own, or a team's. One namespace for both."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=NAME_LENGTH)
    #: `name` lower-cased: the unique index makes the namespace case-insensitive,
    #: so two concurrent sign-ups or team creations cannot take one name twice.
    name_key = fields.CharField(max_length=NAME_LENGTH, unique=True)
    is_team = fields.BooleanField(default=False)
    #: Set when the account was deleted: the name stays taken, and tokens issued
    #: before this moment never bring the account back.
    deleted_at = Timestamp(null=True)
    #: The storage quota, null means the default plan.
    storage_limit_bytes = fields.BigIntField(null=True)
    created_at = Timestamp(auto_now_add=True)

    user: fields.BackwardOneToOneRelation[User]
    team: fields.BackwardOneToOneRelation[Team]
    stored_files: fields.ReverseRelation[StoredFile]
    category_counters: fields.ReverseRelation[StorageCategoryCounter]
    project_counters: fields.ReverseRelation[StorageProjectCounter]

    class Meta:
        table = "entity"


def name_key(name: str) -> str:
    return name.casefold()
