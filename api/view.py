"""The GraphQL view: Strawberry's ASGI app, with the context, authentication of
sockets, and the answers this API gives where Strawberry's differ.

Answers follow GraphQL over HTTP (https://graphql.github.io/graphql-over-http/draft/):
`application/graphql-response+json` when the client's Accept prefers it, else
`application/json`. A request refused before its document runs (a body that is not
a GraphQL request, a mutation over GET) is a JSON error with `extensions.code`, 4xx
whatever the media type; one whose execution never began (a syntax or validation
error, variables that do not coerce) has no `data`, and is 200 in `application/json`
but 400 in `application/graphql-response+json` (500 if it failed inside).
"""

from __future__ import annotations

import json
from typing import Any

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.authentication import AuthenticationError
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.unset import UNSET

from api.masking import INTERNAL_SERVER_ERROR, PublicErrors
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
        except HTTPException as refused:
            assert isinstance(request, Request)  # noqa: S101 - sockets raise no HTTPException
            return refusal(request, refused)
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
        response = await super().process_result(request, result)
        if _never_began(result):
            # "If an error was raised before execution begins, the data entry
            # should not be present in the result" (GraphQL, 7.1.2).
            del response["data"]
        return response

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        # Read by `create_response`, which is given no request (nor by the fast path).
        sub_response.media_type = response_media_type(request)
        return sub_response

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        parsed = await super().parse_http_body(request)
        for data in parsed if isinstance(parsed, list) else (parsed,):
            name = data.operation_name
            if name == "":
                # Every W&B SDK public-API call sends `"operationName": ""`: no name.
                data.operation_name = None
            elif name is not None and not isinstance(name, str):
                raise HTTPException(
                    400, "The GraphQL operation's `operationName` must be a string or null."
                )
        return parsed

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        retry_after = _throttled(response_data)
        if retry_after is not None:
            # Run trackers back off on 429 and its Retry-After, not on an error in a 200.
            sub_response.status_code = 429
            sub_response.headers["retry-after"] = str(retry_after)
        media_type = sub_response.media_type or JSON
        if (
            media_type == GRAPHQL_RESPONSE_JSON
            and isinstance(response_data, dict)
            and "data" not in response_data
            and not sub_response.status_code
        ):
            sub_response.status_code = 500 if _internal(response_data) else 400
        response = super().create_response(response_data, sub_response)
        response.headers["content-type"] = media_type
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
            api_key_scopes=signed_in.api_key_scopes,
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
        context.api_key_scopes = authorization.api_key_scopes
        return None


JSON = "application/json"
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"


def response_media_type(request: HTTPConnection) -> str:
    """The media type of the answer: `application/graphql-response+json` when the
    Accept header ranks it above `application/json`, else `application/json` (the
    answer to a client that sends no Accept, `*/*`, or neither type)."""
    ranks = {JSON: (0.0, 0), GRAPHQL_RESPONSE_JSON: (0.0, 0)}
    for accepted in request.headers.get("accept", "").split(","):
        media_range, *parameters = (part.strip() for part in accepted.split(";"))
        quality = 1.0
        for parameter in parameters:
            key, _, value = parameter.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        for media_type in ranks:
            precision = _matches(media_range.lower(), media_type)
            if precision > ranks[media_type][1]:
                ranks[media_type] = (quality, precision)
    json_quality, graphql_quality = ranks[JSON][0], ranks[GRAPHQL_RESPONSE_JSON][0]
    if graphql_quality > json_quality or (
        graphql_quality == json_quality > 0 and ranks[GRAPHQL_RESPONSE_JSON][1] > ranks[JSON][1]
    ):
        return GRAPHQL_RESPONSE_JSON
    return JSON


def _matches(media_range: str, media_type: str) -> int:
    """How precisely `media_range` names `media_type`: 3 exactly, 2 as type/*,
    1 as */*, 0 not at all."""
    if media_range == media_type:
        return 3
    if media_range == "application/*":
        return 2
    return 1 if media_range == "*/*" else 0


def refusal(request: Request, refused: HTTPException) -> Response:
    """A request refused before its document ran, as a GraphQL error in JSON."""
    status, headers, code = refused.status_code, {"cache-control": "no-store"}, "BAD_REQUEST"
    cause = refused.__cause__
    if isinstance(cause, CannotGetOperationTypeError):
        code = "OPERATION_RESOLUTION_FAILURE"
    elif isinstance(cause, InvalidOperationTypeError) and request.method == "GET":
        # GraphQL over HTTP: a mutation over GET is 405 Method Not Allowed.
        status, headers["allow"] = 405, "POST"
    elif status == 405:
        headers["allow"] = "GET, POST"
    elif status == 404:
        code = "NOT_FOUND"
    body = {"errors": [{"message": refused.reason, "extensions": {"code": code}}]}
    return JSONResponse(
        body, status_code=status, headers=headers, media_type=response_media_type(request)
    )


def _never_began(result: ExecutionResult) -> bool:
    """Whether the operation stopped before it executed: its document did not parse
    or validate, its variables did not coerce, or an extension refused it."""
    if isinstance(result, PreExecutionError):
        return True
    # graphql-core reports variables that do not coerce as errors without a path.
    errors = result.errors or ()
    return result.data is None and bool(errors) and all(e.path is None for e in errors)


def _internal(response_data: GraphQLHTTPResponse) -> bool:
    return any(
        isinstance(error, dict)
        and (error.get("extensions") or {}).get("code") == INTERNAL_SERVER_ERROR
        for error in response_data.get("errors") or ()
    )


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
