"""The view's shortcut: a known query posted as JSON, answered by its plan.

The web UI posts the same few queries over and over. One whose document is known
and valid (`PlannedSchema.known_operation`) is answered by its plan without the
view's general machinery: its content-type parsing, request adapters,
request-data checks, per-request operation-type sets and result processing. The
answer is the one the view would give, built by the view's own `create_response`.
Anything else (another content type, a body that is not a JSON object of the
usual members, an unknown or invalid document, a mutation) goes the view's way,
with the body already read; so does a query whose plan gave up, with planning off.
"""

from __future__ import annotations

from typing import Any

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL

from fastpath.abandons import reason_of
from fastpath.engine import falling_back
from fastpath.internals import stream_transports
from fastpath.schema import PlannedSchema


class KnownQueryView(GraphQL[Any, Any]):
    """Mixed in before the app's Strawberry view class; its schema is a `PlannedSchema`."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or stream_transports(self):
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        response = await self.known_query(request) or await self.stock_answer(request)
        await response(scope, receive, send)

    async def stock_answer(self, request: Request) -> Response:
        """The view's answer, as Strawberry's own `__call__` makes it."""
        try:
            answer = await self.run(request)
        except HTTPException as refused:
            return PlainTextResponse(refused.reason, status_code=refused.status_code)
        assert isinstance(answer, Response)  # noqa: S101 - an HTTP request's answer
        return answer

    async def known_query(self, request: Request) -> Response | None:
        """The answer to a known query posted as JSON, or None: the view's way."""
        content_type = request.headers.get("content-type", "")
        if content_type.partition(";")[0].strip().lower() != "application/json":
            return None
        body = await request.body()
        try:
            data = self.parse_json(body)
        except (ValueError, HTTPException):
            return None  # answered by the view, which says why
        if not isinstance(data, dict):
            return None
        query, name = data.get("query"), data.get("operationName")
        if name == "":
            name = None  # no name, as the view reads it (W&B's SDK sends "")
        variables, extensions = data.get("variables"), data.get("extensions")
        if not (
            isinstance(query, str | None)
            and isinstance(name, str | None)
            and isinstance(variables, dict | None)
            and isinstance(extensions, dict | None)
        ):
            return None
        schema = self.schema
        assert isinstance(schema, PlannedSchema)  # noqa: S101 - as the class says
        known = schema.known_operation(query, name, extensions)
        if known is None:
            return None
        sub_response = await self.get_sub_response(request)
        context = await self.get_context(request, response=sub_response)
        try:
            answer = await schema.known.run(known, variables, context, None, extensions)
        except Exception as abandoned:  # noqa: BLE001 - stock execution reports it
            await schema.fast_path.start_afresh(context)
            with falling_back(reason_of(abandoned)):
                return await self.stock_answer(request)
        if known.extensions is None:
            return self.create_response({"data": answer}, sub_response)
        return self.create_response({"data": answer, "extensions": known.extensions}, sub_response)
