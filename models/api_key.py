from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

from models.timestamps import Timestamp

if TYPE_CHECKING:
    from models.user import User


class ApiKeyScope(StrEnum):
    """What a key may do (`auth.permissions.NeedsScope`). Sessions are not scoped."""

    READ = "READ"
    RUNS = "RUNS"
    ACCOUNT = "ACCOUNT"


#: A new key's scopes: what a run tracker needs (read the viewer, report runs).
DEFAULT_SCOPES = frozenset({ApiKeyScope.READ, ApiKeyScope.RUNS})


def encode_scopes(scopes: Iterable[ApiKeyScope]) -> str:
    """The column's text: the scopes' names, in the enum's order, comma-separated."""
    held = set(scopes)
    return ",".join(scope for scope in ApiKeyScope if scope in held)


def decode_scopes(text: str) -> frozenset[ApiKeyScope]:
    # A name this version does not know (written by a newer one) grants nothing here.
    known = {scope.value for scope in ApiKeyScope}
    return frozenset(ApiKeyScope(name) for name in text.split(",") if name in known)


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
    #: Comma list of scope names (encode_scopes), read with the key at sign-in.
    #: Text rather than a bit set: readable in SQL, no bit numbers to keep stable.
    scopes = fields.CharField(
        max_length=64,
        default=encode_scopes(DEFAULT_SCOPES),
        # Keys made before scopes existed are run trackers' keys too: they get the
        # default, not ACCOUNT (a leaked one then cannot mint keys or delete the account).
        db_default=encode_scopes(DEFAULT_SCOPES),
    )
    #: Null for a key that never expires.
    expires_at = Timestamp(null=True)
    created_at = Timestamp(auto_now_add=True)
    last_used_at = Timestamp(null=True)

    user_id: int

    class Meta:
        table = "api_key"

    @property
    def scope_set(self) -> frozenset[ApiKeyScope]:
        return decode_scopes(self.scopes)
