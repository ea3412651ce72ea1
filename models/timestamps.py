"""Date-times read back quickly from SQLite, where they are stored as ISO text."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tortoise import fields
from tortoise.timezone import get_default_timezone, get_use_tz


class Timestamp(fields.DatetimeField):  # type: ignore[type-arg]
    """Tortoise's `DatetimeField`, parsing SQLite's ISO text with `datetime.fromisoformat`.

    Tortoise parses that text with the iso8601 package, in Python, several times
    slower than `datetime.fromisoformat`; the settings page reads dozens a request.

    An aware value (every one this schema stores, on both backends) goes straight to
    the configured time zone, as Tortoise's own `to_python_value` ends up doing after
    four more calls. Naive values, and everything
    when `use_tz` is off, stay Tortoise's.
    """

    def to_python_value(self, value: Any) -> datetime | None:
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if isinstance(value, datetime) and value.tzinfo is not None and get_use_tz():
            return value.astimezone(get_default_timezone())
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
