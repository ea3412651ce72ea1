"""The fast path answers exactly what stock Strawberry and graphql-core answer.

Every query document the web UI sends, and documents generated from the schema
(`tests.fastpath.documents`), are sent to two apps in this process, one with the
plan engine and one without it (`build_schema(fast_path=False)`), as an anonymous
caller, a team's admin, its member, an outsider and a site administrator, on a
seeded world. Status, `data` and `errors` (messages, paths, locations, codes, in
their order) must be equal, but for the list index in an error's path (`comparable`).
The fast app is asked twice: the first request of a document runs through
Strawberry's pipeline (the executor's hook), the second by the known-query shortcut.
`make fuzz` asks more documents (`DIFFERENTIAL_DOCUMENTS`).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from graphql import OperationDefinitionNode, OperationType, parse

import config
from api.documents import DOCUMENT_STORE
from app import create_app
from models.alert import (
    AlertChannel,
    AlertDelivery,
    AlertEvent,
    AlertEventType,
    DeliveryAttempt,
    DeliveryStatus,
)
from models.destination import AlertRoute, Destination
from models.team import Team
from schema import build_schema, schema
from seed import seed_catalog
from tests.fastpath.documents import generated
from tests.support.asgi import respond
from tests.support.team_helpers import make_team
from tests.support.world import World, build_world

pytestmark = pytest.mark.skipif(
    getattr(schema, "fast_path", None) is None, reason="FAST_PATH=off: nothing to compare"
)

#: Generated documents a run asks, beyond the web UI's.
DOCUMENTS = int(os.environ.get("DIFFERENTIAL_DOCUMENTS", "40"))
WEB = Path(config.ROOT) / "web" / "js"
_CONSTANT = re.compile(r"^(?:export )?const ([A-Z_]+) = `([^`]*)`;", re.MULTILINE | re.DOTALL)
_EXPORTED = re.compile(r"^export const ([A-Z_]+) = `([^`]*)`;", re.MULTILINE | re.DOTALL)
_INTERPOLATED = re.compile(r"\$\{([A-Z_]+)\}")


def web_documents() -> dict[str, str]:
    """Each query the web UI's modules send, by name: their `const NAME = `...``
    documents, with the constants they interpolate filled in: the module's own, or
    those another module exports."""
    modules = [module.read_text() for module in sorted(WEB.rglob("*.js"))]
    exported: dict[str, str] = {}
    for text in modules:
        exported.update(_EXPORTED.findall(text))
    found: dict[str, str] = {}
    for text in modules:
        constants = {**exported, **dict(_CONSTANT.findall(text))}

        def filled(text: str, constants: dict[str, str] = constants) -> str:
            while _INTERPOLATED.search(text):
                text = _INTERPOLATED.sub(lambda m: constants[m.group(1)], text)
            return text

        for text in constants.values():
            document = filled(text)
            if document.lstrip().startswith("query"):
                operation = parse(document).definitions[0]
                assert isinstance(operation, OperationDefinitionNode) and operation.name
                found[operation.name.value] = document
    return found


WEB_DOCUMENTS = web_documents()
#: Values for the web UI's query variables, as the page sends them.
WEB_VARIABLES: dict[str, dict[str, Any]] = {
    "Organizations": {"search": "ac"},
    "AlertHistory": {"first": 2},
    "TeamAlerts": {"name": "lab"},
}


def test_the_web_ui_sends_the_queries_this_test_asks():
    assert {"Viewer", "Profile", "Teams", "AlertSettings", "AlertHistory"} <= set(WEB_DOCUMENTS)
    for document in WEB_DOCUMENTS.values():
        [operation] = parse(document).definitions
        assert isinstance(operation, OperationDefinitionNode)
        assert operation.operation is OperationType.QUERY


async def seeded(api: Any) -> World:
    """The permission matrix's world, with the beta catalog, an organization, alert
    events with deliveries, and a webhook routed to, with a delivery and its attempts."""
    await seed_catalog()
    world = await build_world(api)
    await make_team("acme-lab", world.member, world.admin, organization="Acme")
    await _routed_webhook(world)
    for n, status in enumerate((DeliveryStatus.DELIVERED, DeliveryStatus.FAILED, None)):
        event = await AlertEvent.create(
            user_id=world.admin.user.id,
            type=AlertEventType.SCRIPTABLE,
            title=f"Loss is up {n}",
            text="Look.",
            entity_name="lab",
            project_name="p",
            run_name=f"r{n}",
        )
        if status is not None:
            await AlertDelivery.create(
                event=event,
                user_id=world.admin.user.id,
                channel=AlertChannel.EMAIL,
                status=status,
                attempts=1,
                last_error=None if status is DeliveryStatus.DELIVERED else "550 no such user",
                delivered_at=event.created_at if status is DeliveryStatus.DELIVERED else None,
                next_attempt_at=event.created_at,
            )
    return world


async def _routed_webhook(world: World) -> None:
    alice = world.admin.user.id
    hook = await Destination.create(
        user_id=alice, kind=AlertChannel.WEBHOOK, name="Ops", target="hooks.example.com"
    )
    email = await Destination.create(
        user_id=alice, kind=AlertChannel.EMAIL, built_in=AlertChannel.EMAIL, name="Email"
    )
    route = await AlertRoute.create(user_id=alice, events="SCRIPTABLE", project_pattern="p*")
    await route.destinations.add(hook, email)
    lab = await Team.get(name="lab")
    team_hook = await Destination.create(
        team=lab, kind=AlertChannel.DISCORD, name="Lab", target="discord.com"
    )
    team_route = await AlertRoute.create(team=lab, entity_name="lab", events="RUN_CRASHED")
    await team_route.destinations.add(team_hook)
    event = await AlertEvent.create(
        user_id=alice,
        type=AlertEventType.SCRIPTABLE,
        title="Routed",
        text="To the hook.",
        entity_name="alice",
        project_name="p",
        run_name="r",
    )
    delivery = await AlertDelivery.create(
        event=event,
        user_id=alice,
        channel=AlertChannel.WEBHOOK,
        destination=hook,
        status=DeliveryStatus.DELIVERED,
        attempts=2,
        next_attempt_at=event.created_at,
    )
    for status, error in ((503, "The receiver answered 503"), (200, None)):
        await DeliveryAttempt.create(
            delivery=delivery, at=event.created_at, status_code=status, duration_ms=12, error=error
        )


def callers(world: World) -> dict[str, dict[str, str]]:
    return {
        "anonymous": {},
        "team admin": {"Authorization": world.admin.authorization},
        "member": {"Authorization": world.member.authorization},
        "outsider": {"Authorization": world.outsider.authorization},
        "site admin": {"Authorization": world.root.authorization},
    }


async def answer(app: Any, headers: dict[str, str], document: str, variables: Any) -> Any:
    body = json.dumps({"query": document, "variables": variables}).encode()
    status, text = await respond(
        app, "POST", "/graphql", {**headers, "Content-Type": "application/json"}, body
    )
    return status, json.loads(text)


async def differences(world: World, documents: dict[str, tuple[str, Any]]) -> list[Any]:
    """Each (document, caller) whose answers differ, with both answers."""
    fast, stock = (
        create_app(init_orm=False),
        create_app(init_orm=False, schema=build_schema(fast_path=False)),
    )
    DOCUMENT_STORE.clear()
    found = []
    for name, (document, variables) in documents.items():
        for caller, headers in callers(world).items():
            expected = await answer(stock, headers, document, variables)
            for attempt in ("first", "known"):
                got = await answer(fast, headers, document, variables)
                if comparable(got) != comparable(expected):
                    found.append((name, caller, attempt, document, variables, got, expected))
    return found


def comparable(answered: tuple[int, Any]) -> tuple[int, Any]:
    """An answer with its errors' list indexes made alike: when one error among a list's
    items nulls their parent, graphql-core cancels the others, so which item's error is
    reported depends on which resolver failed first (the database's timing), in stock
    execution as much as in a plan. Everything else must be equal."""
    status, body = answered
    if not isinstance(body, dict) or not body.get("errors"):
        return answered
    errors = [
        {**error, "path": ["*" if isinstance(p, int) else p for p in error.get("path") or []]}
        for error in body["errors"]
    ]
    return status, {**body, "errors": errors}


async def test_the_web_uis_queries_answer_as_stock_execution_does(api):
    world = await seeded(api)
    documents = {
        name: (document, WEB_VARIABLES.get(name)) for name, document in WEB_DOCUMENTS.items()
    }

    assert await differences(world, documents) == []


async def test_generated_queries_answer_as_stock_execution_does(api):
    world = await seeded(api)
    documents = {f"generated {n}": generated(schema._schema, n) for n in range(DOCUMENTS)}

    assert await differences(world, documents) == []
