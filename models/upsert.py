"""Setting a row's values, making the row if there is none, in one statement."""

from __future__ import annotations

from typing import Any

from tortoise.models import Model


async def upsert(model: type[Model], key: dict[str, Any], **values: Any) -> None:
    """`values` set on the row of `model` that `key` names (the columns of one of its
    unique constraints), made with them if there is none: `INSERT ... ON CONFLICT
    DO UPDATE`, so that two requests that both find no row cannot both make one, and
    the last write wins."""
    await model.bulk_create(
        [model(**key, **values)], on_conflict=list(key), update_fields=list(values)
    )
