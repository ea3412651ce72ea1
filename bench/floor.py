"""The floor: the settings page as a plain Starlette endpoint, beside the real app.

`uvicorn bench.floor:app` serves the real Switchboard app, unchanged, and one
more route, `GET /floor/settings`, that authenticates the same way, runs the same
SQL on the same connection and answers the same JSON, built by hand. It exists
only here: the app itself never serves it.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send
from tortoise import connections

from auth.errors import InvalidCredentials
from bench import page
from bench.floor_reads import Db, Unauthorized

PATH = "/floor/settings"


def encoder() -> Callable[[object], str | bytes]:
    """The app's own JSON encoder, so both sides pay the same for it."""
    import app as switchboard

    found: Callable[[object], str | bytes] | None = getattr(switchboard, "encode_json", None)
    return found or (lambda data: json.dumps(data, separators=(",", ":")))


def floor_app(sections: list[page.Section] | None = None) -> Starlette:
    """The floor's route; `sections`, the page's parts it answers (all of them)."""
    sections = page.built_sections() if sections is None else sections
    encode = encoder()

    async def settings(request: Request) -> Response:
        db = Db(connections.get("default"))
        try:
            body = await page.floor_page(db, request.headers.get("authorization", ""), sections)
        except (Unauthorized, InvalidCredentials):
            return Response(status_code=401)
        return Response(encode(body), media_type="application/json")

    return Starlette(routes=[Route(PATH, settings)])


def wrap(switchboard: ASGIApp, sections: list[page.Section] | None = None) -> ASGIApp:
    """The app, with `/floor/...` answered by the floor; the lifespan is the app's."""
    floor = floor_app(sections)

    async def both(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/floor/"):
            await floor(scope, receive, send)
        else:
            await switchboard(scope, receive, send)

    return both


def _app() -> ASGIApp:
    from app import app as switchboard

    return wrap(switchboard)


app = _app()
