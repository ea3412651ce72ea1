"""GraphQL over HTTP (https://graphql.github.io/graphql-over-http/draft/): the media
type the client's Accept prefers, the status codes it gives each, request errors
as JSON with a code, and `"operationName": ""` read as no name."""

from __future__ import annotations

import json
from typing import Any

import pytest

from api.documents import DOCUMENT_STORE
from api.view import response_media_type
from fastpath import PlannedSchema
from schema import schema
from tests.support.helpers import costing, sign_up

JSON = "application/json"
GRAPHQL_JSON = "application/graphql-response+json"
#: What graphql-http and the spec's examples send.
PREFERS_GRAPHQL_JSON = f"{GRAPHQL_JSON}, {JSON};q=0.9"
VIEWER = "query Viewer { viewer { username } }"


async def answer(
    api: Any,
    body: bytes | str | dict[str, Any] | None,
    accept: str | None = None,
    content_type: str | None = JSON,
    method: str = "POST",
    params: dict[str, str] | None = None,
) -> tuple[int, str, dict[str, Any]]:
    """The status, content type and JSON body of one request to /graphql."""
    headers = {**api.headers}
    if accept is not None:
        headers["Accept"] = accept
    if content_type is not None:
        headers["Content-Type"] = content_type
    data = json.dumps(body) if isinstance(body, dict) else body
    async with api.http.request(
        method, api.url, data=data, params=params, headers=headers
    ) as response:
        text = await response.text()
        return response.status, response.headers["Content-Type"], json.loads(text)


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        (JSON, JSON),
        (GRAPHQL_JSON, GRAPHQL_JSON),
        (PREFERS_GRAPHQL_JSON, GRAPHQL_JSON),
        (f"{JSON}, {GRAPHQL_JSON};q=0.5", JSON),
        (f"{GRAPHQL_JSON}, */*;q=0.1", GRAPHQL_JSON),
        ("application/*", JSON),
        (f"{JSON};q=0, {GRAPHQL_JSON};q=0.2", GRAPHQL_JSON),
        ("text/html", JSON),
    ],
)
async def test_the_answer_has_the_media_type_accept_prefers(api, accept, media_type):
    status, content_type, body = await answer(api, {"query": "{ __typename }"}, accept)

    assert (status, content_type, body) == (200, media_type, costing(0, {"__typename": "Query"}))


def test_media_type_ranks_by_quality_then_precision():
    class Conn:
        def __init__(self, accept: str) -> None:
            self.headers = {"accept": accept}

    assert response_media_type(Conn(f"*/*;q=0.8, {GRAPHQL_JSON}")) == GRAPHQL_JSON  # type: ignore[arg-type]
    assert response_media_type(Conn(f"{JSON};q=bad, {GRAPHQL_JSON};q=0.1")) == GRAPHQL_JSON  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("accept", "status", "media_type"),
    [(JSON, 200, JSON), (PREFERS_GRAPHQL_JSON, 400, GRAPHQL_JSON)],
    ids=["json", "graphql-response+json"],
)
async def test_syntax_error_is_parse_failed_without_data(api, accept, status, media_type):
    answered = await answer(api, {"query": "{ viewer { "}, accept)

    assert answered[:2] == (status, media_type)
    [error] = answered[2]["errors"]
    assert error["extensions"] == {"code": "GRAPHQL_PARSE_FAILED"}
    assert error["message"].startswith("Syntax Error")
    assert "data" not in answered[2]


@pytest.mark.parametrize(
    ("accept", "status", "media_type"),
    [(JSON, 200, JSON), (PREFERS_GRAPHQL_JSON, 400, GRAPHQL_JSON)],
    ids=["json", "graphql-response+json"],
)
@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        ("{ viewer { usernam } }", None, "GRAPHQL_VALIDATION_FAILED"),
        ("query($id: ID!) { __typename }", {"id": None}, "GRAPHQL_VALIDATION_FAILED"),
        ("query($u: String!) { user(username: $u) { name } }", {"u": [1]}, "BAD_USER_INPUT"),
    ],
    ids=["validation", "variable null", "variable type"],
)
async def test_a_document_that_never_ran_has_no_data(
    api, accept, status, media_type, query, variables, code
):
    answered = await answer(api, {"query": query, "variables": variables}, accept)

    assert answered[:2] == (status, media_type)
    assert "data" not in answered[2]
    assert {e["extensions"]["code"] for e in answered[2]["errors"]} == {code}


@pytest.mark.parametrize("accept", [JSON, PREFERS_GRAPHQL_JSON])
async def test_an_operation_that_ran_and_failed_is_200_with_data(api, accept):
    media_type = GRAPHQL_JSON if accept != JSON else JSON

    answered = await answer(
        api, {"query": 'mutation { updateUser(input: {name: "x"}) { user { name } } }'}, accept
    )

    assert answered[:2] == (200, media_type)
    assert answered[2]["data"] is None
    assert [e["extensions"]["code"] for e in answered[2]["errors"]] == ["UNAUTHENTICATED"]


@pytest.mark.parametrize("accept", [JSON, PREFERS_GRAPHQL_JSON])
@pytest.mark.parametrize(
    ("body", "content_type", "words"),
    [
        ("{not json", JSON, "JSON"),
        ("", JSON, "JSON"),
        ('"a string"', JSON, "JSON object"),
        ({"notquery": "{ __typename }"}, JSON, "No GraphQL query"),
        ({"query": 42}, JSON, "`query`"),
        ({"query": "{ __typename }", "variables": "x"}, JSON, "`variables`"),
        ({"query": "{ __typename }", "extensions": 0}, JSON, "`extensions`"),
        ({"query": "{ __typename }", "operationName": 0}, JSON, "`operationName`"),
        ({"query": "{ __typename }", "operationName": False}, JSON, "`operationName`"),
        ({"query": "{ __typename }", "operationName": ["x"]}, JSON, "`operationName`"),
        ([{"query": "{ __typename }"}] * 2, JSON, "Batching"),
        ({"query": "{ __typename }"}, "text/plain", "content type"),
        ({"query": "{ __typename }"}, None, "content type"),
    ],
    ids=[
        "not json",
        "empty body",
        "not an object",
        "no query",
        "query a number",
        "variables a string",
        "extensions a number",
        "operationName a number",
        "operationName false",
        "operationName a list",
        "batch",
        "text/plain",
        "no content type",
    ],
)
async def test_an_ill_formed_request_is_400_in_json_with_a_code(
    api, accept, body, content_type, words
):
    data = json.dumps(body) if isinstance(body, list) else body

    status, media_type, answered = await answer(api, data, accept, content_type)

    assert (status, media_type) == (400, response_type(accept))
    [error] = answered["errors"]
    assert error["extensions"] == {"code": "BAD_REQUEST"}
    assert words in error["message"]
    assert "data" not in answered


async def test_an_unknown_operation_name_is_400_operation_resolution_failure(api):
    status, media_type, body = await answer(
        api, {"query": VIEWER, "operationName": "Other"}, PREFERS_GRAPHQL_JSON
    )

    assert (status, media_type) == (400, GRAPHQL_JSON)
    assert body == {
        "errors": [
            {
                "message": 'Unknown operation named "Other".',
                "extensions": {"code": "OPERATION_RESOLUTION_FAILURE"},
            }
        ]
    }


@pytest.mark.parametrize("accept", [JSON, PREFERS_GRAPHQL_JSON])
async def test_a_mutation_over_get_is_405(api, accept):
    query = 'mutation { updateUser(input: {name: "x"}) { user { name } } }'
    headers = {"Accept": accept}

    async with api.http.get(api.url, params={"query": query}, headers=headers) as response:
        status, allow = response.status, response.headers.get("Allow")
        media_type, body = response.headers["Content-Type"], await response.json(content_type=None)

    assert (status, allow, media_type) == (405, "POST", response_type(accept))
    assert body["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
async def test_another_method_is_405_in_json(api, method):
    status, media_type, body = await answer(api, {"query": "{ __typename }"}, method=method)

    assert (status, media_type) == (405, JSON)
    assert body["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}


@pytest.mark.parametrize("accept", [JSON, PREFERS_GRAPHQL_JSON])
async def test_a_query_over_get_answers_in_the_preferred_type(api, accept):
    params = {
        "query": "query($n: String!) { __type(name: $n) { name } }",
        "variables": '{"n": "User"}',
    }

    status, media_type, body = await answer(
        api, None, accept, content_type=None, method="GET", params=params
    )

    assert (status, media_type) == (200, response_type(accept))
    assert body["data"] == {"__type": {"name": "User"}}


@pytest.mark.parametrize("accept", [JSON, PREFERS_GRAPHQL_JSON])
@pytest.mark.parametrize("name", ["", None, "Viewer"])
async def test_an_empty_operation_name_is_no_name(api, accept, name):
    client = api.signed_in(await sign_up("ada"))

    answered = await answer(client, {"query": VIEWER, "operationName": name}, accept)

    assert answered == (200, response_type(accept), costing(2, {"viewer": {"username": "ada"}}))


async def test_an_empty_operation_name_over_get_is_no_name(api):
    params = {"query": "{ __typename }", "operationName": ""}

    answered = await answer(api, None, JSON, content_type=None, method="GET", params=params)

    assert answered == (200, JSON, costing(0, {"__typename": "Query"}))


@pytest.mark.skipif(
    not isinstance(schema, PlannedSchema), reason="FAST_PATH=off: no known query takes a short way"
)
@pytest.mark.parametrize("accept", [JSON, PREFERS_GRAPHQL_JSON])
async def test_a_known_query_with_an_empty_operation_name_takes_the_short_way(
    api, monkeypatch, accept
):
    client = api.signed_in(await sign_up("ada"))
    DOCUMENT_STORE.clear()
    body = {"query": VIEWER, "variables": None, "operationName": ""}
    first = await answer(client, body, accept)
    ran: list[object] = []
    usual = type(schema).execute

    async def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        ran.append(args)
        return await usual(self, *args, **kwargs)

    monkeypatch.setattr(type(schema), "execute", counted)

    again = await answer(client, body, accept)

    assert (
        first == again == (200, response_type(accept), costing(2, {"viewer": {"username": "ada"}}))
    )
    assert ran == []  # answered by the view's shortcut, not through the schema


@pytest.mark.parametrize("accept", [JSON, PREFERS_GRAPHQL_JSON])
async def test_a_known_query_answers_in_the_preferred_type(api, accept):
    client = api.signed_in(await sign_up("ada"))
    body = {"query": VIEWER}

    answers = [await answer(client, body, accept) for _ in range(2)]

    assert (
        answers[0]
        == answers[1]
        == (
            200,
            response_type(accept),
            costing(2, {"viewer": {"username": "ada"}}),
        )
    )


def response_type(accept: str) -> str:
    return JSON if accept == JSON else GRAPHQL_JSON
