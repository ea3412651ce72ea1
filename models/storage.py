from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.entity import Entity


class StorageCategory(StrEnum):
    RUN_FILES = "RUN_FILES"
    ARTIFACTS = "ARTIFACTS"
    MEDIA = "MEDIA"


class StoredFile(Model):
    """A file a run tracker stored for an entity's project."""

    id = fields.BigIntField(primary_key=True)
    entity: fields.ForeignKeyRelation[Entity] = fields.ForeignKeyField(
        "models.Entity", related_name="stored_files", on_delete=fields.CASCADE
    )
    project_name = fields.CharField(max_length=128)
    path = fields.CharField(max_length=1024)
    #: SHA-256 of `path`, hex. The unique key uses it because PostgreSQL cannot
    #: index 1024 characters of multi-byte text (a btree entry holds 2704 bytes).
    path_hash = fields.CharField(max_length=64)
    category = fields.CharEnumField(StorageCategory, max_length=16)
    size_bytes = fields.BigIntField()

    entity_id: int

    class Meta:
        table = "stored_file"
        unique_together = (("entity", "project_name", "path_hash"),)


class StorageCategoryCounter(Model):
    """Bytes stored by an entity in one category, kept with the file rows."""

    id = fields.IntField(primary_key=True)
    entity: fields.ForeignKeyRelation[Entity] = fields.ForeignKeyField(
        "models.Entity", related_name="category_counters", on_delete=fields.CASCADE
    )
    category = fields.CharEnumField(StorageCategory, max_length=16)
    bytes = fields.BigIntField(default=0)

    entity_id: int

    class Meta:
        table = "storage_category_counter"
        unique_together = (("entity", "category"),)


class StorageProjectCounter(Model):
    """Bytes stored by an entity in one project, kept with the file rows."""

    id = fields.IntField(primary_key=True)
    entity: fields.ForeignKeyRelation[Entity] = fields.ForeignKeyField(
        "models.Entity", related_name="project_counters", on_delete=fields.CASCADE
    )
    project_name = fields.CharField(max_length=128)
    bytes = fields.BigIntField(default=0)

    entity_id: int

    class Meta:
        table = "storage_project_counter"
        unique_together = (("entity", "project_name"),)
        indexes = (("entity_id", "bytes"),)
