"""What every domain's schema uses: `UserError`, payload errors, and the helpers that
make root fields (`query`, `mutation`, `subscription`), each declaring the API-key
scope it needs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.extensions.field_extension import AsyncExtensionResolver
from strawberry.permission import BasePermission
from strawberry.types.field import StrawberryField

import errors
from auth.permissions import NEEDS, IsAuthenticated
from errors import drop_tracebacks
from models.api_key import ApiKeyScope
from resolvers.context import Info
from resolvers.validation import check_storable
from services import rate_limits

strawberry.enum(errors.ErrorCode)


@strawberry.type(description="An expected failure of a mutation, tied to an input field.")
class UserError:
    field: str | None
    message: str
    code: errors.ErrorCode

    @classmethod
    def from_error(cls, error: errors.DomainError) -> UserError:
        return cls(field=error.field, message=error.message, code=error.code)


@strawberry.type
class SuccessPayload:
    success: bool = False
    errors: list[UserError] = strawberry.field(default_factory=list)


class PayloadErrors(FieldExtension):
    """Turns the domain errors a mutation raises into its payload's `errors`.

    It first refuses text that no database can hold, in any input field: one
    check for every mutation, those added later too.

    The mutation's transaction has already rolled back by the time the error
    reaches here, so the payload reports a failure that changed nothing.
    """

    def apply(self, field: StrawberryField) -> None:
        self.field = field

    async def resolve_async(
        self, next_: AsyncExtensionResolver, source: Any, info: Info, **kwargs: Any
    ) -> Any:
        try:
            check_storable(list(kwargs.values()))
            return await next_(source, info, **kwargs)
        except errors.DomainErrors as failure:
            found = failure.errors
        except errors.DomainError as failure:
            found = [failure]
        # Their tracebacks hold frames that hold them (this one, a `Checks`): cycles.
        drop_tracebacks(found)
        payload_type: Callable[..., Any] = self.field.type  # type: ignore[assignment]
        return payload_type(errors=[UserError.from_error(e) for e in found])


class Throttled(FieldExtension):
    """Counts each call against its action's rate limits (`services.rate_limits`)
    before the mutation runs: over a limit, it does not run at all."""

    def __init__(self, action: str) -> None:
        self.action = rate_limits.ACTIONS[action]

    async def resolve_async(
        self, next_: AsyncExtensionResolver, source: Any, info: Info, **kwargs: Any
    ) -> Any:
        await rate_limits.limiter.spend(self.action, info.context.caller)
        return await next_(source, info, **kwargs)


#: The `scope` of a root field that any caller may reach, with any key or none.
PUBLIC = None

READ, RUNS, ACCOUNT = ApiKeyScope.READ, ApiKeyScope.RUNS, ApiKeyScope.ACCOUNT


def _permissions(
    scope: ApiKeyScope | None, others: Sequence[type[BasePermission]]
) -> list[type[BasePermission]]:
    # The scope first: a key without it is refused the same way whoever its owner is.
    return [NEEDS[scope], *others] if scope is not None else list(others)


def query(
    resolver: Callable[..., Any],
    *,
    scope: ApiKeyScope | None,
    permission_classes: Sequence[type[BasePermission]] = (),
    description: str | None = None,
) -> Any:
    """A root query field, reached by API keys that hold `scope` (any, if PUBLIC)."""
    return strawberry.field(
        resolver=resolver,
        permission_classes=_permissions(scope, permission_classes),
        description=description,
    )


def subscription(
    resolver: Callable[..., Any],
    *,
    scope: ApiKeyScope,
    permission_classes: Sequence[type[BasePermission]] = (IsAuthenticated,),
    description: str | None = None,
) -> Any:
    """A root subscription field: signed-in callers only, their keys holding `scope`."""
    return strawberry.subscription(
        resolver=resolver,
        permission_classes=_permissions(scope, permission_classes),
        description=description,
    )


def mutation(
    resolver: Callable[..., Any],
    *,
    scope: ApiKeyScope,
    permission_classes: Sequence[type[BasePermission]] = (IsAuthenticated,),
    rate_limit: str | None = None,
    description: str | None = None,
) -> Any:
    """A root mutation field: signed-in callers only unless told otherwise, their API
    keys holding `scope`, counted against the rate limits of the action `rate_limit`
    names. The scope is required: every mutation says what a key needs for it."""
    throttled = [Throttled(rate_limit)] if rate_limit else []
    return strawberry.mutation(
        resolver=resolver,
        permission_classes=_permissions(scope, permission_classes),
        extensions=[*throttled, PayloadErrors()],
        description=description,
    )
