"""Rows every installation needs, written by `python cli.py migrate` (idempotent)."""

from __future__ import annotations

from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.beta import BetaFeature

#: The beta-feature catalog in its order: (key, name, description).
BETA_FEATURES = (
    (
        "night-mode",
        "Night mode",
        "Inverts colors everywhere. Charts may be harder to tell apart.",
    ),
    (
        "launch",
        "Launch",
        "Send jobs from the platform to your own infrastructure.",
    ),
    (
        "unicorn-mode",
        "Unicorn mode",
        "A unicorn for the chart cursor.",
    ),
)


async def seed_catalog() -> int:
    """Seed the beta-feature catalog; users' toggles are kept.

    Each entry is updated in place (or created), never deleted and re-made, so the
    toggles that point at it survive. Returns the number of catalog entries.
    """
    async with in_transaction():
        for position, (key, name, description) in enumerate(BETA_FEATURES):
            values: dict[str, Any] = {
                "name": name,
                "description": description,
                "position": position,
            }
            if await BetaFeature.filter(key=key).update(**values):
                continue
            try:
                async with in_transaction():
                    await BetaFeature.create(key=key, **values)
            except IntegrityError:
                # Another process seeding at the same time created it.
                await BetaFeature.filter(key=key).update(**values)
    return len(BETA_FEATURES)
