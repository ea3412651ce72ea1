"""SQL and control characters in every string input of the schema.

The string inputs are found in the schema itself (every String and ID, at any depth
of a mutation's input, and the query arguments), so an input added later is attacked
too, once it has a valid base below. For each one, each value of INJECTIONS replaces
the base's valid value, and:
- no answer is a 5xx or an internal error, and every error has a code;
- a refused request wrote nothing (every table compared);
- NUL, unpaired surrogates and terminal escapes are never stored anywhere.
SQL metacharacters are data: a field that takes free text stores them verbatim (the
queries are parameterised), a name field refuses them; either way no other row moves.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from graphql import (
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
)

from schema import schema
from tests.support.helpers import UNLIMITED, GraphQL, set_rate_limits
from tests.support.rows import snapshot
from tests.support.world import FEATURE, TEAM, World, build_world

INJECTIONS = {
    "sql-quote": "' OR '1'='1",
    "sql-drop": "x'); DROP TABLE entity; --",
    "like-wildcards": "%_%",
    "nul": "a\x00b",
    "surrogate": "a\ud800b",
    "terminal-escape": "\x1b[2J\x1b]0;owned\x07",
    "crlf": "x\r\nBcc: mallory@example.com",
}
#: Never stored, in any field.
NEVER_STORED = ("nul", "surrogate", "terminal-escape")

Base = Callable[[World, int], dict[str, Any]]

#: A valid input of every mutation that takes text; `i` makes names unique per attack.
MUTATION_BASES: dict[str, Base] = {
    "updateUser": lambda w, i: {
        "name": "Alice",
        "institution": "MIT",
        "bio": "Hi.",
        "location": "Earth",
        "websiteUrl": "https://example.com",
    },
    "removeProfilePhoto": lambda w, i: {"clientMutationId": "m"},
    "updateProjectDefaults": lambda w, i: {"entityName": TEAM},
    "createTeam": lambda w, i: {
        "teamName": f"team-{i}",
        "type": "WORK",
        "organizationName": "Org",
        "teamAdminUserName": "alice",
    },
    "addTeamMember": lambda w, i: {"teamName": TEAM, "username": "carol"},
    "updateTeamMember": lambda w, i: {"teamName": TEAM, "username": "bob", "role": "MEMBER"},
    "removeTeamMember": lambda w, i: {"teamName": TEAM, "username": "bob"},
    "deleteTeam": lambda w, i: {"teamName": TEAM},
    "createInvite": lambda w, i: {"entityName": TEAM, "username": "carol", "role": "MEMBER"},
    "acceptInvite": lambda w, i: {"id": "1"},
    "deleteInvite": lambda w, i: {"id": "1"},
    "createServiceAccount": lambda w, i: {"entityName": TEAM, "description": f"CI {i}"},
    "deleteServiceAccount": lambda w, i: {"entityName": TEAM, "username": "sa-nobody"},
    "setBetaFeature": lambda w, i: {"key": FEATURE, "enabled": True},
    "startSlackConnect": lambda w, i: {"redirectUri": None},
    "connectSlack": lambda w, i: {"code": "code", "state": "state"},
    "disconnectSlack": lambda w, i: {"clientMutationId": "m"},
    "notifyScriptableRunAlert": lambda w, i: {
        "entityName": "alice",
        "projectName": "p",
        "runName": "r",
        "title": "Loss",
        "text": "Loss is NaN.",
        "clientMutationId": "m",
    },
    "reportRunState": lambda w, i: {
        "entityName": "alice",
        "projectName": "p",
        "runName": "r",
        "state": "FINISHED",
        "clientMutationId": "m",
    },
    "generateApiKey": lambda w, i: {"name": "k", "description": "d"},
    "renameApiKey": lambda w, i: {"id": w.key_id, "name": "k2"},
    "deleteApiKey": lambda w, i: {"id": w.key_id},
    "startGithubConnect": lambda w, i: {"redirectUri": None},
    "connectGithub": lambda w, i: {"code": "code", "state": "state"},
    "disconnectGithub": lambda w, i: {"clientMutationId": "m"},
    "recordStoredFiles": lambda w, i: {
        "entityName": "alice",
        "projectName": "p",
        "files": [{"path": "a", "category": "MEDIA", "sizeBytes": 1}],
    },
    "deleteStoredFiles": lambda w, i: {"entityName": "alice", "projectName": "p", "paths": ["a"]},
    "setStorageLimit": lambda w, i: {"entityName": "alice", "limitBytes": 1000},
    "createWebhookDestination": lambda w, i: {
        "name": f"Hook {i}",
        "url": "https://hooks.example.com/in",
        "kind": "WEBHOOK",
    },
    "rotateWebhookSecret": lambda w, i: {"id": "1"},
    "updateDestination": lambda w, i: {"id": "email", "name": None, "mutedUntil": None},
    "deleteDestination": lambda w, i: {"id": "1"},
    "testDestination": lambda w, i: {"id": "1"},
    "setAlertRoute": lambda w, i: {
        "entityName": TEAM,
        "projectPattern": "train-*",
        "events": ["SCRIPTABLE"],
        "destinationIds": ["email"],
    },
    "deleteAlertRoute": lambda w, i: {"id": "1"},
    "redeliverAlert": lambda w, i: {"deliveryId": "1"},
    "deleteAccount": lambda w, i: {"confirmUsername": "alice"},
}
#: Only a site admin gets past the permission check to the text.
AS_ROOT = {"createTeam", "addTeamMember", "setStorageLimit"}

QUERIES = {
    "user": "query($v: String!) { user(username: $v) { username } }",
    "team": "query($v: String!) { team(name: $v) { name } }",
    "organizations": "query($v: String) { organizations(search: $v) { name } }",
    "viewer.alertEvents": (
        "query($v: String) { viewer { alertEvents(after: $v) { edges { cursor } } } }"
    ),
}

Path = tuple[str | int, ...]


def _text_paths(type_: GraphQLInputType, prefix: Path = ()) -> Iterator[Path]:
    if isinstance(type_, GraphQLNonNull):
        yield from _text_paths(type_.of_type, prefix)
    elif isinstance(type_, GraphQLList):
        yield from _text_paths(type_.of_type, (*prefix, 0))
    elif isinstance(type_, GraphQLInputObjectType):
        for name, field in type_.fields.items():
            yield from _text_paths(field.type, (*prefix, name))
    elif isinstance(type_, GraphQLScalarType) and type_.name in ("String", "ID"):
        yield prefix


def mutation_text_inputs() -> dict[str, list[Path]]:
    """Each mutation's text inputs, as paths into its `input` argument."""
    found = {}
    for name, field in schema._schema.mutation_type.fields.items():  # type: ignore[union-attr]
        paths = [p for name, arg in field.args.items() for p in _text_paths(arg.type, (name,))]
        if paths:
            found[name] = paths
    return found


def _with(value: Any, path: Path, replacement: str) -> Any:
    if not path:
        return replacement
    copy: Any = list(value) if isinstance(value, list) else dict(value)
    copy[path[0]] = _with(
        value.get(path[0]) if isinstance(value, dict) else value[path[0]], path[1:], replacement
    )
    return copy


def _input_type(mutation: str) -> str:
    field = schema._schema.mutation_type.fields[mutation]  # type: ignore[union-attr]
    return str(field.args["input"].type)


def _problems(status: int, body: dict[str, Any]) -> Iterator[str]:
    if status >= 500:
        yield f"HTTP {status}"
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        if code in (None, "INTERNAL_SERVER_ERROR"):
            yield f"error {code}: {error.get('message')}"


def _refused(body: dict[str, Any]) -> bool:
    if body.get("errors"):
        return True
    payloads = (body.get("data") or {}).values()
    return any(isinstance(p, dict) and p.get("errors") for p in payloads)


def _stored(rows: dict[str, list[dict[str, Any]]], text: str) -> bool:
    return text in json.dumps(rows, default=str, ensure_ascii=False)


async def _attack_all(
    client: GraphQL, sends: list[tuple[str, str, dict[str, Any]]]
) -> tuple[int, list[str]]:
    """Sends each (label, document, variables); the failures, with what each broke."""
    failures: list[str] = []
    before = await snapshot()
    for label, document, variables in sends:
        status, body = await client.post(document, variables)
        found = list(_problems(status, body))
        after = await snapshot()
        if _refused(body) and after != before:
            found.append("refused, yet rows changed")
        kind = label.rsplit(" ", 1)[-1]
        if kind in NEVER_STORED and _stored(after, INJECTIONS[kind]):
            found.append("stored")
        if found:
            failures.append(f"{label}: {'; '.join(found)}: {json.dumps(body)[:300]}")
        before = after
    return len(sends), failures


def test_every_mutation_with_text_has_a_base():
    assert sorted(mutation_text_inputs()) == sorted(MUTATION_BASES)


@pytest.mark.parametrize("mutation", sorted(MUTATION_BASES))
@pytest.mark.attack("injection")
async def test_injection_in_every_text_input_of_a_mutation(
    api, slack, github, count_as, monkeypatch, mutation
):
    # Every injection must reach the mutation's checks, not stop at a rate limit.
    set_rate_limits(monkeypatch, UNLIMITED)
    world = await build_world(api)
    client = api.signed_in(world.root if mutation in AS_ROOT else world.admin)
    document = (
        f"mutation($input: {_input_type(mutation)}) "
        f"{{ {mutation}(input: $input) {{ errors {{ field code message }} }} }}"
    )
    sends: list[tuple[str, str, dict[str, Any]]] = []
    for path in mutation_text_inputs()[mutation]:
        assert path[0] == "input", path
        for kind, value in INJECTIONS.items():
            base = MUTATION_BASES[mutation](world, len(sends))
            variables = {"input": _with(base, path[1:], value)}
            sends.append((f"{mutation} {'.'.join(map(str, path))} {kind}", document, variables))

    count, failures = await _attack_all(client, sends)

    count_as("attacks", count)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("query", sorted(QUERIES))
@pytest.mark.attack("injection")
async def test_injection_in_every_text_argument_of_a_query(api, count_as, query):
    world = await build_world(api)
    sends = [
        (f"{query} {kind}", QUERIES[query], {"v": value}) for kind, value in INJECTIONS.items()
    ]

    count, failures = await _attack_all(api.signed_in(world.admin), sends)

    count_as("attacks", count)
    assert not failures, "\n".join(failures)


@pytest.mark.attack("injection")
async def test_like_wildcards_in_a_search_match_only_themselves(api):
    world = await build_world(api)
    await api.signed_in(world.root).execute(
        'mutation { createTeam(input: {teamName: "t1", type: WORK, organizationName: "Acme"}) '
        "{ errors { code } } }"
    )

    data = await api.signed_in(world.admin).execute(QUERIES["organizations"], {"v": "%"})

    assert data == {"organizations": []}
