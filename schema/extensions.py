"""The schema's guards: every error leaves with a code, and internal ones leave masked.

Errors before execution (syntax, validation, a variable of the wrong type) are
the client's and keep their message. Errors during execution keep theirs only
when raised as a `PublicError`; anything else is an internal failure: logged
here with its traceback, and sent as "Internal server error." and nothing more.
"""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.types import ExecutionContext

logger = logging.getLogger("switchboard.errors")

INTERNAL_MESSAGE = "Internal server error."


def is_internal(error: GraphQLError) -> bool:
    if error.path is None:
        return False
    original = error.original_error
    if original is None:
        return False
    return not (isinstance(original, GraphQLError) and (original.extensions or {}).get("code"))


def log_internal(errors: list[GraphQLError], context: ExecutionContext | None) -> None:
    for error in errors:
        if is_internal(error):
            original = error.original_error
            logger.error(
                "Unexpected error in %s at %s",
                context.operation_name if context else None,
                ".".join(str(p) for p in error.path or ()),
                exc_info=(type(original), original, original.__traceback__) if original else None,
            )


def _code(error: GraphQLError) -> str:
    if error.path is None:
        return "BAD_USER_INPUT" if error.original_error else "GRAPHQL_VALIDATION_FAILED"
    return "INTERNAL_SERVER_ERROR"


class PublicErrors(MaskErrors):
    """Masks internal errors and gives every error an `extensions.code`."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=is_internal, error_message=INTERNAL_MESSAGE)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL_SERVER_ERROR"}
        return masked

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed = super()._process_errors(errors)
        for error in processed:
            extensions: dict[str, Any] = dict(error.extensions or {})
            if "code" not in extensions:
                extensions["code"] = _code(error)
                error.extensions = extensions
        return processed
