"""The viewer's profile, photo and project defaults."""

from __future__ import annotations

import asyncio

from starlette.datastructures import UploadFile
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

import config
from errors import Invalid
from models.entity import name_key
from models.user import User as UserModel
from resolvers.context import Info
from resolvers.entities import acting_for
from resolvers.validation import Checks, given, lookup_key, shown
from schema.user import (
    USER_CURSORS,
    Profile,
    RemoveProfilePhotoInput,
    UpdateProjectDefaultsInput,
    UpdateProjectDefaultsPayload,
    UpdateUserInput,
    UpdateUserPayload,
    UploadProfilePhotoInput,
    User,
    UserConnection,
    load_project_defaults,
)
from services import photos
from text_checks import http_url, text, unstorable

#: (input field, model attribute, label, max length, multi-line)
_OPTIONAL_TEXT = (
    ("institution", "institution", "Institution", 128, False),
    ("bio", "bio", "Bio", 2000, True),
    ("location", "location", "Location", 128, False),
)


async def viewer(info: Info) -> User | None:
    return User.from_model(info.context.user) if info.context.user else None


async def user(info: Info, username: str) -> Profile | None:
    key = lookup_key(username)
    if key is None:
        return None
    found = await UserModel.filter(entity__name_key=key).first()
    return Profile.from_account(found) if found else None


async def users(
    info: Info, query: str | None = None, first: int | None = 20, after: str | None = None
) -> UserConnection:
    """Accounts whose username or email starts with `query` (any case), by username."""
    window = USER_CURSORS.window(first, after)
    found = UserModel.all()
    search = (query or "").strip()
    if search and unstorable(search):
        return USER_CURSORS.connect(UserConnection, [], window.size, User.from_model)
    if search:
        # The username's key, as the unique index keeps it; the address as it was given.
        found = found.filter(
            Q(entity__name_key__startswith=name_key(search)) | Q(email__istartswith=search)
        )
    if window.after is not None:
        found = found.filter(entity__name_key__gt=window.after)
    rows = await found.order_by("entity__name_key").limit(window.size + 1)
    return USER_CURSORS.connect(UserConnection, rows, window.size, User.from_model)


async def update_user(info: Info, input: UpdateUserInput) -> UpdateUserPayload:
    changes = _profile_changes(input)
    account = info.context.viewer
    if changes:
        await UserModel.filter(id=account.id).update(**changes)
        await account.refresh_from_db()
    return UpdateUserPayload(user=User.from_model(account))


def _profile_changes(input: UpdateUserInput) -> dict[str, object]:
    checks = Checks()
    changes: dict[str, object] = {}
    if given(input.name):
        changes["name"] = checks.run(
            text, input.name, field="name", label="Name", min_length=1, max_length=128
        )
    for field, attribute, label, max_length, multiline in _OPTIONAL_TEXT:
        value = getattr(input, field)
        if given(value):
            cleaned = checks.run(
                text, value, field=field, label=label, max_length=max_length, multiline=multiline
            )
            changes[attribute] = cleaned or None
    if given(input.website_url):
        url = input.website_url.strip()
        changes["website_url"] = (
            checks.run(http_url, url, field="websiteUrl", label="Website URL") if url else None
        )
    if given(input.hide_teams_from_public):
        changes["hide_teams_from_public"] = input.hide_teams_from_public
    checks.done()
    return changes


async def upload_profile_photo(info: Info, input: UploadProfilePhotoInput) -> UpdateUserPayload:
    upload = input.file
    if not isinstance(upload, UploadFile):
        # `Upload` takes any value: a JSON request (or a multipart one whose map
        # points elsewhere) hands us a string or a number instead of a file.
        raise Invalid("Send the photo as a file in a multipart request.", field=photos.FIELD)
    photos.check_content_type(upload.content_type)
    data = await upload.read(config.MAX_PHOTO_BYTES + 1)
    encoded, extension = await photos.reencoded(data)
    stored = await asyncio.to_thread(photos.store, encoded, extension)
    account = info.context.viewer
    await _replace_photo(account, stored.file_name, stored.size_bytes)
    return UpdateUserPayload(user=User.from_model(account))


async def remove_profile_photo(info: Info, input: RemoveProfilePhotoInput) -> UpdateUserPayload:
    account = info.context.viewer
    await _replace_photo(account, None, 0)
    return UpdateUserPayload(user=User.from_model(account))


async def _replace_photo(account: UserModel, file_name: str | None, size_bytes: int) -> None:
    old = account.photo_file
    await UserModel.filter(id=account.id).update(photo_file=file_name, photo_bytes=size_bytes)
    account.photo_file, account.photo_bytes = file_name, size_bytes
    if old and old != file_name:
        await remove_photo_file_if_unused(old)


async def remove_photo_file_if_unused(file_name: str) -> None:
    # Files are named by content, so two accounts with the same photo share one.
    if not await UserModel.filter(photo_file=file_name).exists():
        await asyncio.to_thread(photos.remove, file_name)


async def update_project_defaults(
    info: Info, input: UpdateProjectDefaultsInput
) -> UpdateProjectDefaultsPayload:
    account = info.context.viewer
    changes: dict[str, object] = {}
    if given(input.privacy):
        changes["default_privacy"] = input.privacy
    if given(input.code_saving_enabled):
        changes["code_saving_enabled"] = input.code_saving_enabled
    async with in_transaction():
        if given(input.entity_name):
            changes["default_entity_id"] = await _available_entity_id(account, input.entity_name)
        if changes:
            await UserModel.filter(id=account.id).update(**changes)
    await account.refresh_from_db()
    defaults = await load_project_defaults(info, account)
    return UpdateProjectDefaultsPayload(project_defaults=defaults)


async def _available_entity_id(account: UserModel, entity_name: str) -> int:
    entity = await acting_for(account, entity_name, lock=True)
    if entity is None:
        # Same answer for a team that does not exist and one the viewer is not in.
        raise Invalid(
            f"'{shown(entity_name)}' is neither your account nor a team you belong to.",
            field="entityName",
        )
    return entity.entity_id
