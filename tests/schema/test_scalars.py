"""Int64 and Duration: a value that is not one is the client's mistake, answered
with its reason and a code, never an internal error."""

from __future__ import annotations

import pytest

from models.alert import AlertEvent
from tests.support.helpers import sign_up

ALERT = """
mutation($wait: Duration) {
  notifyScriptableRunAlert(input: {entityName: "alice", projectName: "p", runName: "r",
                                   title: "t", text: "x", waitDuration: $wait}) { success }
}
"""
RECORD = """
mutation($size: Int64!) {
  recordStoredFiles(input: {entityName: "alice", projectName: "p",
                            files: [{path: "a", category: RUN_FILES, sizeBytes: $size}]}) {
    errors { code }
  }
}
"""

BAD_NUMBERS = [
    ("x", "whole number"),
    (1.5, "whole number"),
    (True, "whole number"),
    (2**64, "64 bits"),
    (-(2**63) - 1, "64 bits"),
]


@pytest.mark.parametrize(("value", "words"), [*BAD_NUMBERS, (-1, "negative")])
async def test_bad_duration_variable_is_bad_user_input(api, value, words):
    alice = await sign_up("alice")

    error = await api.signed_in(alice).error(ALERT, {"wait": value})

    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert words in error["message"]
    assert await AlertEvent.all().count() == 0


@pytest.mark.parametrize(
    ("literal", "words"),
    [
        ('"x"', "whole number"),
        ("nan", "whole number"),
        ("1.5", "whole number"),
        (str(2**64), "64 bits"),
        ("-1", "negative"),
    ],
)
async def test_bad_duration_literal_is_a_validation_error(api, literal, words):
    alice = await sign_up("alice")

    error = await api.signed_in(alice).error(
        ALERT.replace("($wait: Duration)", "").replace("$wait", literal)
    )

    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert words in error["message"]
    assert await AlertEvent.all().count() == 0


@pytest.mark.parametrize(("value", "words"), BAD_NUMBERS)
async def test_bad_int64_variable_is_bad_user_input(api, value, words):
    alice = await sign_up("alice")

    error = await api.signed_in(alice).error(RECORD, {"size": value})

    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert words in error["message"]
