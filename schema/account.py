"""Deleting the viewer's account."""

from __future__ import annotations

import strawberry


@strawberry.input
class DeleteAccountInput:
    confirm_username: str = strawberry.field(description="Must equal the viewer's username.")
