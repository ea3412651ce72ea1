"""The attack corpus's cases that have no home beside one feature: JWTs on the
WebSocket, GraphQL abuse, hostile uploads and bodies, OAuth redirect URIs and Slack
webhook hosts. Each is refused with a clear error and writes nothing (every table
compared). The rest of the corpus is marked `attack` where its feature is tested;
tests/attack.py counts them all."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import time
import zipfile
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from jose import jwt
from PIL import Image

import config
from auth.tokens import MAX_TOKEN_BYTES
from models.integration import SlackIntegration
from tests.services.test_photos import UPLOAD, image_bytes, media_files
from tests.support.helpers import sign_up
from tests.support.rows import snapshot
from tests.support.world import build_world
from tests.support.ws import PROTOCOL, graphql_socket

VIEWER = "{ viewer { username } }"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(**extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": "mallory", "iat": now, "exp": now + 600, **extra}


def _signed(**extra: Any) -> str:
    return str(jwt.encode(_claims(**extra), config.JWT_SECRET, algorithm="HS256"))


def _unsigned() -> str:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{_b64(json.dumps(_claims()).encode())}."


BAD_TOKENS: dict[str, Callable[[], str]] = {
    "alg-none": _unsigned,
    "stripped-signature": lambda: _signed().rsplit(".", 1)[0] + ".",
    "another-key": lambda: str(jwt.encode(_claims(), "x" * 40, algorithm="HS256")),
    "far-future-iat": lambda: _signed(iat=int(time.time()) + 365 * 24 * 3600),
    "huge": lambda: _signed(padding="x" * (MAX_TOKEN_BYTES * 4)),
}


# JWTs on the WebSocket: refused at connection_init with 4401, no account made.


@pytest.mark.attack("jwt")
@pytest.mark.parametrize("token", sorted(BAD_TOKENS))
async def test_bad_token_on_the_websocket_is_closed_with_4401(api, server, token):
    before = await snapshot()

    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(f"{server.url}/graphql", protocols=(PROTOCOL,)) as ws,
    ):
        authorization = f"Bearer {BAD_TOKENS[token]()}"
        await ws.send_json({"type": "connection_init", "payload": {"Authorization": authorization}})
        message = await ws.receive(timeout=10)

    assert (message.type, message.data) == (aiohttp.WSMsgType.CLOSE, 4401)
    assert message.extra  # the reason, e.g. "The token has expired."
    assert await snapshot() == before


# GraphQL abuse


@pytest.mark.attack("graphql")
async def test_depth_50_is_refused(api):
    alice = await sign_up("alice")
    selection = "username"
    for _ in range(17):  # three levels each: 51 deep
        selection = f"teams {{ members {{ profile {{ {selection} }} }} }}"

    error = await api.signed_in(alice).error('{ user(username: "alice") { ' + selection + " } }")

    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "exceeds maximum operation depth of 10" in error["message"]


@pytest.mark.attack("graphql")
@pytest.mark.parametrize(
    ("variables", "words"),
    [
        ({"paths": ["p"] * 300_000}, "At most 1000 files a call"),
        ({"paths": ["p" * 100] * 10_000}, "At most 1000 files a call"),
    ],
    ids=["300k-items", "1-MB-of-strings"],
)
async def test_huge_variables_under_the_body_limit_are_refused(api, variables, words):
    alice = await sign_up("alice")
    before = await snapshot()
    query = (
        "mutation($paths: [String!]!) { deleteStoredFiles(input: "
        '{entityName: "alice", projectName: "p", paths: $paths}) { errors { code message } } }'
    )
    body = io.BytesIO(json.dumps({"query": query, "variables": variables}).encode())

    async with api.http.post(
        api.url,
        data=body,
        headers={"Content-Type": "application/json", "Authorization": alice.authorization},
    ) as response:
        data = (await response.json())["data"]

    [error] = data["deleteStoredFiles"]["errors"]
    assert error["code"] == "LIMIT_EXCEEDED" and words in error["message"]
    assert await snapshot() == before


@pytest.mark.attack("graphql")
async def test_deeply_nested_variables_are_refused(api):
    alice = await sign_up("alice")
    nested = "[" * 100_000 + "]" * 100_000
    body = '{"query": "query($v: String) { viewer { username } }", "variables": {"v": %s}}'

    async with api.http.post(
        api.url,
        data=io.BytesIO((body % nested).encode()),
        headers={"Content-Type": "application/json", "Authorization": alice.authorization},
    ) as response:
        status, text = response.status, await response.text()

    assert status == 400, text
    assert "JSON" in text or "json" in text


@pytest.mark.attack("graphql")
@pytest.mark.parametrize(
    "body",
    ['"a string"', "[]", "42", "null", "{not json", '{"query": 42}', '{"variables": {}}'],
)
async def test_a_body_that_is_not_a_graphql_request_is_400(api, body):
    async with api.http.post(
        api.url, data=body, headers={"Content-Type": "application/json"}
    ) as response:
        status = response.status

    assert status == 400


@pytest.mark.attack("graphql")
@pytest.mark.parametrize(
    ("operations", "files_map"),
    [("42", "{}"), ('"x"', "{}"), ("null", "{}"), ("{}", "42"), ("[" * 100_000, "{}")],
    ids=["number", "string", "null", "map-a-number", "nested-100k"],
)
async def test_a_multipart_request_with_bad_json_parts_is_400(api, operations, files_map):
    alice = await sign_up("alice")
    form = aiohttp.FormData()
    form.add_field("operations", operations)
    form.add_field("map", files_map)
    form.add_field("0", io.BytesIO(b"x"), filename="a.png", content_type="image/png")

    async with api.http.post(
        api.url, data=form, headers={"Authorization": alice.authorization}
    ) as response:
        status = response.status

    assert status == 400


@pytest.mark.attack("graphql")
async def test_get_with_variables_that_are_not_an_object_is_400(api):
    params = {"query": "query($u: String!) { user(username: $u) { name } }", "variables": "7"}

    async with api.http.get(api.url, params=params) as response:
        status = response.status

    assert status == 400


@pytest.mark.attack("graphql")
async def test_mutation_over_get_is_refused(api, server):
    alice = await sign_up("alice")
    query = 'mutation { updateUser(input: {name: "Mallory"}) { errors { code } } }'

    async with api.http.get(
        api.url, params={"query": query}, headers={"Authorization": alice.authorization}
    ) as response:
        status = response.status

    assert status in (400, 405)
    assert (await api.signed_in(alice).execute("{ viewer { name } }")) == {
        "viewer": {"name": "Alice"}
    }


@pytest.mark.attack("graphql")
async def test_repeated_directives_are_refused(api):
    query = "{ viewer " + "@include(if: true) " * 100 + "{ username } }"

    _, body = await api.post(query)

    assert "data" not in body  # refused before it ran
    assert {e["extensions"]["code"] for e in body["errors"]} == {"GRAPHQL_VALIDATION_FAILED"}
    assert "can only be used once" in body["errors"][0]["message"]


# Uploads


def _zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bomb.bin", b"\0" * 50_000_000)  # 50 MB that compress to 50 KB
    return out.getvalue()


ZIP_BOMB = _zip_bomb()
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
HTML = b"<!doctype html><script>fetch('/graphql')</script>"


@pytest.mark.attack("upload")
@pytest.mark.parametrize(
    ("content", "content_type", "words"),
    [
        (ZIP_BOMB, "image/png", "not a PNG, JPEG, GIF or WebP"),
        (ZIP_BOMB, "application/zip", "application/zip"),
        (SVG, "image/svg+xml", "image/svg+xml"),
        (SVG, "image/png", "not a PNG, JPEG, GIF or WebP"),
        (HTML, "text/html", "text/html"),
        (HTML, "image/jpeg", "not a PNG, JPEG, GIF or WebP"),
    ],
    ids=["zip-bomb", "zip-bomb-as-zip", "svg-script", "svg-as-png", "html", "html-as-jpeg"],
)
async def test_hostile_upload_is_refused_and_nothing_is_written(api, content, content_type, words):
    alice = await sign_up("alice")
    before = await snapshot()

    status, body = await api.signed_in(alice).upload(
        UPLOAD, {"file": None}, "file", content, content_type=content_type
    )

    assert status == 200
    [error] = body["data"]["uploadProfilePhoto"]["errors"]
    assert (error["field"], error["code"]) == ("file", "INVALID")
    assert words in error["message"]
    assert media_files() == []
    assert await snapshot() == before


def _polyglot(fmt: str, payload: bytes) -> bytes:
    return image_bytes(fmt, (16, 16)) + payload


@pytest.mark.attack("upload")
@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (_polyglot("PNG", HTML), "image/png"),
        (_polyglot("GIF", b"/*" + HTML + b"*/"), "image/gif"),
        (_polyglot("JPEG", ZIP_BOMB), "image/jpeg"),
    ],
    ids=["png+html", "gif+script", "jpeg+zip"],
)
async def test_polyglot_keeps_only_its_pixels(api, server, content, content_type):
    # An image that is also an HTML page or an archive: what is stored and served is
    # the re-encoded picture alone, as image/jpeg, without the other half.
    alice = await sign_up("alice")

    status, body = await api.signed_in(alice).upload(
        UPLOAD, {"file": None}, "file", content, content_type=content_type
    )

    assert status == 200 and body["data"]["uploadProfilePhoto"]["errors"] == []
    [stored] = media_files()
    data = (config.MEDIA_ROOT / stored).read_bytes()
    assert b"<script" not in data and b"bomb.bin" not in data
    assert Image.open(io.BytesIO(data)).format == "JPEG"
    async with api.http.get(f"{server.url}/media/{stored}") as response:
        assert response.content_type == "image/jpeg"
        assert response.headers.get("x-content-type-options", "nosniff") == "nosniff"


async def _raw_post(url: str, head: str, chunks: int, chunk: bytes) -> tuple[bytes, int]:
    """Sends `head` then up to `chunks` chunks of `chunk` until the server answers;
    the answer's first line, and how many body bytes went out before it."""
    host, port = url.removeprefix("http://").split("/")[0].split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    sent = 0
    try:
        writer.write(head.encode())
        for _ in range(chunks):
            if reader.at_eof() or len(reader._buffer):  # type: ignore[attr-defined]
                break
            writer.write(chunk)
            sent += len(chunk)
            try:
                await asyncio.wait_for(writer.drain(), timeout=5)
            except (ConnectionError, TimeoutError):
                break
            await asyncio.sleep(0)
        status = await asyncio.wait_for(reader.readline(), timeout=10)
    finally:
        writer.close()
    return status, sent


HUNDRED_MB = 100 * 1024 * 1024


@pytest.mark.attack("upload")
@pytest.mark.parametrize("content_type", ["multipart/form-data; boundary=x", "application/json"])
async def test_100_mb_declared_body_is_refused_before_it_is_read(api, content_type):
    before = await snapshot()
    head = (
        f"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {HUNDRED_MB}\r\n\r\n"
    )

    status, sent = await _raw_post(api.url, head, chunks=0, chunk=b"")

    assert status.startswith(b"HTTP/1.1 413"), status
    assert await snapshot() == before


@pytest.mark.attack("upload")
async def test_100_mb_streamed_body_is_cut_off_at_the_limit(api):
    alice = await sign_up("alice")
    before = await snapshot()
    head = (
        "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=x\r\n"
        f"Authorization: {alice.authorization}\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    # One file part that never ends: the parser takes it, the limit cuts it off.
    part = b'--x\r\nContent-Disposition: form-data; name="0"; filename="a.png"\r\n\r\n'
    head += f"{len(part):x}\r\n".encode().decode() + part.decode() + "\r\n"
    piece = b"x" * 65536
    chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"

    status, sent = await _raw_post(api.url, head, chunks=HUNDRED_MB // len(piece), chunk=chunk)

    assert status.startswith(b"HTTP/1.1 413"), status
    print(f"\n100 MB streamed: refused after {sent / 1e6:.1f} MB sent")
    assert sent < HUNDRED_MB / 4
    assert media_files() == []
    assert await snapshot() == before


# OAuth redirect_uri


HOSTILE_REDIRECTS = [
    "https://evil.example/settings/connected",
    "http://127.0.0.1:8000/settings/connected.evil.example",
    "http://127.0.0.1:8000/settings/connected/../../evil",
    "http://127.0.0.1:8000/settings/connected?next=https://evil.example",
    "http://127.0.0.1:8000@evil.example/settings/connected",
    "//evil.example/settings/connected",
    "javascript:alert(1)",
    "HTTP://127.0.0.1:8000/settings/connected",
]


@pytest.mark.attack("oauth")
@pytest.mark.parametrize("provider", ["Slack", "Github"])
@pytest.mark.parametrize("redirect_uri", HOSTILE_REDIRECTS)
async def test_redirect_uri_not_allowed_is_invalid_and_starts_nothing(
    api, slack, github, provider, redirect_uri
):
    alice = await sign_up("alice")
    before = await snapshot()

    data = await api.signed_in(alice).execute(
        f"mutation($r: String) {{ start{provider}Connect(input: {{redirectUri: $r}}) "
        "{ authorizeUrl errors { field code message } } }",
        {"r": redirect_uri},
    )

    [payload] = data.values()
    assert payload["authorizeUrl"] is None
    [error] = payload["errors"]
    assert (error["field"], error["code"]) == ("redirectUri", "INVALID")
    assert "not allowed" in error["message"]
    assert await snapshot() == before


# Slack webhook URLs that point elsewhere, granted by a "Slack" that lies


HOSTILE_WEBHOOKS = [
    "https://hooks.slack.com.evil.example/services/T/B/X",
    "https://hooks.slack.com@evil.example/services/T/B/X",
    "https://evil.example/#@hooks.slack.com/services/T/B/X",
    "https://evil.example\\@hooks.slack.com/services/T/B/X",
    "http://hooks.slack.com/services/T/B/X",
    "https://hooks.slack.com:8443/services/T/B/X",
    "https://169.254.169.254/latest/meta-data/",
    "http://127.0.0.1:6379/",
    "http://[::1]:5432/",
    "file:///etc/passwd",
    "gopher://127.0.0.1:6379/_FLUSHALL",
]


@pytest.mark.attack("slack")
@pytest.mark.parametrize("webhook", HOSTILE_WEBHOOKS)
async def test_webhook_on_another_host_is_refused_and_stored_nowhere(
    api, slack, monkeypatch, webhook
):
    monkeypatch.setattr(config, "SLACK_WEBHOOK_HOSTS", frozenset({"hooks.slack.com"}))
    slack.oauth = slack.grant()
    slack.oauth["incoming_webhook"]["url"] = webhook
    world = await build_world(api)
    client = api.signed_in(world.admin)
    start = await client.execute("mutation { startSlackConnect(input: {}) { authorizeUrl } }")
    state = start["startSlackConnect"]["authorizeUrl"].split("state=")[1].split("&")[0]
    before = await snapshot()

    data = await client.execute(
        'mutation($s: String!) { connectSlack(input: {code: "c", state: $s}) '
        "{ slackIntegration { teamName } errors { code message } } }",
        {"s": state},
    )

    [error] = data["connectSlack"]["errors"]
    assert error["code"] == "UNAVAILABLE" and "SLACK_WEBHOOK_HOSTS" in error["message"]
    after = await snapshot()
    assert after["slack_integration"] == before["slack_integration"] == []
    # Only the state was spent: it stays spent, so the flow cannot be replayed.
    assert {t: r for t, r in after.items() if t != "oauth_state"} == {
        t: r for t, r in before.items() if t != "oauth_state"
    }
    assert await SlackIntegration.all().count() == 0


@pytest.mark.attack("graphql")
@pytest.mark.parametrize(
    "message",
    ["[" * 100_000 + "]" * 100_000, "42", '"x"', "null", "{not json"],
    ids=["nested-100k", "number", "string", "null", "not-json"],
)
async def test_a_websocket_message_that_is_not_an_object_closes_with_4400(api, server, message):
    alice = await sign_up("alice")

    async with graphql_socket(server.url, alice.authorization) as socket:
        await socket.ws.send_str(message)
        closed = await socket.ws.receive(timeout=10)

    assert (closed.type, closed.data) == (aiohttp.WSMsgType.CLOSE, 4400)


@pytest.mark.attack("graphql")
async def test_subscriptions_past_the_limit_of_a_socket_are_refused_with_a_code(api, server):
    alice = await sign_up("alice")

    async with graphql_socket(server.url, alice.authorization) as socket:
        for n in range(11):
            await socket.subscribe("subscription { alertEvents { id } }", op=str(n))
        refused = await socket.message()

    assert refused["id"] == "10" and refused["type"] == "error"
    [error] = refused["payload"]
    assert error["extensions"] == {"code": "LIMIT_EXCEEDED"}
    assert "10" in error["message"]


@pytest.mark.attack("jwt")
@pytest.mark.parametrize("scheme", ["Bearer", "Basic"])
async def test_a_huge_authorization_header_is_refused(api, scheme):
    before = await snapshot()
    value = f"{scheme} " + "A" * 60_000

    async with api.http.post(
        api.url, json={"query": VIEWER}, headers={"Authorization": value}
    ) as response:
        status = response.status

    assert status == 401, status
    assert await snapshot() == before
