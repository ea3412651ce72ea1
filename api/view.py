"""The GraphQL view: Strawberry's ASGI app, with the context, authentication of
sockets, and the answers this API gives where Strawberry's differ."""

from __future__ import annotations

import json
from typing import Any

from cross_web import HTTPException
from starlette.authentication import AuthenticationError
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
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
    """Strawberry's ASGI view, with this API's context, socket authentication and
    answers: every error masked and coded, bodies that are not JSON objects refused."""

    websocket_adapter_class = RejectingAdapter
    graphql_transport_ws_handler_class = TransportWSHandler

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

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        retry_after = _throttled(response_data)
        if retry_after is not None:
            # Run trackers back off on 429 and its Retry-After, not on an error in a 200.
            sub_response.status_code = 429
            sub_response.headers["retry-after"] = str(retry_after)
        response = super().create_response(response_data, sub_response)
        # An answer is the caller's own data: no cache, shared or private, keeps it.
        response.headers.raw.append((b"cache-control", b"no-store"))
        return response

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
            api_key_id=signed_in.api_key_id,
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
        context.api_key_id = authorization.api_key_id
        return None


def _throttled(response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse]) -> int | None:
    """The seconds to wait, when nothing of the answer ran for a rate limit."""
    if isinstance(response_data, list) or response_data.get("data") is not None:
        return None
    waits = [
        (error.get("extensions") or {}).get("retryAfter")
        for error in response_data.get("errors") or ()
        if isinstance(error, dict)
    ]
    return max((wait for wait in waits if isinstance(wait, int)), default=None)


def credentials_refused(conn: HTTPConnection, error: AuthenticationError) -> Response:
    # The same shape as any GraphQL error, so clients need one error path.
    body = {
        "data": None,
        "errors": [{"message": str(error), "extensions": {"code": "UNAUTHENTICATED"}}],
    }
    return JSONResponse(body, status_code=401, headers={"WWW-Authenticate": "Bearer"})
