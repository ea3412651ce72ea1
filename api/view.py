"""The GraphQL view: Strawberry's ASGI app, with the context, authentication of
sockets, and the answers this API gives where Strawberry's differ."""

from __future__ import annotations

import json
from typing import Any

from cross_web import HTTPException
from starlette.authentication import AuthenticationError
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse
from strawberry.http.base import BaseRequestProtocol
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from api.masking import PublicErrors
from api.websocket import RejectingAdapter, TransportWSHandler
from auth.backend import SignedInUser, authorize
from auth.errors import InvalidCredentials
from resolvers.context import Context


class GraphQLApp(GraphQL[Context, None]):
    """Strawberry's ASGI view, with a short way for a known query sent by POST.

    The web UI posts the same few queries over and over. One whose document is
    known and valid (`schema.Schema.known_document`) is answered by its plan
    (`schema.known`) without the view's general machinery: its content-type
    parsing, request adapters, request-data checks, per-request operation-type
    sets and result processing cost the settings page 0.17 M instructions a
    request (9.92 M against 9.75 M when this was made). The answer is the one the view
    would give, built by the view's own `create_response`. Anything else (another
    content type, a body that is not a JSON object of the usual members, an unknown
    or invalid document, a mutation, a plan that does not answer) goes the view's
    way, with the body already read.
    """

    websocket_adapter_class = RejectingAdapter
    graphql_transport_ws_handler_class = TransportWSHandler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or self._stream_transport_map:
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        response = await self.known_query(request) or await self.view(request)
        await response(scope, receive, send)

    async def view(self, request: Request) -> Response:
        """The view's answer, as Strawberry's own `__call__` makes it."""
        try:
            answer = await self.run(request)
            assert isinstance(answer, Response)  # noqa: S101 - an HTTP request's answer
            return answer
        except HTTPException as refused:
            return PlainTextResponse(refused.reason, status_code=refused.status_code)

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
        variables, extensions = data.get("variables"), data.get("extensions")
        if not (
            isinstance(query, str | None)
            and isinstance(name, str | None)
            and isinstance(variables, dict | None)
            and isinstance(extensions, dict | None)
        ):
            return None
        schema: Any = self.schema
        document = schema.known_document(query, name, extensions)
        if document is None:
            return None
        sub_response = await self.get_sub_response(request)
        context = await self.get_context(request, response=sub_response)
        answer = await schema.known.run(document, name, variables, context, None, extensions)
        if answer is None:
            return None
        return self.create_response({"data": answer}, sub_response)

    async def run(  # type: ignore[override]
        self, request: Request | WebSocket, context: Any = UNSET, root_value: Any = UNSET
    ) -> Response | WebSocket:
        try:
            return await super().run(request, context, root_value)
        finally:
            # Uploads are spooled to temporary files that Strawberry does not close.
            if isinstance(request, Request):
                await request.close()

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        # An exception raised outside every resolver (in the executor, or in an
        # extension) leaves Strawberry after the extensions have run, with its
        # message and no code: it is masked here, as the extension masks the others.
        if result.errors:
            result.errors = PublicErrors().process(result.errors)
        return await super().process_result(request, result)

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        # A GET that carries a persisted query's hash (no `query`) is an operation.
        return "extensions" not in request.query_params and super().should_render_graphql_ide(
            request
        )

    def decode_json(self, data: str | bytes) -> object:
        try:
            return super().decode_json(data)
        except RecursionError:
            # json.loads recurses once per level of nesting, so a body of 100,000 "["
            # (200 KB) exhausts the stack: that is a body that is not JSON we accept,
            # answered 400 (4400 on a WebSocket) like any other, not a 500.
            raise json.JSONDecodeError("Nested too deeply.", "", 0) from None

    def parse_json(self, data: str | bytes) -> Any:
        parsed = super().parse_json(data)
        # A body, multipart part or query parameter that is a bare string, number or
        # null: Strawberry would call .get() on it and answer 500.
        if not isinstance(parsed, dict | list):
            raise HTTPException(400, "Expected a JSON object.")
        return parsed

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket | None = None
    ) -> Context:
        signed_in = request.scope.get("user")
        if not isinstance(signed_in, SignedInUser):
            return Context(request=request, response=response, user=None)
        context = Context(
            request=request,
            response=response,
            user=signed_in.user,
            credentials_expire_at=signed_in.expires_at,
        )
        if context.user is not None:
            # Sign-in read the viewer's own and default entities: no second trip.
            context.loaders.prime_viewer(context.user)
        return context

    async def on_ws_connect(self, context: Context) -> dict[str, object] | None:
        params = context.connection_params or {}
        value = params.get("Authorization") or params.get("authorization")
        if context.user is not None and not value:
            return None  # authenticated by the handshake's own header
        try:
            if not isinstance(value, str):
                raise InvalidCredentials(
                    "Send {'Authorization': 'Bearer <token>'} in the connection_init payload."
                )
            authorization = await authorize(value)
        except InvalidCredentials as refused:
            context.request.state.rejection = str(refused)
            raise ConnectionRejectionError from None
        context.user = authorization.user
        context.credentials_expire_at = authorization.expires_at
        return None


def credentials_refused(conn: HTTPConnection, error: AuthenticationError) -> Response:
    # The same shape as any GraphQL error, so clients need one error path.
    body = {
        "data": None,
        "errors": [{"message": str(error), "extensions": {"code": "UNAUTHENTICATED"}}],
    }
    return JSONResponse(body, status_code=401, headers={"WWW-Authenticate": "Bearer"})
