"""The domain's failures, importable by every layer, and the one error code enum.

DomainError                expected: becomes a `UserError` in the mutation's payload
├── Invalid                INVALID, bad input
├── NotFound               NOT_FOUND
├── AlreadyExists          ALREADY_EXISTS
├── Conflict               CONFLICT, refused in the current state
├── LimitExceeded          LIMIT_EXCEEDED
└── Unavailable            UNAVAILABLE, a provider or a setting is missing
DomainErrors               several DomainErrors at once (every bad field of an input)

GraphQLError (graphql-core), top level, with `extensions.code`
├── Unauthenticated        UNAUTHENTICATED
├── Forbidden              FORBIDDEN
├── RateLimited            LIMIT_EXCEEDED, with `extensions.retryAfter` in seconds
└── BadUserInput           BAD_USER_INPUT, a bad argument of a query field (`first`, `after`)
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import ClassVar

from graphql import GraphQLError


class ErrorCode(Enum):
    INVALID = "INVALID"
    NOT_FOUND = "NOT_FOUND"
    ALREADY_EXISTS = "ALREADY_EXISTS"
    CONFLICT = "CONFLICT"
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
    UNAVAILABLE = "UNAVAILABLE"


class DomainError(Exception):
    code: ClassVar[ErrorCode]

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class Invalid(DomainError):
    code = ErrorCode.INVALID


class NotFound(DomainError):
    code = ErrorCode.NOT_FOUND


class AlreadyExists(DomainError):
    code = ErrorCode.ALREADY_EXISTS


class Conflict(DomainError):
    code = ErrorCode.CONFLICT


class LimitExceeded(DomainError):
    code = ErrorCode.LIMIT_EXCEEDED


class Unavailable(DomainError):
    code = ErrorCode.UNAVAILABLE


class DomainErrors(Exception):
    def __init__(self, errors: Iterable[DomainError]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(e.message for e in self.errors))


def raise_any(errors: list[DomainError]) -> None:
    """Raise the collected errors of an input, if there are any."""
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise DomainErrors(errors)


class PublicError(GraphQLError):
    """A top-level error whose message is meant for the client."""

    code: ClassVar[str]

    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": self.code})


class Unauthenticated(PublicError):
    code = "UNAUTHENTICATED"


class Forbidden(PublicError):
    code = "FORBIDDEN"


class RateLimited(PublicError):
    code = "LIMIT_EXCEEDED"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(f"{message} Try again in {retry_after} s.")
        self.retry_after = retry_after
        self.extensions = {"code": self.code, "retryAfter": retry_after}


class BadUserInput(PublicError):
    code = "BAD_USER_INPUT"


def drop_tracebacks(errors: Iterable[BaseException]) -> None:
    """Forgets the tracebacks of `errors`, of what they wrap and of what caused them.

    A traceback holds the frames it passed through, and those hold what holds the
    errors (the executor, a list of checks): a reference cycle that kept a failed
    request's objects alive until a full garbage collection. Once an error is
    logged or turned into a payload's `errors`, no one reads its traceback again.
    """
    seen: set[int] = set()
    pending: list[BaseException | None] = list(errors)
    while pending:
        error = pending.pop()
        if error is None or id(error) in seen:
            continue
        seen.add(id(error))
        error.__traceback__ = None
        pending += (error.__cause__, error.__context__)
        if isinstance(error, GraphQLError):
            pending.append(error.original_error)
