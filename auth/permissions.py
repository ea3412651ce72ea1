"""Permission classes for Strawberry fields: a top-level error with `extensions.code`."""

from __future__ import annotations

from typing import Any, ClassVar

from strawberry.permission import BasePermission

from errors import Forbidden, Unauthenticated
from models.api_key import ApiKeyScope
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


class NeedsScope(BasePermission):
    """What an API key must hold to reach a field; `schema.common` gives every root
    field one (`NEEDS[scope]`), or none for a public field.

    A signed-in session (a token) passes, as does an anonymous caller: sessions are
    not scoped, and what an anonymous caller may do is for the field's other
    permissions to say. A key without the scope is refused whatever its account
    may do, so a leaked run tracker's key cannot mint keys or change the account."""

    scope: ClassVar[ApiKeyScope]
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        granted = info.context.api_key_scopes
        if granted is None or self.scope in granted:
            return True
        # Raised, not set on `self`, for the reason `IsAdmin` gives.
        raise Forbidden(
            f"This API key lacks the {self.scope} scope, which {info.field_name} needs: "
            f"use a key with {self.scope}, or sign in."
        )


class NeedsRead(NeedsScope):
    scope = ApiKeyScope.READ


class NeedsRuns(NeedsScope):
    scope = ApiKeyScope.RUNS


class NeedsAccount(NeedsScope):
    scope = ApiKeyScope.ACCOUNT


NEEDS: dict[ApiKeyScope, type[NeedsScope]] = {
    needs.scope: needs for needs in (NeedsRead, NeedsRuns, NeedsAccount)
}
