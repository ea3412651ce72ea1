"""API keys' scopes: what a key of each may do, what it may mint, on HTTP and on a
socket. Every root field for every scope: tests/security/test_permission_matrix.py."""

from __future__ import annotations

import asyncio

from models.alert import AlertEventType, AlertSeverity
from models.api_key import ApiKey
from models.user import User
from notifiers.outbox import raise_alert
from tests.support.helpers import sign_up
from tests.support.keys import GENERATE_INPUT, generate, scoped
from tests.support.ws import ALERT_EVENTS, graphql_socket

VIEWER = "{ viewer { username } }"
KEYS = "{ viewer { apiKeys { edges { node { id name scopes expiresAt } } } } }"
CREATE_TEAM = """
mutation { createTeam(input: {teamName: "made-by-key", type: WORK, organizationName: "O"}) {
  errors { code } } }
"""
USERS = "{ users { edges { node { username } } } }"
UPLOAD = "mutation($file: Upload!) { uploadProfilePhoto(input: {file: $file}) { errors { code } } }"


async def test_new_key_may_read_and_report_runs_and_never_expires(api):
    alice = await sign_up("alice")

    generated = await generate(api.signed_in(alice))
    listed = await api.signed_in(alice).execute(KEYS)

    assert (generated["apiKey"]["scopes"], generated["apiKey"]["expiresAt"]) == (
        ["READ", "RUNS"],
        None,
    )
    [node] = [edge["node"] for edge in listed["viewer"]["apiKeys"]["edges"]]
    assert (node["scopes"], node["expiresAt"]) == (["READ", "RUNS"], None)
    assert (await ApiKey.get(id=int(node["id"]))).scopes == "READ,RUNS"


async def test_key_scopes_are_stored_once_each_in_order(api):
    alice = await sign_up("alice")

    generated = await generate(api.signed_in(alice), scopes=["ACCOUNT", "READ", "ACCOUNT"])

    assert generated["apiKey"]["scopes"] == ["READ", "ACCOUNT"]
    assert (await ApiKey.get(id=int(generated["apiKey"]["id"]))).scopes == "READ,ACCOUNT"


async def test_key_without_scopes_is_invalid_and_not_made(api):
    alice = await sign_up("alice")

    generated = await generate(api.signed_in(alice), scopes=[])

    assert [(e["field"], e["code"]) for e in generated["errors"]] == [("scopes", "INVALID")]
    assert generated["secret"] is None
    assert await ApiKey.all().count() == 0


async def test_key_without_account_scope_cannot_mint_a_key(api):
    alice = await sign_up("alice")
    tracker = await scoped(api, alice, "READ", "RUNS")

    error = await api.signed_in(tracker).error(
        GENERATE_INPUT, {"input": {"scopes": ["READ", "RUNS", "ACCOUNT"]}}
    )

    assert error["extensions"]["code"] == "FORBIDDEN"
    assert error["message"] == (
        "This API key lacks the ACCOUNT scope, which generateApiKey needs: "
        "use a key with ACCOUNT, or sign in."
    )
    assert await ApiKey.all().count() == 1


async def test_account_key_and_session_may_mint_any_scopes(api):
    alice = await sign_up("alice")
    account_only = await scoped(api, alice, "ACCOUNT")

    by_key = await generate(api.signed_in(account_only), scopes=["READ", "RUNS", "ACCOUNT"])
    by_session = await generate(api.signed_in(alice), scopes=["READ", "RUNS", "ACCOUNT"])

    assert (
        by_key["apiKey"]["scopes"]
        == by_session["apiKey"]["scopes"]
        == [
            "READ",
            "RUNS",
            "ACCOUNT",
        ]
    )


async def test_runs_key_may_not_read(api):
    alice = await sign_up("alice")
    runs_only = await scoped(api, alice, "RUNS")

    error = await api.signed_in(runs_only).error(VIEWER)

    assert error["extensions"]["code"] == "FORBIDDEN"
    assert "lacks the READ scope, which viewer needs" in error["message"]


async def test_site_admins_keys_do_what_their_scopes_and_the_admin_role_allow(api):
    root = await sign_up("root", admin=True)
    read, runs, account = [await scoped(api, root, s) for s in ("READ", "RUNS", "ACCOUNT")]

    listed = await api.signed_in(read).execute(USERS)
    refused = await api.signed_in(runs).error(CREATE_TEAM)
    created = await api.signed_in(account).execute(CREATE_TEAM)

    assert [e["node"]["username"] for e in listed["users"]["edges"]] == ["root"]
    assert (refused["extensions"]["code"], "ACCOUNT scope" in refused["message"]) == (
        "FORBIDDEN",
        True,
    )
    assert created["createTeam"]["errors"] == []


async def test_photo_upload_needs_the_account_scope(api):
    alice = await sign_up("alice")
    tracker = await scoped(api, alice, "READ", "RUNS")

    _, body = await api.signed_in(tracker).upload(UPLOAD, {"file": None}, "file", b"png")

    [error] = body["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert "ACCOUNT scope" in error["message"]
    assert (await User.get(id=alice.user.id)).photo_file is None


async def test_runs_key_hears_alert_events_on_a_socket(api, server):
    alice = await sign_up("alice")
    runs_only = await scoped(api, alice, "RUNS")

    async with graphql_socket(server.url, runs_only) as socket:
        await socket.subscribe()
        await asyncio.sleep(0.1)  # the subscription is listening
        await raise_alert(
            alice.user,
            type=AlertEventType.TEST,
            title="heard",
            text="t",
            severity=AlertSeverity.INFO,
            channels=[],
        )
        event = await socket.event()

    assert event["title"] == "heard"


async def test_subscription_needs_the_runs_scope(api, server):
    alice = await sign_up("alice")
    read_only = await scoped(api, alice, "READ")

    async with graphql_socket(server.url, read_only) as socket:
        await socket.subscribe(ALERT_EVENTS)
        message = await socket.message()

    assert message["type"] == "error", message
    [error] = message["payload"]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert "lacks the RUNS scope, which alertEvents needs" in error["message"]


async def test_operations_on_a_keys_socket_keep_to_its_scopes(api, server):
    alice = await sign_up("alice")
    tracker = await scoped(api, alice, "READ", "RUNS")

    async with graphql_socket(server.url, tracker) as socket:
        await socket.subscribe(GENERATE_INPUT, {"input": {"scopes": ["ACCOUNT"]}})
        message = await socket.message()

    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    assert [e["extensions"]["code"] for e in errors] == ["FORBIDDEN"]
    assert await ApiKey.all().count() == 1
