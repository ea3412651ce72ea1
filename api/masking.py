"""The schema's guards: every error leaves with a code, and internal ones leave masked.

Errors of the document or its variables (syntax, validation, coercion) are the
client's and keep their message, and so do the `PublicError`s resolvers raise. As
Apollo's, a document that does not parse is `GRAPHQL_PARSE_FAILED` (its token
limit included) and one that does not validate `GRAPHQL_VALIDATION_FAILED`.
Anything else raised while executing, a subscription's events included, is an
internal failure: logged here with its traceback, and sent as "Internal server
error." and nothing more. A server that hides its schema (`GRAPHIQL=false`) says
no "Did you mean ...?": from those a scanner rebuilds the schema.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import MaskErrors
from strawberry.types import ExecutionContext

import config

logger = logging.getLogger("switchboard.errors")

INTERNAL_MESSAGE = "Internal server error."
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
#: graphql-core's suggestions close its messages, as " Did you mean 'x' or 'y'?".
_SUGGESTION = re.compile(r" Did you mean .*\Z", re.DOTALL)


def is_internal(error: GraphQLError) -> bool:
    """An error that no one meant the client to read: raised by our code, or a
    library's, as anything but a GraphQLError. graphql-core's own errors (syntax,
    validation, variable coercion) and our `PublicError`s are meant to be read."""
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


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
    if isinstance(error, GraphQLSyntaxError):  # the token limit's included
        return "GRAPHQL_PARSE_FAILED"
    if error.path is None:
        return "BAD_USER_INPUT" if error.original_error else "GRAPHQL_VALIDATION_FAILED"
    return INTERNAL_SERVER_ERROR


class PublicErrors(MaskErrors):
    """Masks internal errors and gives every error an `extensions.code`."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=is_internal, error_message=INTERNAL_MESSAGE)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        masked.extensions = {"code": INTERNAL_SERVER_ERROR}
        return masked

    def process(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        """`errors` masked and coded; those already so stay as they are."""
        return self._process_errors(errors)

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed = super()._process_errors(errors)
        for error in processed:
            if not config.GRAPHIQL:
                error.message = _SUGGESTION.sub("", error.message)
            extensions: dict[str, Any] = dict(error.extensions or {})
            if "code" not in extensions:
                extensions["code"] = _code(error)
                error.extensions = extensions
        return processed
