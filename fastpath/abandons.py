"""When a plan gives up: the reasons, and the count of each.

A run abandons its plan for anything that needs graphql-core's own handling: an
error to report, or something the plan cannot drive. Stock execution then runs the
query once, which answers with the errors, if any. An abandon after which stock
execution answered without an error is a plan that claimed an answer it could not
give: counted apart (`unexpected`), logged as a warning, and a failure in tests.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

logger = logging.getLogger("switchboard.fastpath")

#: The reasons, as counted and logged.
RAISED = "a resolver raised"
REFUSED = "a permission refused the field"
NULL = "null for a non-null field"
LEAF = "a value its type cannot serialize"
NOT_OF_TYPE = "an object not of its type"
NOT_A_LIST = "a list field's value is not a list"
UNBUILT = "an attribute the plan reads without a path holds an awaitable"
WAITS = "a resolver waits for what only a task of its own can"
VARIABLES = "variables that do not coerce"
TRACKED = "a resolver asked the executor to track its work"


class Abandon(Exception):  # noqa: N818 - a verdict, not an error: stock execution takes over
    """Something about the answer needs graphql-core's handling."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def reason_of(error: BaseException) -> str:
    return error.reason if isinstance(error, Abandon) else RAISED


@dataclass
class Abandons:
    """Abandoned plans by reason, and those stock execution then answered without an error."""

    counts: Counter[str] = field(default_factory=Counter)
    #: (reason, operation name) of each abandon that stock execution answered cleanly.
    unexpected: list[tuple[str, str | None]] = field(default_factory=list)

    def settle(self, reason: str, operation: str | None, stock_errors: object) -> None:
        """Count an abandon once stock execution has answered, with `stock_errors`."""
        self.counts[reason] += 1
        logger.debug("Plan of %s abandoned: %s", operation, reason)
        if not stock_errors:
            self.unexpected.append((reason, operation))
            logger.warning(
                "Plan of %s abandoned (%s), but stock execution answered without an error",
                operation,
                reason,
            )
