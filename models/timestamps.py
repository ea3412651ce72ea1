"""Date-times read back quickly from SQLite, where they are stored as ISO text."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tortoise import fields


class Timestamp(fields.DatetimeField):  # type: ignore[type-arg]
    """Tortoise's `DatetimeField`, parsing SQLite's ISO text with `datetime.fromisoformat`.

    Tortoise parses that text with the iso8601 package, in Python: 7.7 µs a value
    here, against 0.9 µs for `datetime.fromisoformat` and the time-zone handling that
    follows, which stays Tortoise's. The settings page reads 82 date-times, so this
    is half a millisecond of it. PostgreSQL hands over `datetime`s: no change there.
    """

    def to_python_value(self, value: Any) -> datetime | None:
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return super().to_python_value(value)

    # Migrations see Tortoise's field: the column is the same, only reading differs.

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        _, args, kwargs = super().deconstruct()
        base = fields.DatetimeField
        return f"{base.__module__}.{base.__name__}", args, kwargs

    def describe(self, serializable: bool) -> dict[str, Any]:
        description = super().describe(serializable)
        description["field_type"] = fields.DatetimeField.__name__
        return description
