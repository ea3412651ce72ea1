"""Custom scalars of the contract: Int64 (bytes, counters), Duration (milliseconds) and
JSONString (JSON text)."""

from __future__ import annotations

import json
from typing import NewType

import strawberry
from graphql import GraphQLError
from strawberry.types.scalar import ScalarDefinition

Int64 = NewType("Int64", int)
Duration = NewType("Duration", int)
#: JSON text: resolvers answer it already encoded.
JSONString = NewType("JSONString", str)

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


# The client's mistakes raise GraphQLError: graphql-core reports any other
# exception of a scalar as a failure of ours, which is masked and logged.


def _whole_number(value: object, name: str) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise GraphQLError(f"{name} must be a whole number.")
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise GraphQLError(f"{name} must fit in 64 bits.")
    return value


def _parse_duration(value: object) -> int:
    milliseconds = _whole_number(value, "Duration")
    if milliseconds < 0:
        raise GraphQLError("Duration cannot be negative.")
    return milliseconds


def _parse_json(value: object) -> str:
    if not isinstance(value, str):
        raise GraphQLError("JSONString must be a string holding JSON.")
    try:
        json.loads(value)
    except ValueError:
        raise GraphQLError("JSONString must hold valid JSON.") from None
    return value


SCALARS: dict[object, ScalarDefinition] = {
    Int64: strawberry.scalar(
        name="Int64",
        description="A whole number of up to 64 bits, sent as a JSON number (bytes, counters).",
        serialize=int,
        parse_value=lambda value: _whole_number(value, "Int64"),
    ),
    Duration: strawberry.scalar(
        name="Duration",
        description="A span of time in milliseconds (as W&B's Duration).",
        serialize=int,
        parse_value=_parse_duration,
    ),
    JSONString: strawberry.scalar(
        name="JSONString",
        description="A JSON value sent as a string, as W&B's JSONString.",
        serialize=str,
        parse_value=_parse_json,
    ),
}
