"""The permission matrix: every root field (but the multipart upload, and the
subscription, which tests/auth/test_api_key_scopes.py asks over a socket), called as each
kind of caller, with the answer each must get.

Signed-in sessions (tokens): `anonymous`; `outsider` (carol, signed in, in no team);
`member` (bob, a plain MEMBER of team lab); `team admin` (alice, ADMIN of lab, and the
owner of the objects the rows aim at: her API key, her OAuth flows, her account);
`site admin` (root, an administrator in no team).

API keys, all alice's: one of each scope (`READ key`, `RUNS key`, `ACCOUNT key`), and
an `expired key` that holds every scope. Each row names the scope its field needs
(written here, and checked against what the schema declares): the key holding it
answers as alice does, every other key is refused naming the scope (`needs ACCOUNT`),
and the expired key is UNAUTHENTICATED. A PUBLIC field answers every live key.

An answer is a top-level error code (UNAUTHENTICATED, FORBIDDEN), `needs <SCOPE>`
(FORBIDDEN for a key without it), a payload error code (NOT_FOUND, INVALID,
CONFLICT...), `null` for a field that hides what the caller may not see, or `ok`.
Every refusal is checked to have changed no row of any table; the allowed calls run
after the refusals, and must succeed. Sessions and keys are two cases of a row, each
on a world of its own, so that alice's session and her key do not both take the one
thing a row aims at (a key to delete, an OAuth flow to finish).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from auth.permissions import NeedsScope
from auth.sealing import seal
from models.alert import AlertChannel, AlertDelivery, AlertEvent, AlertEventType, DeliveryStatus
from models.api_key import ApiKey
from models.destination import AlertRoute, Destination
from models.team import Invite, Team
from schema import schema
from tests.support.fake_github import GOOD_CODE
from tests.support.helpers import GraphQL
from tests.support.receivers import new_secret
from tests.support.rows import snapshot
from tests.support.team_helpers import make_team
from tests.support.world import FEATURE, TEAM, World, build_world

ACTORS = ("anonymous", "outsider", "member", "team admin", "site admin")
KEYS = ("READ key", "RUNS key", "ACCOUNT key", "expired key")
SCOPES = ("READ", "RUNS", "ACCOUNT")
REFUSALS = {"UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND", "INVALID", "CONFLICT", "null"} | {
    f"needs {scope}" for scope in SCOPES
}
ANON = "UNAUTHENTICATED"
#: The scope of a field any caller may reach, with any key.
PUBLIC = "PUBLIC"
READ, RUNS, ACCOUNT = SCOPES


@dataclass(frozen=True)
class Row:
    field: str  #: the root field this row calls
    document: str
    #: anonymous, outsider, member, team admin, site admin
    answers: tuple[str, str, str, str, str]
    #: What an API key needs for the field: READ, RUNS, ACCOUNT or PUBLIC.
    scope: str
    variables: Callable[[World, dict[str, str]], dict[str, Any]] | None = None
    label: str = ""
    #: Something for the row to aim at, and the variables that name it.
    setup: Callable[[GraphQL, World], Awaitable[dict[str, Any]]] | None = None

    @property
    def id(self) -> str:
        return f"{self.field}{f'-{self.label}' if self.label else ''}"

    @property
    def key_answers(self) -> tuple[str, str, str, str]:
        """READ key, RUNS key, ACCOUNT key, expired key: alice's answer for a key that
        holds the scope, the scope's refusal for one that does not."""
        alice = self.answers[ACTORS.index("team admin")]
        held = [
            alice if self.scope in (scope, PUBLIC) else f"needs {self.scope}" for scope in SCOPES
        ]
        return (*held, ANON)  # type: ignore[return-value]


def _m(field: str, input: str, selection: str = "errors { code }") -> str:
    return f"mutation {{ {field}(input: {input}) {{ {selection} }} }}"


async def _connect_github(api: GraphQL, world: World) -> dict[str, Any]:
    client = api.signed_in(world.admin)
    url = await client.execute(_m("startGithubConnect", "{}", "authorizeUrl"))
    state = parse_qs(urlsplit(url["startGithubConnect"]["authorizeUrl"]).query)["state"][0]
    connected = await client.execute(
        _m("connectGithub", f'{{code: "{GOOD_CODE}", state: "{state}"}}')
    )
    assert connected["connectGithub"]["errors"] == []
    return {}


# Invitations made as rows, not through createInvite: its email would be sent while
# the refusals' snapshots are taken.


async def _alice_invited(api: GraphQL, world: World) -> dict[str, Any]:
    """Alice invited by bob, the admin of another team: hers alone to answer."""
    other = await make_team("other", world.member)
    invite = await Invite.create(team=other, from_user=world.member.user, to_user=world.admin.user)
    return {"id": str(invite.id)}


async def _address_invited(api: GraphQL, world: World) -> dict[str, Any]:
    """An address no account has, invited to alice's team: hers alone to withdraw."""
    team = await Team.get(entity__name=TEAM)
    invite = await Invite.create(
        team=team, from_user=world.admin.user, email=NOBODY, email_key=NOBODY
    )
    return {"id": str(invite.id)}


async def _service_account(api: GraphQL, world: World) -> dict[str, Any]:
    """A service account of alice's team: for its admins to delete."""
    made = await api.signed_in(world.admin).execute(
        _m(
            "createServiceAccount",
            f'{{entityName: "{TEAM}", description: "CI"}}',
            "user { username }",
        )
    )
    return {"username": made["createServiceAccount"]["user"]["username"]}


async def _alices_webhook(api: GraphQL, world: World) -> dict[str, Any]:
    """A webhook of alice's, made as a row: its URL is loopback, which the guard refuses
    before connecting, so that alice's test alert reaches no host at all."""
    hook = await Destination.create(
        user_id=world.admin.user.id,
        kind=AlertChannel.WEBHOOK,
        name="Ops hook",
        url_sealed=seal("https://127.0.0.1:9/hook"),
        target="127.0.0.1:9",
        secret_sealed=seal(new_secret()),
    )
    return {"id": str(hook.id)}


async def _alices_route(api: GraphQL, world: World) -> dict[str, Any]:
    route = await AlertRoute.create(user_id=world.admin.user.id, events="SCRIPTABLE")
    return {"id": str(route.id)}


async def _alices_delivery(api: GraphQL, world: World) -> dict[str, Any]:
    """A finished delivery of alice's, to send again."""
    alice = world.admin.user.id
    event = await AlertEvent.create(
        user_id=alice,
        type=AlertEventType.TEST,
        title="t",
        text="x",
        entity_name="alice",
        project_name="",
        run_name="",
    )
    delivery = await AlertDelivery.create(
        event_id=event.id,
        user_id=alice,
        channel=AlertChannel.EMAIL,
        status=DeliveryStatus.DELIVERED,
        attempts=1,
        next_attempt_at=datetime.now(UTC),
    )
    return {"id": str(delivery.id)}  # fmt: skip


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
INVITE_ID = "mutation($id: ID!) { %s(input: {id: $id}) { errors { code } } }"
ID_INPUT = INVITE_ID
#: Alice's own objects: another caller is told there is no such thing.
OWNER_ONLY = (ANON, "NOT_FOUND", "NOT_FOUND", "ok", "NOT_FOUND")
NOBODY = "nobody@example.com"

ROWS = [
    # Queries: what is not public.
    Row("viewer", "{ viewer { email apiKeys { edges { node { prefix } } } } }",
        ("null", "ok", "ok", "ok", "ok"), scope=READ),
    Row("team", f'{{ team(name: "{TEAM}") {{ members {{ role }} }} }}',
        ("null", "null", "ok", "ok", "ok"), scope=READ),
    Row("user", '{ user(username: "alice") { teams { storageUsage { usedBytes } } } }',
        ("FORBIDDEN", "FORBIDDEN", "ok", "ok", "ok"), scope=READ, label="team-storage"),
    Row("organizations", "{ organizations { name } }", (ANON, "ok", "ok", "ok", "ok"),
        scope=READ),
    Row("betaFeatures", "{ betaFeatures { key enabled } }", ("ok", "ok", "ok", "ok", "ok"),
        scope=READ),
    Row("entity", f'{{ entity(name: "{TEAM}") {{ members {{ email }} }} }}',
        ("null", "null", "ok", "ok", "ok"), scope=READ),
    Row("entity", '{ entity(name: "alice") { members { email } } }',
        ("null", "null", "null", "ok", "ok"), scope=READ, label="user-entity"),
    Row("users", "{ users { edges { node { email apiKeys { edges { node { prefix } } } } } } }",
        SITE_ADMIN_ONLY, scope=READ),
    Row("users", "{ users { edges { node { alertSubscriptions { id } } } } }",
        (ANON, "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN"), scope=READ,
        label="others-alerts"),
    # Public: what anonymous callers read too.
    Row("serverInfo", "{ serverInfo { features { name } } }", ("ok", "ok", "ok", "ok", "ok"),
        scope=PUBLIC),
    # The viewer's own settings: anyone signed in, on their own account.
    Row("updateUser", _m("updateUser", '{bio: "hi"}'), SIGNED_IN, scope=ACCOUNT),
    Row("removeProfilePhoto", _m("removeProfilePhoto", "{}"), SIGNED_IN, scope=ACCOUNT),
    Row("updateProjectDefaults", _m("updateProjectDefaults", f'{{entityName: "{TEAM}"}}'),
        (ANON, "INVALID", "ok", "ok", "INVALID"), scope=ACCOUNT),
    Row("setBetaFeature", _m("setBetaFeature", f'{{key: "{FEATURE}", enabled: true}}'),
        SIGNED_IN, scope=ACCOUNT),
    Row("setAlertSubscription",
        _m("setAlertSubscription", "{event: RUN_CRASHED, channel: EMAIL, enabled: true}"),
        SIGNED_IN, scope=ACCOUNT),
    Row("sendTestAlert", _m("sendTestAlert", "{channel: EMAIL}"), SIGNED_IN, scope=ACCOUNT),
    Row("generateApiKey", _m("generateApiKey", '{name: "k"}'), SIGNED_IN, scope=ACCOUNT),
    Row("startSlackConnect", _m("startSlackConnect", "{}"), SIGNED_IN, scope=ACCOUNT),
    Row("startGithubConnect", _m("startGithubConnect", "{}"), SIGNED_IN, scope=ACCOUNT),
    Row("disconnectSlack", _m("disconnectSlack", "{}"), SIGNED_IN, scope=ACCOUNT),
    Row("disconnectGithub", _m("disconnectGithub", "{}"),
        (ANON, "NOT_FOUND", "NOT_FOUND", "ok", "NOT_FOUND"), scope=ACCOUNT,
        setup=_connect_github),
    # Alice's objects, aimed at by everyone.
    Row("renameApiKey", "mutation($id: ID!) { renameApiKey(input: {id: $id, name: \"x\"}) "
        "{ errors { code } } }", (ANON, "NOT_FOUND", "NOT_FOUND", "ok", "NOT_FOUND"),
        scope=ACCOUNT, variables=lambda w, s: {"id": w.key_id}),
    Row("deleteApiKey",
        "mutation($id: String!) { deleteApiKey(input: {id: $id}) { errors { code } } }",
        (ANON, "NOT_FOUND", "NOT_FOUND", "ok", "NOT_FOUND"), scope=ACCOUNT,
        variables=lambda w, s: {"id": w.key_id}),
    Row("connectSlack", "mutation($state: String!) { connectSlack(input: {code: \"c\", "
        "state: $state}) { errors { code } } }", (ANON, "INVALID", "INVALID", "ok", "INVALID"),
        scope=ACCOUNT, variables=_state("slack")),
    Row("connectGithub", "mutation($state: String!) { connectGithub(input: {code: \"good-code\", "
        "state: $state}) { errors { code } } }", (ANON, "INVALID", "INVALID", "ok", "INVALID"),
        scope=ACCOUNT, variables=_state("github")),
    Row("deleteAccount", _m("deleteAccount", '{confirmUsername: "alice"}'),
        # Alice is the only admin of a team with another member: refused to her too.
        (ANON, "INVALID", "INVALID", "CONFLICT", "INVALID"), scope=ACCOUNT),
    # The team's runs and files: its members.
    Row("notifyScriptableRunAlert", _m("notifyScriptableRunAlert", ALERT % TEAM), TEAM_WRITERS,
        scope=RUNS),
    Row("reportRunState", _m("reportRunState", RUN_STATE % TEAM), TEAM_WRITERS, scope=RUNS),
    Row("recordStoredFiles", _m("recordStoredFiles", RECORD % TEAM), TEAM_WRITERS, scope=RUNS),
    Row("deleteStoredFiles", _m("deleteStoredFiles", DELETE % TEAM), TEAM_WRITERS, scope=RUNS),
    # Alice's own runs and files: only her.
    Row("notifyScriptableRunAlert", _m("notifyScriptableRunAlert", ALERT % "alice"), ALICE_ONLY,
        scope=RUNS, label="another-user"),
    Row("reportRunState", _m("reportRunState", RUN_STATE % "alice"), ALICE_ONLY, scope=RUNS,
        label="another-user"),
    Row("recordStoredFiles", _m("recordStoredFiles", RECORD % "alice"), ALICE_ONLY, scope=RUNS,
        label="another-user"),
    Row("deleteStoredFiles", _m("deleteStoredFiles", DELETE % "alice"), ALICE_ONLY, scope=RUNS,
        label="another-user"),
    # The team's members: its admins.
    Row("updateTeamMember",
        _m("updateTeamMember", f'{{teamName: "{TEAM}", username: "bob", role: ADMIN}}'),
        TEAM_ADMIN_ONLY, scope=ACCOUNT),
    Row("removeTeamMember", _m("removeTeamMember", f'{{teamName: "{TEAM}", username: "alice"}}'),
        # Bob may leave, not remove alice; alice may not leave her team without an admin.
        (ANON, "FORBIDDEN", "FORBIDDEN", "CONFLICT", "FORBIDDEN"), scope=ACCOUNT),
    Row("deleteTeam", _m("deleteTeam", f'{{teamName: "{TEAM}"}}'), TEAM_ADMIN_ONLY,
        scope=ACCOUNT),
    Row("createInvite", _m("createInvite", f'{{entityName: "{TEAM}", username: "carol"}}'),
        TEAM_ADMIN_ONLY, scope=ACCOUNT),
    # Invitations: the invitee answers, a team admin may withdraw.
    Row("acceptInvite", INVITE_ID % "acceptInvite",
        (ANON, "NOT_FOUND", "NOT_FOUND", "ok", "NOT_FOUND"), scope=ACCOUNT, setup=_alice_invited),
    Row("deleteInvite", INVITE_ID % "deleteInvite",
        (ANON, "NOT_FOUND", "NOT_FOUND", "ok", "NOT_FOUND"), scope=ACCOUNT,
        setup=_address_invited),
    # Service accounts: the team's admins.
    Row("createServiceAccount",
        _m("createServiceAccount", f'{{entityName: "{TEAM}", description: "CI"}}'),
        TEAM_ADMIN_ONLY, scope=ACCOUNT),
    Row("deleteServiceAccount",
        "mutation($username: String!) { deleteServiceAccount(input: "
        f'{{entityName: "{TEAM}", username: $username}}) {{ errors {{ code }} }} }}',
        (ANON, "FORBIDDEN", "FORBIDDEN", "ok", "FORBIDDEN"), scope=ACCOUNT,
        setup=_service_account),
    # Destinations, routes and deliveries: the owner's alone.
    Row("createWebhookDestination", _m("createWebhookDestination",
        '{name: "h", url: "https://hooks.example.com/in"}'), SIGNED_IN, scope=ACCOUNT),
    Row("createWebhookDestination", _m("createWebhookDestination",
        f'{{name: "h", url: "https://hooks.example.com/in", teamName: "{TEAM}"}}'),
        TEAM_ADMIN_ONLY, scope=ACCOUNT, label="team"),
    Row("setAlertRoute", _m("setAlertRoute",
        f'{{teamName: "{TEAM}", events: [SCRIPTABLE], destinationIds: ["1"]}}'),
        # Past the team's admin check, a destination of id 1 is not the team's.
        (ANON, "FORBIDDEN", "FORBIDDEN", "NOT_FOUND", "FORBIDDEN"), scope=ACCOUNT, label="team"),
    Row("updateDestination", "mutation($id: ID!) { updateDestination(input: {id: $id, "
        "enabled: false}) { errors { code } } }", OWNER_ONLY, scope=ACCOUNT,
        setup=_alices_webhook),
    Row("rotateWebhookSecret", ID_INPUT % "rotateWebhookSecret", OWNER_ONLY, scope=ACCOUNT,
        setup=_alices_webhook),
    Row("deleteDestination", ID_INPUT % "deleteDestination", OWNER_ONLY, scope=ACCOUNT,
        setup=_alices_webhook),
    Row("testDestination", ID_INPUT % "testDestination", OWNER_ONLY, scope=ACCOUNT,
        setup=_alices_webhook),
    Row("setAlertRoute", "mutation($id: ID!) { setAlertRoute(input: {events: [SCRIPTABLE], "
        "destinationIds: [$id]}) { errors { code } } }", OWNER_ONLY, scope=ACCOUNT,
        setup=_alices_webhook),
    Row("deleteAlertRoute", ID_INPUT % "deleteAlertRoute", OWNER_ONLY, scope=ACCOUNT,
        setup=_alices_route),
    Row("redeliverAlert", "mutation($id: ID!) { redeliverAlert(input: {deliveryId: $id}) "
        "{ errors { code } } }", OWNER_ONLY, scope=ACCOUNT, setup=_alices_delivery),
    # Site administrators.
    Row("addTeamMember", _m("addTeamMember", f'{{teamName: "{TEAM}", username: "carol"}}'),
        SITE_ADMIN_ONLY, scope=ACCOUNT),
    Row("createTeam", _m("createTeam", '{teamName: "new-team", type: WORK, organizationName: "O"}'),
        SITE_ADMIN_ONLY, scope=ACCOUNT),
    Row("setStorageLimit", _m("setStorageLimit", '{entityName: "alice", limitBytes: 5}'),
        SITE_ADMIN_ONLY, scope=ACCOUNT),
]  # fmt: skip

#: Root fields outside the matrix, with the scope each needs (tests/auth/test_api_key_scopes.py).
OUTSIDE = {"uploadProfilePhoto": ACCOUNT, "alertEvents": RUNS}


def _client(api: GraphQL, world: World, actor: str, keys: dict[str, str]) -> GraphQL:
    who = {
        "outsider": world.outsider,
        "member": world.member,
        "team admin": world.admin,
        "site admin": world.root,
    }
    if actor in keys:
        return api.signed_in(keys[actor])
    return api.signed_in(who[actor]) if actor in who else api


_MISSING_SCOPE = re.compile(r"^This API key lacks the (\w+) scope, which (\w+) needs: ")


def answer(body: dict[str, Any]) -> str:
    """What the caller got: a top-level code (`needs <SCOPE>` for a key refused for
    the scope the message names), a payload code, null or ok."""
    if body.get("errors"):
        error = body["errors"][0]
        missing = _MISSING_SCOPE.match(error["message"])
        if error["extensions"]["code"] == "FORBIDDEN" and missing:
            return f"needs {missing.group(1)}"
        return str(error["extensions"]["code"])
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


def _basic(secret: str) -> str:
    return "Basic " + base64.b64encode(f"api:{secret}".encode()).decode()


GENERATE = """
mutation($scopes: [ApiKeyScope!]) {
  generateApiKey(input: {name: "scoped", scopes: $scopes}) { apiKey { id } secret }
}
"""


async def _alices_keys(api: GraphQL, world: World) -> dict[str, str]:
    """Alice's keys by column, made through the API, each used once already: its first
    use writes `lastUsedAt`, which must not show as a change made by a refused call."""
    keys = {}
    for column, scopes in zip(KEYS, [[READ], [RUNS], [ACCOUNT], list(SCOPES)], strict=True):
        made = await api.signed_in(world.admin).execute(GENERATE, {"scopes": scopes})
        keys[column] = _basic(made["generateApiKey"]["secret"])
        if column == "expired key":
            await ApiKey.filter(id=int(made["generateApiKey"]["apiKey"]["id"])).update(
                expires_at=datetime.now(UTC) - timedelta(seconds=1)
            )
        else:
            await api.signed_in(keys[column]).execute("{ serverInfo { features { name } } }")
    return keys


def declared_scopes() -> dict[str, set[str]]:
    """The scopes each root field's permissions name (none for a public field)."""
    found: dict[str, set[str]] = {}
    for root in (schema._schema.query_type, schema._schema.mutation_type,
                 schema._schema.subscription_type):  # fmt: skip
        assert root is not None
        for name, field in root.fields.items():
            definition = field.extensions["strawberry-definition"]
            found[name] = {
                needs.scope.value
                for needs in definition.permission_classes
                if issubclass(needs, NeedsScope)
            }
    return found


def test_every_root_field_is_in_the_matrix():
    fields = set(declared_scopes())

    assert fields - {row.field for row in ROWS} == set(OUTSIDE)


def test_every_root_field_declares_the_scope_the_matrix_expects():
    expected = {row.field: row.scope for row in ROWS} | OUTSIDE

    declared = declared_scopes()

    assert declared == {
        name: set() if scope == PUBLIC else {scope} for name, scope in expected.items()
    }


@pytest.mark.parametrize("callers", ["sessions", "keys"])
@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
async def test_permission_matrix(api, slack, github, count_as, row, callers):
    world = await build_world(api)
    states = await _oauth_states(api, world)
    keys = await _alices_keys(api, world) if callers == "keys" else {}
    aimed_at = await row.setup(api, world) if row.setup else {}
    variables = {**(row.variables(world, states) if row.variables else {}), **aimed_at}
    expected = (
        dict(zip(KEYS, row.key_answers, strict=True))
        if keys
        else dict(zip(ACTORS, row.answers, strict=True))
    )
    refused = [actor for actor, answered in expected.items() if answered in REFUSALS]
    allowed = [actor for actor, answered in expected.items() if answered not in REFUSALS]
    got: dict[str, str] = {}
    changed = []

    for actor in [*refused, *allowed]:
        before = await snapshot()
        _, body = await _client(api, world, actor, keys).post(row.document, variables)
        got[actor] = answer(body)
        if got[actor] in REFUSALS and await snapshot() != before:
            changed.append(actor)

    count_as("cells", len(expected))
    assert got == expected
    assert changed == [], f"refused, yet rows changed for {changed}"
