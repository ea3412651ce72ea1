"""Stored-file records and the counters kept beside them.

Writes change the file rows and the per-(entity, category) and per-(entity,
project) counters in the caller's transaction, so reading an entity's usage is a
few indexed reads of counters however many files it holds.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from tortoise.expressions import F

import config
from errors import LimitExceeded, NotFound
from models.entity import Entity
from models.prepared import PreparedValues, side_by_side
from models.storage import (
    StorageCategory,
    StorageCategoryCounter,
    StorageProjectCounter,
    StoredFile,
)
from models.user import User

#: Rows per statement: far below SQLite's and PostgreSQL's parameter limits.
BATCH = 500
#: The most bytes an entity's files may add up to, all categories and projects
#: together. The counters are BIGINT (at most 2^63 - 1): an UPDATE past that
#: fails on PostgreSQL (and turns the value into a float on SQLite), and then so
#: does every later report of the entity. Every counter is a part of this total,
#: so no counter passes it; half of BIGINT leaves room for what is added when
#: the total is read (profile photos, `config.MAX_PHOTO_BYTES` each), so
#: `usedBytes` stays an Int64 too.
MAX_ENTITY_BYTES = 2**62


@dataclass(frozen=True)
class FileReport:
    path: str
    category: StorageCategory
    size_bytes: int


@dataclass(frozen=True)
class StorageTotals:
    entity_id: int
    limit_bytes: int
    #: Every category, a profile photo included in MEDIA.
    by_category: dict[StorageCategory, int]

    @property
    def used_bytes(self) -> int:
        return sum(self.by_category.values())


def path_hash(path: str) -> str:
    return hashlib.sha256(path.encode()).hexdigest()


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), BATCH):
        yield items[start : start + BATCH]


async def _lock_entity(entity_id: int) -> None:
    """Wait for the entity's turn; `NotFound` if it was deleted meanwhile.

    Writers of one entity's storage take turns (a PostgreSQL row lock, SQLite's
    single writer), so no two of them compute a counter delta from the same
    rows, and none writes for an account or team whose deletion got there first.
    Readers are not blocked.
    """
    # A whole-row query: values_list() would drop the FOR UPDATE.
    entity = await Entity.filter(id=entity_id).select_for_update(no_key=True).first()
    if entity is None or entity.deleted_at is not None:
        raise NotFound("This account or team no longer exists.", field="entityName")


async def _existing(entity_id: int, project: str, hashes: Sequence[str]) -> list[StoredFile]:
    rows: list[StoredFile] = []
    for chunk in _chunks(hashes):
        rows += await StoredFile.filter(
            entity_id=entity_id, project_name=project, path_hash__in=list(chunk)
        )
    return rows


async def record(entity_id: int, project: str, files: Sequence[FileReport]) -> None:
    """Record files (a path already recorded gets the new category and size).

    `LimitExceeded`, and nothing written, if the entity's files would add up to
    more than `MAX_ENTITY_BYTES`.
    """
    await _lock_entity(entity_id)
    reports = {path_hash(f.path): f for f in files}
    existing = {row.path_hash: row for row in await _existing(entity_id, project, list(reports))}
    by_category: Counter[StorageCategory] = Counter()
    new: list[StoredFile] = []
    changed: list[StoredFile] = []
    for digest, report in reports.items():
        row = existing.get(digest)
        if row is None:
            new.append(
                StoredFile(
                    entity_id=entity_id,
                    project_name=project,
                    path=report.path,
                    path_hash=digest,
                    category=report.category,
                    size_bytes=report.size_bytes,
                )
            )
        elif (row.category, row.size_bytes) != (report.category, report.size_bytes):
            by_category[row.category] -= row.size_bytes
            row.category, row.size_bytes = report.category, report.size_bytes
            changed.append(row)
        else:
            continue
        by_category[report.category] += report.size_bytes
    await _check_ceiling(entity_id, sum(by_category.values()))
    if new:
        await StoredFile.bulk_create(new, batch_size=BATCH)
    if changed:
        await StoredFile.bulk_update(changed, ["category", "size_bytes"], batch_size=BATCH)
    await _count(entity_id, project, by_category)


async def _check_ceiling(entity_id: int, delta: int) -> None:
    """`LimitExceeded` if adding `delta` bytes takes the entity past `MAX_ENTITY_BYTES`.

    Called under the entity's lock and before any write: the counters read are
    the ones the report's UPDATEs will add to, and a refused report wrote nothing.
    """
    if delta <= 0:
        # Shrinking is always allowed, even for a total recorded above the ceiling.
        return
    counters = await StorageCategoryCounter.filter(entity_id=entity_id)
    total = sum(counter.bytes for counter in counters) + delta
    if total > MAX_ENTITY_BYTES:
        raise LimitExceeded(
            f"These files would bring this account or team to {total} bytes stored, over "
            f"the {MAX_ENTITY_BYTES} bytes that can be counted: delete files first.",
            field="files",
        )


async def forget(entity_id: int, project: str, paths: Sequence[str]) -> None:
    """Remove the records of files; paths never recorded are ignored."""
    await _lock_entity(entity_id)
    rows = await _existing(entity_id, project, sorted({path_hash(p) for p in paths}))
    by_category: Counter[StorageCategory] = Counter()
    for row in rows:
        by_category[row.category] -= row.size_bytes
    ids = [row.id for row in rows]
    for start in range(0, len(ids), BATCH):
        await StoredFile.filter(id__in=ids[start : start + BATCH]).delete()
    await _count(entity_id, project, by_category)


async def _count(entity_id: int, project: str, by_category: Counter[StorageCategory]) -> None:
    for category, delta in sorted(by_category.items()):
        if delta:
            await _add(StorageCategoryCounter, delta, entity_id=entity_id, category=category)
    project_delta = sum(by_category.values())
    if project_delta:
        await _add(StorageProjectCounter, project_delta, entity_id=entity_id, project_name=project)
    if project_delta < 0:
        # A project whose files are all gone leaves the list.
        await StorageProjectCounter.filter(
            entity_id=entity_id, project_name=project, bytes__lte=0
        ).delete()


async def _add(
    counter: type[StorageCategoryCounter] | type[StorageProjectCounter],
    delta: int,
    **key: Any,
) -> None:
    # Safe without a savepoint: the entity lock admits one writer at a time.
    if not await counter.filter(**key).update(bytes=F("bytes") + delta):
        await counter.create(bytes=delta, **key)


async def remove_all(entity_ids: Sequence[int]) -> None:
    """Every file record and counter of these entities (account and team deletion)."""
    await StoredFile.filter(entity_id__in=entity_ids).delete()
    await StorageCategoryCounter.filter(entity_id__in=entity_ids).delete()
    await StorageProjectCounter.filter(entity_id__in=entity_ids).delete()


# The reads of `totals_by_entity_id`, built once (see models/prepared.py).
_LIMITS = PreparedValues(
    lambda ids: Entity.filter(id__in=ids).values_list("id", "storage_limit_bytes")
)
_COUNTED = PreparedValues(
    lambda ids: StorageCategoryCounter.filter(entity_id__in=ids).values_list(
        "entity_id", "category", "bytes"
    )
)
_PHOTOS = PreparedValues(
    lambda ids: User.filter(entity_id__in=ids, photo_bytes__gt=0).values_list(
        "entity_id", "photo_bytes"
    )
)
#: The limits, the category counters and the photos of entities, in that order.
TOTALS_STATEMENTS = (_LIMITS, _COUNTED, _PHOTOS)


async def totals_by_entity_id(ids: Sequence[int]) -> list[StorageTotals | None]:
    """Usage of each entity from its counters alone; `None` for an unknown id."""
    found_limits, counted, photos = await side_by_side(Entity, ids, *TOTALS_STATEMENTS)
    limits = dict(found_limits)
    by_entity: dict[int, dict[StorageCategory, int]] = {
        entity_id: dict.fromkeys(StorageCategory, 0) for entity_id in limits
    }
    for entity_id, category, size in counted:
        by_entity[entity_id][StorageCategory(category)] += size
    # A profile photo counts as MEDIA of its owner.
    for entity_id, size in photos:
        by_entity[entity_id][StorageCategory.MEDIA] += size
    return [
        StorageTotals(
            entity_id=entity_id,
            limit_bytes=_limit(limits[entity_id]),
            by_category=by_entity[entity_id],
        )
        if entity_id in limits
        else None
        for entity_id in ids
    ]


def _limit(limit_bytes: int | None) -> int:
    return config.DEFAULT_STORAGE_LIMIT_BYTES if limit_bytes is None else limit_bytes


async def largest_projects(keys: Sequence[tuple[int, int]]) -> list[list[StorageProjectCounter]]:
    """The `first` largest projects of each (entity id, first), by the counters' index."""
    found: list[list[StorageProjectCounter]] = []
    for entity_id, first in keys:
        rows: list[StorageProjectCounter] = []
        if first > 0:
            rows = (
                await StorageProjectCounter.filter(entity_id=entity_id, bytes__gt=0)
                .order_by("-bytes", "project_name")
                .limit(first)
            )
        found.append(rows)
    return found
