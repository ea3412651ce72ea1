"""Rows every installation needs, written by `python cli.py migrate` (idempotent)."""

from __future__ import annotations


async def seed_catalog() -> int:
    """Seed the beta-feature catalog; users' toggles are kept."""
    return 0
