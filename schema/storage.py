"""Storage usage of an entity (a user's own or a team's) and the file reports of run trackers."""

from __future__ import annotations

import strawberry

from models import storage as models
from resolvers.context import Info
from schema.common import UserError
from schema.reading import reader
from schema.scalars import Int64
from services.storage_ledger import StorageTotals

strawberry.enum(models.StorageCategory)

#: `projects(first:)` answers at most this many.
MAX_PROJECTS = 100


@strawberry.type
class StorageCategoryUsage:
    category: models.StorageCategory
    bytes: Int64


@strawberry.type
class ProjectStorage:
    project_name: str
    bytes: Int64

    @classmethod
    def from_model(cls, counter: models.StorageProjectCounter) -> ProjectStorage:
        return cls(project_name=counter.project_name, bytes=Int64(counter.bytes))


@strawberry.type
class StorageUsage:
    used_bytes: Int64
    limit_bytes: Int64 = strawberry.field(
        description="The plan's limit: 100 GB (100 * 10^9 bytes) unless an admin set another."
    )
    fraction: float = strawberry.field(description="usedBytes / limitBytes.")
    breakdown: list[StorageCategoryUsage]
    entity_id: strawberry.Private[int]

    @classmethod
    def from_totals(cls, totals: StorageTotals) -> StorageUsage:
        used, limit = totals.used_bytes, totals.limit_bytes
        breakdown = [_read_category(None, c, size) for c, size in totals.by_category.items()]
        return _read_usage(totals, used, used / limit, breakdown)

    @strawberry.field(description="The largest projects first (at most 100).")  # type: ignore[untyped-decorator]
    async def projects(self, info: Info, first: int | None = 10) -> list[ProjectStorage]:
        key = (self.entity_id, max(0, min(10 if first is None else first, MAX_PROJECTS)))
        counters = await info.context.loaders.largest_projects_by_entity_id.load(key)
        return [ProjectStorage.from_model(c) for c in counters]


_read_category = reader(StorageCategoryUsage, "category", "bytes")
_read_usage = reader(StorageUsage, "used_bytes", "fraction", "breakdown")


async def load_storage_usage(info: Info, entity_id: int) -> StorageUsage:
    """The storage usage of any entity, a user's or a team's (`Team.storageUsage` uses it)."""
    totals = await info.context.loaders.storage_totals_by_entity_id.load(entity_id)
    if totals is None:
        raise LookupError(f"entity {entity_id} does not exist")  # callers hold a live entity
    return StorageUsage.from_totals(totals)


@strawberry.input
class StoredFileInput:
    path: str
    category: models.StorageCategory
    size_bytes: Int64


@strawberry.input
class RecordStoredFilesInput:
    entity_name: str
    project_name: str
    files: list[StoredFileInput] = strawberry.field(description="At most 1000 a call.")


@strawberry.input
class DeleteStoredFilesInput:
    entity_name: str
    project_name: str
    paths: list[str]


@strawberry.input
class SetStorageLimitInput:
    entity_name: str
    limit_bytes: Int64


@strawberry.type
class StorageUsagePayload:
    storage_usage: StorageUsage | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
