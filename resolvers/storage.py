"""Storage usage: file reports from run trackers, the usage of an entity, its limit."""

from __future__ import annotations

from collections.abc import Sequence

from tortoise.transactions import in_transaction

from errors import Forbidden, Invalid, LimitExceeded, NotFound
from models.entity import Entity
from models.user import User as UserModel
from resolvers.context import Info
from resolvers.entities import acting_for
from resolvers.validation import Checks, lookup_key, shown
from schema.storage import (
    DeleteStoredFilesInput,
    RecordStoredFilesInput,
    SetStorageLimitInput,
    StorageUsage,
    StorageUsagePayload,
    StoredFileInput,
    load_storage_usage,
)
from services import storage_ledger
from services.storage_ledger import FileReport
from text_checks import has_control_characters, text

MAX_FILES_PER_CALL = 1000
MAX_PATH_LENGTH = 1024
#: One file of more than a petabyte is a mistake. A whole call of them (10^18
#: bytes) stays below `storage_ledger.MAX_ENTITY_BYTES`, which bounds the sums
#: of many calls: the ledger refuses a report that would pass it.
MAX_FILE_BYTES = 10**15
#: An admin's limit: from one byte to an exabyte.
MAX_LIMIT_BYTES = 10**18


async def storage_usage(info: Info, entity_id: int) -> StorageUsage:
    """The usage of any entity as of now, after this request's own writes."""
    # Two mutations in one request share loaders: forget what the first one read.
    info.context.fresh_loaders()
    return await load_storage_usage(info, entity_id)


async def _writable_entity_id(account: UserModel, entity_name: str) -> int:
    """The entity the caller may report files for: its own, or a team it belongs to."""
    entity = await acting_for(account, entity_name)
    if entity is None:
        # One answer for a missing entity and another's: names must not be probed.
        raise Forbidden(
            f"You may report files only for your own account or a team you belong to, "
            f"not {shown(entity_name)!r}."
        )
    return entity.entity_id


def _project_name(value: str) -> str:
    return text(value, field="projectName", label="Project name", min_length=1, max_length=128)


def _path(path: str, index: int, field: str) -> str:
    where = f"{field} #{index + 1}"
    if not path:
        raise Invalid(f"The path of {where} is empty.", field=field)
    if len(path) > MAX_PATH_LENGTH:
        raise Invalid(
            f"The path of {where} is {len(path)} characters: at most {MAX_PATH_LENGTH} allowed.",
            field=field,
        )
    if has_control_characters(path):
        raise Invalid(f"The path of {where} contains control characters.", field=field)
    return path


def _too_many(count: int, field: str) -> LimitExceeded:
    return LimitExceeded(
        f"At most {MAX_FILES_PER_CALL} files a call, not {count}: send them in parts.",
        field=field,
    )


def _unique(paths: Sequence[str], field: str) -> None:
    seen: set[str] = set()
    for index, path in enumerate(paths):
        if path in seen:
            raise Invalid(f"{field} #{index + 1} repeats the path {path[:80]!r}.", field=field)
        seen.add(path)


def _report(file: StoredFileInput, index: int) -> FileReport:
    path = _path(file.path, index, "files")
    if not 0 <= file.size_bytes <= MAX_FILE_BYTES:
        raise Invalid(
            f"The size of files #{index + 1} ({file.path[:80]!r}) must be from 0 to "
            f"{MAX_FILE_BYTES} bytes, not {file.size_bytes}.",
            field="files",
        )
    return FileReport(path=path, category=file.category, size_bytes=file.size_bytes)


def _reports(checks: Checks, files: Sequence[StoredFileInput]) -> list[FileReport]:
    if len(files) > MAX_FILES_PER_CALL:
        checks.add(_too_many(len(files), "files"))
        return []
    reports = [checks.run(_report, file, index) for index, file in enumerate(files)]
    valid = [r for r in reports if r is not None]
    checks.run(_unique, [r.path for r in valid], "files")
    return valid


async def record_stored_files(info: Info, input: RecordStoredFilesInput) -> StorageUsagePayload:
    entity_id = await _writable_entity_id(info.context.viewer, input.entity_name)
    checks = Checks()
    # Empty only when the check failed, and then done() raises.
    project = checks.run(_project_name, input.project_name) or ""
    reports = _reports(checks, input.files)
    checks.done()
    if reports:
        async with in_transaction():
            await storage_ledger.record(entity_id, project, reports)
    return StorageUsagePayload(storage_usage=await storage_usage(info, entity_id))


async def delete_stored_files(info: Info, input: DeleteStoredFilesInput) -> StorageUsagePayload:
    entity_id = await _writable_entity_id(info.context.viewer, input.entity_name)
    checks = Checks()
    project = checks.run(_project_name, input.project_name) or ""
    if len(input.paths) > MAX_FILES_PER_CALL:
        checks.add(_too_many(len(input.paths), "paths"))
    else:
        for index, path in enumerate(input.paths):
            checks.run(_path, path, index, "paths")
    checks.done()
    if input.paths:
        async with in_transaction():
            await storage_ledger.forget(entity_id, project, input.paths)
    return StorageUsagePayload(storage_usage=await storage_usage(info, entity_id))


async def set_storage_limit(info: Info, input: SetStorageLimitInput) -> StorageUsagePayload:
    key = lookup_key(input.entity_name)
    entity = None
    if key is not None:
        entity = await Entity.filter(name_key=key, deleted_at__isnull=True).first()
    if entity is None:
        raise NotFound(
            f"No user or team is named {shown(input.entity_name)!r}.", field="entityName"
        )
    if not 1 <= input.limit_bytes <= MAX_LIMIT_BYTES:
        raise Invalid(
            f"The limit must be from 1 to {MAX_LIMIT_BYTES} bytes, not {input.limit_bytes}.",
            field="limitBytes",
        )
    async with in_transaction():
        await Entity.filter(id=entity.id).update(storage_limit_bytes=input.limit_bytes)
    return StorageUsagePayload(storage_usage=await storage_usage(info, entity.id))
