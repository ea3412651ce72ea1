"""API keys: generate (secret shown once), rename, delete."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from auth import api_keys
from errors import LimitExceeded, NotFound
from models.api_key import ApiKey as ApiKeyModel
from models.user import User as UserModel
from resolvers.context import Info
from resolvers.validation import Checks, text
from schema.api_key import (
    ApiKey,
    ApiKeyPayload,
    DeleteApiKeyInput,
    GenerateApiKeyInput,
    GenerateApiKeyPayload,
    RenameApiKeyInput,
)
from schema.common import SuccessPayload

MAX_KEYS_PER_USER = 100
#: The largest value of the integer primary key: PostgreSQL refuses to compare more.
MAX_ID = 2**31 - 1


NAME_LENGTH = 128


def _name(value: str) -> str:
    return text(value, field="name", label="Key name", min_length=1, max_length=NAME_LENGTH)


async def generate_api_key(info: Info, input: GenerateApiKeyInput) -> GenerateApiKeyPayload:
    checks = Checks()
    name = checks.run(_name, input.name) if input.name is not None else None
    description = None
    if input.description is not None:
        description = checks.run(
            text, input.description, field="description", label="Description", max_length=1024
        )
    checks.done()
    account = info.context.viewer
    new = api_keys.generate()
    # W&B's client sends a description alone: the key is named after it, or its prefix.
    name = name or _first_line(description) or f"Key {new.prefix}"
    async with in_transaction():
        # The account's row locked until commit: concurrent requests count one at a
        # time, so none of them sees room that another is about to take.
        await UserModel.filter(id=account.id).select_for_update().first()
        if await ApiKeyModel.filter(user_id=account.id).count() >= MAX_KEYS_PER_USER:
            raise LimitExceeded(f"An account may hold at most {MAX_KEYS_PER_USER} API keys.")
        key = await ApiKeyModel.create(
            user_id=account.id,
            name=name,
            description=description or None,
            prefix=new.prefix,
            key_hash=new.key_hash,
        )
    return GenerateApiKeyPayload(api_key=ApiKey.from_model(key), secret=new.secret)


def _first_line(description: str | None) -> str | None:
    """What of a description makes a key's name: its first line, cut to fit."""
    if not description:
        return None
    return description.strip().splitlines()[0][:NAME_LENGTH].strip() or None


async def _own_key(account: UserModel, key_id: str) -> ApiKeyModel:
    key = None
    # isdigit() alone passes "²", which int() refuses.
    if key_id.isascii() and key_id.isdigit() and len(key_id) < 19 and int(key_id) <= MAX_ID:
        key = await ApiKeyModel.filter(id=int(key_id), user_id=account.id).first()
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
    return SuccessPayload(success=True)
