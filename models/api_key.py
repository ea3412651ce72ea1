from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from models.timestamps import Timestamp

if TYPE_CHECKING:
    from models.user import User


class ApiKey(Model):
    """A key for run trackers, only its SHA-256 is stored."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="api_keys", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=128)
    description = fields.CharField(max_length=1024, null=True)
    #: The first characters of the key, shown so a user can recognise it.
    prefix = fields.CharField(max_length=16)
    #: SHA-256 of the whole key, hex, the key has 238 bits of entropy, so an
    #: unsalted fast hash is safe here and lets a request find its key by index.
    key_hash = fields.CharField(max_length=64, unique=True)
    created_at = Timestamp(auto_now_add=True)
    last_used_at = Timestamp(null=True)

    user_id: int

    class Meta:
        table = "api_key"
