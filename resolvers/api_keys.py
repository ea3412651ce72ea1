"""API keys: generate (secret shown once), rename, delete."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from tortoise.transactions import in_transaction

from auth import api_keys
from errors import Invalid, LimitExceeded, NotFound
from models.api_key import DEFAULT_SCOPES, ApiKeyScope, encode_scopes
from models.api_key import ApiKey as ApiKeyModel
from models.user import User as UserModel
from notifiers.hooks import CredentialsRevoked, after_commit
from resolvers.context import Info
from resolvers.validation import Checks, row_id
from schema.api_key import (
    ApiKey,
    ApiKeyPayload,
    DeleteApiKeyInput,
    GenerateApiKeyInput,
    GenerateApiKeyPayload,
    RenameApiKeyInput,
)
from schema.common import SuccessPayload
from text_checks import text

MAX_KEYS_PER_USER = 100
#: The largest value of the integer primary key: PostgreSQL refuses to compare more.


NAME_LENGTH = 128
#: The furthest ahead an expiry may be. An expiry is for a temporary key (a rented
#: machine, a CI job): a date years ahead is most likely a year typed wrong, and a key
#: meant to live longer is made without `expiresAt`, so the key list shows it as one
#: that never expires rather than hiding that behind a distant date.
MAX_LIFETIME = timedelta(days=366)


def _name(value: str) -> str:
    return text(value, field="name", label="Key name", min_length=1, max_length=NAME_LENGTH)


def _scopes(value: list[ApiKeyScope] | None) -> frozenset[ApiKeyScope]:
    if value is None:
        return DEFAULT_SCOPES
    if not value:
        raise Invalid("A key needs at least one scope.", field="scopes")
    # Whoever reaches here may mint any scope: the field needs ACCOUNT, so the caller is
    # a session or an ACCOUNT key, which can already change all a key of another scope can.
    return frozenset(value)


def _expiry(value: datetime | None, minting_key_expires_at: float | None) -> datetime | None:
    """The new key's expiry. One made with an expiring key expires no later than that
    key, by default when it does: else a key leaked for a day could mint one for ever."""
    ceiling = None
    if minting_key_expires_at is not None:
        ceiling = datetime.fromtimestamp(minting_key_expires_at, UTC)
    if value is None:
        return ceiling
    if value.tzinfo is None:
        raise Invalid("Give the expiry's time zone, e.g. 2030-01-31T12:00:00Z.", field="expiresAt")
    now = datetime.now(UTC)
    if value <= now:
        raise Invalid("The expiry must be in the future.", field="expiresAt")
    if value > now + MAX_LIFETIME:
        raise Invalid(
            f"The expiry may be at most {MAX_LIFETIME.days} days ahead: for a longer-lived "
            "key, give none (it never expires).",
            field="expiresAt",
        )
    if ceiling is not None and value > ceiling:
        raise Invalid(
            f"A key made with an expiring key cannot outlive it: expire by "
            f"{ceiling.isoformat(timespec='seconds')}.",
            field="expiresAt",
        )
    return value.astimezone(UTC)


async def generate_api_key(info: Info, input: GenerateApiKeyInput) -> GenerateApiKeyPayload:
    checks = Checks()
    name = checks.run(_name, input.name) if input.name is not None else None
    description = None
    if input.description is not None:
        description = checks.run(
            text, input.description, field="description", label="Description", max_length=1024
        )
    scopes = checks.run(_scopes, input.scopes)
    minting_key_expires_at = None
    if info.context.api_key_id is not None:
        minting_key_expires_at = info.context.credentials_expire_at
    expires_at = checks.run(_expiry, input.expires_at, minting_key_expires_at)
    checks.done()
    assert scopes is not None  # noqa: S101 - checks.done() raised otherwise
    async with in_transaction():
        key, secret = await issue_key(
            info.context.viewer.id,
            name=name,
            description=description,
            scopes=scopes,
            expires_at=expires_at,
        )
    generated = ApiKey.from_model(key)
    if input.name is None:
        # W&B's SDK sends no name and returns `apiKey.name` as the key: this answer
        # alone names it so. The secret is in the payload already, and nothing stores it.
        generated = dataclasses.replace(generated, name=secret)
    return GenerateApiKeyPayload(api_key=generated, secret=secret)


async def issue_key(
    user_id: int,
    *,
    name: str | None,
    description: str | None,
    scopes: frozenset[ApiKeyScope] = DEFAULT_SCOPES,
    expires_at: datetime | None = None,
) -> tuple[ApiKeyModel, str]:
    """A new key of the account and its secret, within the caller's transaction."""
    new = api_keys.generate()
    # W&B's client sends a description alone: the key is named after it, or its prefix.
    name = name or _first_line(description) or f"Key {new.prefix}"
    # The account's row locked until commit: concurrent requests count one at a time,
    # so none of them sees room that another is about to take.
    await UserModel.filter(id=user_id).select_for_update().first()
    if await ApiKeyModel.filter(user_id=user_id).count() >= MAX_KEYS_PER_USER:
        raise LimitExceeded(f"An account may hold at most {MAX_KEYS_PER_USER} API keys.")
    key = await ApiKeyModel.create(
        user_id=user_id,
        name=name,
        description=description or None,
        prefix=new.prefix,
        key_hash=new.key_hash,
        scopes=encode_scopes(scopes),
        expires_at=expires_at,
    )
    return key, new.secret


def _first_line(description: str | None) -> str | None:
    """What of a description makes a key's name: its first line, cut to fit."""
    if not description:
        return None
    return description.strip().splitlines()[0][:NAME_LENGTH].strip() or None


async def _own_key(account: UserModel, key_id: str) -> ApiKeyModel:
    key = None
    if (number := row_id(key_id)) is not None:
        key = await ApiKeyModel.filter(id=number, user_id=account.id).first()
    if key is None:
        # Another user's key reads as missing: ids must not reveal other accounts' keys.
        raise NotFound("No API key of yours has that id.", field="id")
    return key


async def rename_api_key(info: Info, input: RenameApiKeyInput) -> ApiKeyPayload:
    name = _name(input.name)
    key = await _own_key(info.context.viewer, input.id)
    key.name = name
    await key.save(update_fields=["name"])
    return ApiKeyPayload(api_key=ApiKey.from_model(key))


async def delete_api_key(info: Info, input: DeleteApiKeyInput) -> SuccessPayload:
    key = await _own_key(info.context.viewer, input.id)
    await key.delete()
    # Committed (a statement of its own): every socket the key opened ends, on every process.
    after_commit(CredentialsRevoked(user_id=key.user_id, api_key_id=key.id))
    return SuccessPayload(success=True)
