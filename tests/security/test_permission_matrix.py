"""The permission matrix: every mutation, and every field that is not public, called
as each kind of caller, with the answer each must get.

Callers: `anonymous`; `outsider` (carol, signed in, in no team); `member` (bob, a
plain MEMBER of team lab); `team admin` (alice, ADMIN of lab, and the owner of the
objects the rows aim at: her API key, her OAuth flows, her account); `site admin`
(root, an administrator in no team).

An answer is a top-level error code (UNAUTHENTICATED, FORBIDDEN), a payload error
code (NOT_FOUND, INVALID, CONFLICT...), `null` for a field that hides what the
caller may not see, or `ok`. Every refusal is checked to have changed no row of
any table; the allowed calls run after the refusals, and must succeed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from schema import schema
from tests.support.fake_github import GOOD_CODE
from tests.support.helpers import GraphQL
from tests.support.rows import snapshot
from tests.support.world import FEATURE, TEAM, World, build_world

ACTORS = ("anonymous", "outsider", "member", "team admin", "site admin")
REFUSALS = {"UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND", "INVALID", "CONFLICT", "null"}
ANON = "UNAUTHENTICATED"


@dataclass(frozen=True)
class Row:
    field: str  #: the root field this row calls
    document: str
    #: anonymous, outsider, member, team admin, site admin
    answers: tuple[str, str, str, str, str]
    variables: Callable[[World, dict[str, str]], dict[str, Any]] | None = None
    label: str = ""
    #: Something of alice's for the row to aim at, made through the API.
    setup: Callable[[GraphQL, World], Awaitable[None]] | None = None

    @property
    def id(self) -> str:
        return f"{self.field}{f'-{self.label}' if self.label else ''}"


def _m(field: str, input: str, selection: str = "errors { code }") -> str:
    return f"mutation {{ {field}(input: {input}) {{ {selection} }} }}"


async def _connect_github(api: GraphQL, world: World) -> None:
    client = api.signed_in(world.admin)
    url = await client.execute(_m("startGithubConnect", "{}", "authorizeUrl"))
    state = parse_qs(urlsplit(url["startGithubConnect"]["authorizeUrl"]).query)["state"][0]
    connected = await client.execute(
        _m("connectGithub", f'{{code: "{GOOD_CODE}", state: "{state}"}}')
    )
    assert connected["connectGithub"]["errors"] == []


def _state(provider: str) -> Callable[[World, dict[str, str]], dict[str, Any]]:
    return lambda w, states: {"state": states[provider]}


#: Anyone signed in, each on their own account.
SIGNED_IN = (ANON, "ok", "ok", "ok", "ok")
TEAM_WRITERS = (ANON, "FORBIDDEN", "ok", "ok", "FORBIDDEN")
ALICE_ONLY = (ANON, "FORBIDDEN", "FORBIDDEN", "ok", "FORBIDDEN")
TEAM_ADMIN_ONLY = (ANON, "FORBIDDEN", "FORBIDDEN", "ok", "FORBIDDEN")
SITE_ADMIN_ONLY = (ANON, "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "ok")
RECORD = '{entityName: "%s", projectName: "p", files: [{path: "x", category: MEDIA, sizeBytes: 1}]}'
DELETE = '{entityName: "%s", projectName: "p", paths: ["model.bin"]}'
ALERT = '{entityName: "%s", projectName: "p", runName: "r", title: "t", text: "x"}'
RUN_STATE = '{entityName: "%s", projectName: "p", runName: "r", state: CRASHED}'

ROWS = [
    # Queries: what is not public.
    Row("viewer", "{ viewer { email apiKeys { edges { node { prefix } } } } }",
        ("null", "ok", "ok", "ok", "ok")),
    Row("team", f'{{ team(name: "{TEAM}") {{ members {{ role }} }} }}',
        ("null", "null", "ok", "ok", "ok")),
    Row("user", '{ user(username: "alice") { teams { storageUsage { usedBytes } } } }',
        ("FORBIDDEN", "FORBIDDEN", "ok", "ok", "ok"), label="team-storage"),
    Row("organizations", "{ organizations { name } }", (ANON, "ok", "ok", "ok", "ok")),
    Row("entity", f'{{ entity(name: "{TEAM}") {{ members {{ email }} }} }}',
        ("null", "null", "ok", "ok", "ok")),
    Row("entity", '{ entity(name: "alice") { members { email } } }',
        ("null", "null", "null", "ok", "ok"), label="user-entity"),
    Row("users", "{ users { edges { node { email apiKeys { edges { node { prefix } } } } } } }",
        SITE_ADMIN_ONLY),
    Row("users", "{ users { edges { node { alertSubscriptions { id } } } } }",
        (ANON, "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN"), label="others-alerts"),
    # The viewer's own settings: anyone signed in, on their own account.
    Row("updateUser", _m("updateUser", '{bio: "hi"}'), SIGNED_IN),
    Row("removeProfilePhoto", _m("removeProfilePhoto", "{}"), SIGNED_IN),
    Row("updateProjectDefaults", _m("updateProjectDefaults", f'{{entityName: "{TEAM}"}}'),
        (ANON, "INVALID", "ok", "ok", "INVALID")),
    Row("setBetaFeature", _m("setBetaFeature", f'{{key: "{FEATURE}", enabled: true}}'),
        SIGNED_IN),
    Row("setAlertSubscription",
        _m("setAlertSubscription", "{event: RUN_CRASHED, channel: EMAIL, enabled: true}"),
        SIGNED_IN),
    Row("sendTestAlert", _m("sendTestAlert", "{channel: EMAIL}"), SIGNED_IN),
    Row("generateApiKey", _m("generateApiKey", '{name: "k"}'), SIGNED_IN),
    Row("startSlackConnect", _m("startSlackConnect", "{}"), SIGNED_IN),
    Row("startGithubConnect", _m("startGithubConnect", "{}"), SIGNED_IN),
    Row("disconnectSlack", _m("disconnectSlack", "{}"), SIGNED_IN),
    Row("disconnectGithub", _m("disconnectGithub", "{}"),
        (ANON, "NOT_FOUND", "NOT_FOUND", "ok", "NOT_FOUND"), setup=_connect_github),
    # Alice's objects, aimed at by everyone.
    Row("renameApiKey", "mutation($id: ID!) { renameApiKey(input: {id: $id, name: \"x\"}) "
        "{ errors { code } } }", (ANON, "NOT_FOUND", "NOT_FOUND", "ok", "NOT_FOUND"),
        variables=lambda w, s: {"id": w.key_id}),
    Row("deleteApiKey",
        "mutation($id: String!) { deleteApiKey(input: {id: $id}) { errors { code } } }",
        (ANON, "NOT_FOUND", "NOT_FOUND", "ok", "NOT_FOUND"),
        variables=lambda w, s: {"id": w.key_id}),
    Row("connectSlack", "mutation($state: String!) { connectSlack(input: {code: \"c\", "
        "state: $state}) { errors { code } } }", (ANON, "INVALID", "INVALID", "ok", "INVALID"),
        variables=_state("slack")),
    Row("connectGithub", "mutation($state: String!) { connectGithub(input: {code: \"good-code\", "
        "state: $state}) { errors { code } } }", (ANON, "INVALID", "INVALID", "ok", "INVALID"),
        variables=_state("github")),
    Row("deleteAccount", _m("deleteAccount", '{confirmUsername: "alice"}'),
        # Alice is the only admin of a team with another member: refused to her too.
        (ANON, "INVALID", "INVALID", "CONFLICT", "INVALID")),
    # The team's runs and files: its members.
    Row("notifyScriptableRunAlert", _m("notifyScriptableRunAlert", ALERT % TEAM), TEAM_WRITERS),
    Row("reportRunState", _m("reportRunState", RUN_STATE % TEAM), TEAM_WRITERS),
    Row("recordStoredFiles", _m("recordStoredFiles", RECORD % TEAM), TEAM_WRITERS),
    Row("deleteStoredFiles", _m("deleteStoredFiles", DELETE % TEAM), TEAM_WRITERS),
    # Alice's own runs and files: only her.
    Row("notifyScriptableRunAlert", _m("notifyScriptableRunAlert", ALERT % "alice"), ALICE_ONLY,
        label="another-user"),
    Row("reportRunState", _m("reportRunState", RUN_STATE % "alice"), ALICE_ONLY,
        label="another-user"),
    Row("recordStoredFiles", _m("recordStoredFiles", RECORD % "alice"), ALICE_ONLY,
        label="another-user"),
    Row("deleteStoredFiles", _m("deleteStoredFiles", DELETE % "alice"), ALICE_ONLY,
        label="another-user"),
    # The team's members: its admins.
    Row("addTeamMember", _m("addTeamMember", f'{{teamName: "{TEAM}", username: "carol"}}'),
        TEAM_ADMIN_ONLY),
    Row("updateTeamMember",
        _m("updateTeamMember", f'{{teamName: "{TEAM}", username: "bob", role: ADMIN}}'),
        TEAM_ADMIN_ONLY),
    Row("removeTeamMember", _m("removeTeamMember", f'{{teamName: "{TEAM}", username: "alice"}}'),
        # Bob may leave, not remove alice; alice may not leave her team without an admin.
        (ANON, "FORBIDDEN", "FORBIDDEN", "CONFLICT", "FORBIDDEN")),
    Row("deleteTeam", _m("deleteTeam", f'{{teamName: "{TEAM}"}}'), TEAM_ADMIN_ONLY),
    # Site administrators.
    Row("createTeam", _m("createTeam", '{teamName: "new-team", type: WORK, organizationName: "O"}'),
        SITE_ADMIN_ONLY),
    Row("setStorageLimit", _m("setStorageLimit", '{entityName: "alice", limitBytes: 5}'),
        SITE_ADMIN_ONLY),
]  # fmt: skip


def _client(api: GraphQL, world: World, actor: str) -> GraphQL:
    who = {
        "outsider": world.outsider,
        "member": world.member,
        "team admin": world.admin,
        "site admin": world.root,
    }
    return api.signed_in(who[actor]) if actor in who else api


def answer(body: dict[str, Any]) -> str:
    """What the caller got: a top-level code, a payload code, null or ok."""
    if body.get("errors"):
        return str(body["errors"][0]["extensions"]["code"])
    [value] = body["data"].values()
    if value is None:
        return "null"
    if isinstance(value, dict) and value.get("errors"):
        return str(value["errors"][0]["code"])
    return "ok"


async def _oauth_states(api: GraphQL, world: World) -> dict[str, str]:
    states = {}
    for provider, field in (("slack", "startSlackConnect"), ("github", "startGithubConnect")):
        data = await api.signed_in(world.admin).execute(_m(field, "{}", "authorizeUrl"))
        states[provider] = parse_qs(urlsplit(data[field]["authorizeUrl"]).query)["state"][0]
    return states


def test_every_mutation_is_in_the_matrix():
    mutations = set(schema._schema.mutation_type.fields)  # type: ignore[union-attr]
    # Uploads are multipart: tests/services/test_photos.py refuses the anonymous one.
    assert mutations - {row.field for row in ROWS} == {"uploadProfilePhoto"}


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
async def test_permission_matrix(api, slack, github, count_as, row):
    world = await build_world(api)
    states = await _oauth_states(api, world)
    if row.setup:
        await row.setup(api, world)
    variables = row.variables(world, states) if row.variables else {}
    refused = [(a, e) for a, e in zip(ACTORS, row.answers, strict=True) if e in REFUSALS]
    allowed = [(a, e) for a, e in zip(ACTORS, row.answers, strict=True) if e not in REFUSALS]
    got: dict[str, str] = {}
    changed = []

    for actor, _ in [*refused, *allowed]:
        before = await snapshot()
        _, body = await _client(api, world, actor).post(row.document, variables)
        got[actor] = answer(body)
        if got[actor] in REFUSALS and await snapshot() != before:
            changed.append(actor)

    count_as("cells", len(ACTORS))
    assert got == dict(zip(ACTORS, row.answers, strict=True))
    assert changed == [], f"refused, yet rows changed for {changed}"
