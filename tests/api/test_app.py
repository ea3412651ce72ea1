"""The HTTP surface around GraphQL: health, readiness, CORS, GraphiQL, media."""

from __future__ import annotations

import logging

import aiohttp
import pytest
from strawberry.http.exceptions import WebSocketDisconnected

import config
from api.websocket import TransportWSHandler
from app import create_app
from tests.support.helpers import LiveServer, sign_up

INTROSPECTION = "{ __schema { queryType { name } } }"


async def test_healthz_answers_without_the_database(api, server):
    async with api.http.get(f"{server.url}/healthz") as response:
        assert (response.status, await response.json()) == (200, {"status": "ok"})


async def test_readyz_checks_the_database(api, server):
    async with api.http.get(f"{server.url}/readyz") as response:
        assert (response.status, await response.json()) == (200, {"status": "ok", "database": "ok"})


async def test_graphiql_is_served_on_get(api, server):
    async with api.http.get(f"{server.url}/graphql", headers={"Accept": "text/html"}) as response:
        body = await response.text()

    assert response.status == 200
    assert "graphiql" in body.lower()


async def test_introspection_works_while_graphiql_is_on(api):
    assert await api.execute(INTROSPECTION) == {"__schema": {"queryType": {"name": "Query"}}}


@pytest.mark.parametrize("known", [False, True], ids=["first sight", "known document"])
async def test_answers_are_never_cached(api, known):
    alice = await sign_up("alice")
    query = "{ viewer { username } }"
    headers = {"Authorization": alice.authorization}
    if known:
        await api.signed_in(alice).post(query)
    async with api.http.post(api.url, json={"query": query}, headers=headers) as response:
        assert response.status == 200
        assert "errors" not in await response.json()
        assert response.headers["Cache-Control"] == "no-store"


class TestGraphiQLOff:
    @pytest.fixture
    async def production(self, db, monkeypatch):
        monkeypatch.setattr(config, "GRAPHIQL", False)
        async with LiveServer.start(create_app(init_orm=False)) as live:
            yield live

    @pytest.mark.attack("graphql")
    async def test_no_ide_on_get(self, production):
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{production.url}/graphql", headers={"Accept": "text/html"}) as response,
        ):
            assert response.status == 404

    @pytest.mark.attack("graphql")
    async def test_introspection_is_refused(self, production):
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"{production.url}/graphql", json={"query": INTROSPECTION}) as response,
        ):
            body = await response.json()

        assert "data" not in body  # refused before it ran
        assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        assert "introspection" in body["errors"][0]["message"]

    @pytest.mark.attack("graphql")
    @pytest.mark.parametrize(
        "query",
        [
            "{ viewer { usernam } }",
            '{ user(usernam: "a") { username } }',
            "{ viewer { projectDefaults { privacy } } } fragment F on Usr { username }",
            "mutation { updateProjectDefaults(input: {privacy: PRIVAT}) { errors { code } } }",
        ],
        ids=["field", "argument", "type", "enum value"],
    )
    async def test_no_suggestions_rebuild_the_schema(self, production, query):
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"{production.url}/graphql", json={"query": query}) as response,
        ):
            body = await response.json()

        messages = [error["message"] for error in body["errors"]]
        assert messages and not any("Did you mean" in m for m in messages), messages
        assert all(e["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED" for e in body["errors"])


class TestCors:
    @pytest.fixture
    async def cors_server(self, db, monkeypatch):
        monkeypatch.setattr(config, "CORS_ORIGINS", ["https://app.example.com"])
        async with LiveServer.start(create_app(init_orm=False)) as live:
            yield live

    @pytest.mark.parametrize(
        ("origin", "allowed"), [("https://app.example.com", True), ("https://evil.example", False)]
    )
    async def test_preflight_allows_configured_origins_only(self, cors_server, origin, allowed):
        headers = {
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        }
        async with (
            aiohttp.ClientSession() as http,
            http.options(f"{cors_server.url}/graphql", headers=headers) as response,
        ):
            granted = response.headers.get("Access-Control-Allow-Origin")

        assert (granted == origin) is allowed


async def test_a_client_leaving_mid_event_is_not_logged_as_an_error(caplog):
    # Seen in make soak: subscribers closing while events were on their way left
    # "Exception in worker task" tracebacks in the server's log.
    handler = TransportWSHandler.__new__(TransportWSHandler)
    caplog.set_level(logging.DEBUG, logger="strawberry.ws.task")

    await handler.handle_task_exception(WebSocketDisconnected())
    assert caplog.records == []

    await handler.handle_task_exception(RuntimeError("a real failure"))
    assert [r.levelname for r in caplog.records] == ["ERROR"]
