"""API keys: 40 random characters, shown once, stored as a SHA-256."""

from __future__ import annotations

import hashlib
import secrets
import string
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.expressions import Q

from auth.errors import InvalidCredentials
from models.api_key import ApiKey
from models.prepared import Prepared

KEY_LENGTH = 40
PREFIX_LENGTH = 8
_ALPHABET = string.ascii_letters + string.digits
#: A key with its owner and the owner's entities (see `auth.accounts`), built once.
_KEY = Prepared(
    lambda keys: (
        ApiKey.filter(key_hash=keys[0])
        .select_related("user__entity", "user__default_entity")
        .limit(1)
    )
)
#: `lastUsedAt` is written only when the stored value is older than this: a busy key
#: costs one UPDATE per five minutes (across every process, as the update is
#: conditional), not one per request, and `lastUsedAt` lags its newest use by at most
#: five minutes.
LAST_USED_RESOLUTION = timedelta(minutes=5)


@dataclass(frozen=True)
class NewKey:
    secret: str
    prefix: str
    key_hash: str


def generate() -> NewKey:
    secret = "".join(secrets.choice(_ALPHABET) for _ in range(KEY_LENGTH))
    return NewKey(secret=secret, prefix=secret[:PREFIX_LENGTH], key_hash=hash_key(secret))


def expired(expires_at: datetime) -> str:
    """Why a key is refused once `expires_at` has passed, over HTTP and on a socket."""
    return f"The API key expired at {expires_at.astimezone(UTC).isoformat(timespec='seconds')}."


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def live_key(secret: str) -> ApiKey:
    """A live key, its owner read with it (and its scopes and expiry, columns of the
    same row); `InvalidCredentials` for a malformed, unknown, deleted or expired one."""
    if len(secret) != KEY_LENGTH or not all(c in _ALPHABET for c in secret):
        raise InvalidCredentials("The API key is malformed: it must be 40 letters and digits.")
    found = await _KEY([hash_key(secret)])
    key = found[0] if found else None
    if key is None:
        raise InvalidCredentials("The API key is not valid: it may have been deleted.")
    now = datetime.now(UTC)
    if key.expires_at is not None and key.expires_at <= now:
        # Refused before `lastUsedAt` is written: an expired key is not a use.
        raise InvalidCredentials(expired(key.expires_at))
    if key.last_used_at is None or key.last_used_at < now - LAST_USED_RESOLUTION:
        # A conditional update: concurrent requests write it once between them.
        await ApiKey.filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION),
            id=key.id,
        ).update(last_used_at=now)
    return key
