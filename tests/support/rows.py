"""Every row of every table: to show that a refused request wrote nothing."""

from __future__ import annotations

from typing import Any

from tortoise import Tortoise
from tortoise.models import Model


def all_models() -> list[type[Model]]:
    return sorted(Tortoise.apps["models"].values(), key=lambda m: m._meta.db_table)


async def snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, to show that a refused request wrote nothing."""
    return {
        model._meta.db_table: await model.all().order_by(model._meta.pk_attr).values()
        for model in all_models()
    }
