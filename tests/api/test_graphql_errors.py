"""How the GraphQL layer answers what it must not do: anonymous mutations,
abusive documents, internal failures."""

from __future__ import annotations

import io
import json
import logging

import pytest

from api.documents import DOCUMENT_STORE
from models.api_key import ApiKey
from models.user import User
from schema import schema
from services import photos
from tests.support.helpers import costing, count_queries, sign_up
from tests.support.rows import snapshot
from tests.support.team_helpers import make_team

ANONYMOUS_MUTATIONS = {
    "updateUser": 'updateUser(input: {name: "x"}) { errors { code } }',
    "removeProfilePhoto": "removeProfilePhoto(input: {}) { errors { code } }",
    "updateProjectDefaults": "updateProjectDefaults(input: {privacy: PUBLIC}) { errors { code } }",
    "generateApiKey": 'generateApiKey(input: {name: "k"}) { secret }',
    "renameApiKey": 'renameApiKey(input: {id: "1", name: "k"}) { errors { code } }',
    "deleteApiKey": 'deleteApiKey(input: {id: "1"}) { success }',
}


@pytest.mark.parametrize("mutation", sorted(ANONYMOUS_MUTATIONS))
async def test_anonymous_mutation_is_unauthenticated_and_changes_nothing(api, mutation):
    alice = await sign_up("alice")
    await ApiKey.create(user=alice.user, name="k", prefix="p", key_hash="h")

    error = await api.error(f"mutation {{ {ANONYMOUS_MUTATIONS[mutation]} }}")

    assert error["extensions"] == {"code": "UNAUTHENTICATED"}
    assert error["path"] == [mutation]
    row = await User.get(id=alice.user.id)
    assert (row.name, row.default_privacy) == ("Alice", "PRIVATE")
    assert await ApiKey.filter(name="k").count() == 1


@pytest.mark.attack("graphql")
async def test_introspection_nested_too_deeply_is_refused(api):
    selection = "name"
    for _ in range(50):
        selection = f"fields {{ type {{ ofType {{ {selection} }} }} }}"
    error = await api.error('{ __type(name: "User") { ' + selection + " } }")

    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "Maximum introspection depth exceeded" in error["message"]


@pytest.mark.parametrize(
    ("aliases", "words", "code"),
    [
        (60, "60 aliases found", "GRAPHQL_VALIDATION_FAILED"),
        (1000, "tokens", "GRAPHQL_PARSE_FAILED"),
    ],
)
@pytest.mark.attack("graphql")
async def test_too_many_aliases_are_refused(api, aliases, words, code):
    query = "{ " + " ".join(f"a{i}: viewer {{ username }}" for i in range(aliases)) + " }"

    status, body = await api.post(query)

    assert status == 200
    assert body["errors"][0]["extensions"]["code"] == code
    assert words in body["errors"][0]["message"]


@pytest.mark.attack("graphql")
async def test_too_many_tokens_are_refused(api):
    query = "{ viewer { " + "username " * 100_000 + "} }"

    error = await api.error(query)

    assert error["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"  # the parser counts them
    assert "token" in error["message"]


@pytest.mark.attack("graphql")
async def test_circular_fragments_are_refused(api):
    query = """
    { viewer { ...A } }
    fragment A on User { username ...B }
    fragment B on User { name ...A }
    """

    status, body = await api.post(query)

    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "Cannot spread fragment" in body["errors"][0]["message"]


async def test_syntax_error_has_a_code(api):
    error = await api.error("{ viewer { ")

    assert error["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert "Syntax Error" in error["message"]


async def test_variable_of_the_wrong_type_is_bad_user_input(api):
    error = await api.error(
        "query($u: String!) { user(username: $u) { name } }", {"u": {"nested": True}}
    )

    assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_internal_error_is_masked_and_logged(api, monkeypatch, caplog):
    alice = await sign_up("alice")

    def explode(data: bytes) -> tuple[bytes, str]:
        raise RuntimeError("secret internal detail: /srv/db password=hunter2")

    monkeypatch.setattr(photos, "reencode", explode)
    caplog.set_level(logging.ERROR, logger="switchboard.errors")

    status, body = await api.signed_in(alice).upload(
        "mutation($f: Upload!) { uploadProfilePhoto(input: {file: $f}) { errors { code } } }",
        {"f": None},
        "f",
        b"\x89PNG....",
    )

    assert status == 200
    [error] = body["errors"]
    assert error["message"] == "Internal server error."
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert "hunter2" not in str(body)
    assert "hunter2" in caplog.text
    assert (await User.get(id=alice.user.id)).photo_file is None


async def test_error_raised_outside_every_resolver_is_masked(api, monkeypatch):
    alice = await sign_up("alice")

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internal detail: password=hunter2")

    monkeypatch.setattr(schema.execution_context_class, "execute_collected_root_fields", explode)
    DOCUMENT_STORE.clear()  # a known document would not reach the executor

    error = await api.signed_in(alice).error("{ viewer { username } }")

    assert error["message"] == "Internal server error."
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert "hunter2" not in json.dumps(error)


@pytest.mark.attack("graphql")
async def test_batched_requests_are_refused(api):
    async with api.http.post(api.url, json=[{"query": "{ viewer { username } }"}] * 2) as response:
        status, text = response.status, await response.text()

    assert status == 400
    assert "batch" in text.lower()


@pytest.mark.attack("graphql")
async def test_json_body_over_the_limit_is_refused_with_413(api):
    huge = {
        "query": "query($x: String) { viewer { username } }",
        "variables": {"x": "y" * 3_000_000},
    }
    body = io.BytesIO(json.dumps(huge).encode())

    async with api.http.post(
        api.url, data=body, headers={"Content-Type": "application/json"}
    ) as response:
        status, answer = response.status, await response.json()

    assert status == 413
    assert answer == {
        "errors": [
            {
                "message": "Request body too large: the limit is 2097152 bytes.",
                "extensions": {"code": "BAD_REQUEST"},
            }
        ]
    }


async def test_settings_page_query_runs_a_constant_number_of_sql_queries(api):
    settings_page = """
    { viewer {
        id username email name institution bio location websiteUrl photoUrl admin createdAt
        projectDefaults { entity { name isTeam } privacy codeSavingEnabled }
        availableEntities { name isTeam }
        apiKeys { edges { node { id name prefix createdAt lastUsedAt } } }
    } }
    """
    small, large = await sign_up("small"), await sign_up("large")
    await ApiKey.create(user=small.user, name="k", prefix="p", key_hash="h0")
    for i in range(30):
        await ApiKey.create(user=large.user, name=f"k{i}", prefix="p", key_hash=f"h{i + 1}")

    with count_queries() as small_queries:
        await api.signed_in(small).execute(settings_page)
    with count_queries() as large_queries:
        data = await api.signed_in(large).execute(settings_page)

    assert len(data["viewer"]["apiKeys"]["edges"]) == 30
    # Sign-in (which reads the own and default entities too), memberships, API keys.
    assert len(small_queries) == len(large_queries) == 3, small_queries


@pytest.mark.parametrize(
    ("query", "variables", "expected"),
    [
        # Found by the schema fuzzer: PostgreSQL refuses NUL even in a lookup.
        ('{ user(username: "a\\u0000b") { name } }', {}, {"user": None}),
        ("query($n: String!) { team(name: $n) { name } }", {"n": "a\0"}, {"team": None}),
        ("query($s: String) { organizations(search: $s) { name } }", {"s": "\ud800"}, None),
    ],
    ids=["user-nul-literal", "team-nul-variable", "organizations-surrogate"],
)
@pytest.mark.attack("injection")
async def test_lookup_of_text_with_nul_or_unpaired_surrogates_finds_nothing(
    api, query, variables, expected
):
    alice = await sign_up("alice")

    data = await api.signed_in(alice).execute(query, variables)

    assert data == (expected or {"organizations": []})


MUTATIONS_WITH_TEXT = [
    ('updateUser(input: {name: "a\\u0000"}) { errors { field code } }', "name"),
    (
        'removeTeamMember(input: {teamName: "lab", username: "\\u0000"}) { errors { field code } }',
        "username",
    ),
    (
        'recordStoredFiles(input: {entityName: "alice", projectName: "p",'
        ' files: [{path: "a\\u0000", category: MEDIA, sizeBytes: 1}]}) { errors { field code } }',
        "files",
    ),
]


@pytest.mark.parametrize(("selection", "field"), MUTATIONS_WITH_TEXT)
@pytest.mark.attack("injection")
async def test_mutation_input_with_nul_is_invalid_on_its_field(api, selection, field):
    alice = await sign_up("alice")
    before = await snapshot()

    data = await api.signed_in(alice).execute(f"mutation {{ {selection} }}")

    [payload] = data.values()
    assert payload["errors"] == [{"field": field, "code": "INVALID"}]
    assert await snapshot() == before


@pytest.mark.attack("injection")
async def test_unpaired_surrogate_in_json_variables_is_invalid_and_writes_nothing(api):
    alice = await sign_up("alice")
    raw = (
        '{"query": "mutation($n: String) { updateUser(input: {bio: $n}) { errors { field } } }",'
        ' "variables": {"n": "x\\ud800y"}}'
    )

    async with api.http.post(
        api.url,
        data=raw,
        headers={"Content-Type": "application/json", "Authorization": alice.authorization},
    ) as response:
        answer = await response.json()

    assert answer == costing(102, {"updateUser": {"errors": [{"field": "bio"}]}})
    assert (await User.get(id=alice.user.id)).bio is None


async def test_anonymous_mutation_with_nul_is_still_unauthenticated(api):
    error = await api.error('mutation { updateUser(input: {name: "\\u0000"}) { errors { code } } }')

    assert error["extensions"] == {"code": "UNAUTHENTICATED"}


# Both profiles load the team's member count, one future shared, beside a refusal.
# The fuzzer's document (teams, members, profile, teams again) is now refused by its
# cost; the shields it needed are tested in tests/resolvers/test_dataloader.py.
PROFILE_WITH_TEAM_STORAGE = """
{ user(username: "alice") { teams { memberCount storageUsage { fraction } } }
  again: user(username: "root") { teams { memberCount members { role } } } }
"""


async def test_a_refused_field_in_a_list_leaves_the_rest_of_the_request_answered(api):
    # Found by the schema fuzzer: a refusal cancelled sibling fields that were
    # waiting on the same DataLoader key, and the CancelledError ended in HTTP 500.
    alice, root = await sign_up("alice"), await sign_up("root", admin=True)
    await make_team("lab", alice, root)

    for _ in range(5):
        status, body = await api.post(PROFILE_WITH_TEAM_STORAGE)

        assert status == 200
        assert body["data"] == {
            "user": None,
            "again": {
                "teams": [{"memberCount": 2, "members": [{"role": "ADMIN"}, {"role": "MEMBER"}]}]
            },
        }
        assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
