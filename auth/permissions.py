"""Permission classes for Strawberry fields: a top-level error with `extensions.code`."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from errors import Unauthenticated
from resolvers.context import Info


class IsAuthenticated(BasePermission):
    message = "Sign in first: send 'Authorization: Bearer <token>' or 'Basic api:<API key>'."
    error_extensions = {"code": "UNAUTHENTICATED"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.user is not None


class IsAdmin(BasePermission):
    message = "Only an administrator may do this."
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        user = info.context.user
        if user is None:
            # Anonymous callers learn that they must sign in, not that they lack a role.
            # Raised, not set on `self`: Strawberry makes one instance per field and
            # shares it across requests, so a changed message would stick for everyone.
            raise Unauthenticated(IsAuthenticated.message)
        return user.admin


class IsOwnAccount(BasePermission):
    """On a `User`'s fields that only the account itself may read (its alerts and
    integrations). `Query.users` shows site admins other accounts: their profile,
    teams and key prefixes, as W&B's admin API does, but not where their alerts go."""

    message = "Only the account itself may see this."
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        user = info.context.user
        return user is not None and source.model.id == user.id
