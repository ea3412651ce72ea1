"""The Starlette application: `/graphql` over HTTP and WebSocket, media, health checks,
and the settings page."""

from __future__ import annotations

import contextlib
import gc
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from cross_web import HTTPException
from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.authentication import AuthenticationError
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse
from strawberry.http.base import BaseRequestProtocol
from strawberry.http.exceptions import NonJsonMessageReceived, WebSocketDisconnected
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ErrorMessage,
    SubscribeMessage,
)
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET
from tortoise import connections
from tortoise.contrib.starlette import RegisterTortoise

import config
import pages
from auth.backend import SignedInUser, TokenOrKeyBackend, authorize
from auth.errors import InvalidCredentials
from notifiers import bus, dispatcher, hooks
from resolvers.context import Context
from schema import schema
from schema.extensions import PublicErrors

logger = logging.getLogger("switchboard")

#: WebSocket close code for a connection whose credentials were refused.
WS_UNAUTHORIZED = 4401


class _BodyTooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """Refuses request bodies over the limit with 413, before or while they arrive.

    Uploads (multipart) may carry a photo; any other body is a GraphQL document
    with its variables and gets the smaller limit.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        is_upload = headers.get("content-type", "").startswith("multipart/form-data")
        limit = self.max_upload_bytes if is_upload else self.max_bytes
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await _too_large(limit)(scope, receive, send)
            return
        received, started = 0, False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await _too_large(limit)(scope, receive, send)


def _too_large(limit: int) -> Response:
    return PlainTextResponse(f"Request body too large: the limit is {limit} bytes.", 413)


class RejectingAdapter(ASGIWebSocketAdapter):
    """Closes a socket refused at `connection_init` with 4401 and the reason, not 4403,
    and one that sends a message that is not a JSON object with 4400."""

    async def iter_json(
        self, *, ignore_parsing_errors: bool = False
    ) -> AsyncGenerator[object, None]:
        async for message in super().iter_json(ignore_parsing_errors=ignore_parsing_errors):
            if isinstance(message, dict):
                yield message
            elif not ignore_parsing_errors:
                # Strawberry would index it (message["type"]) and drop the socket
                # with an unhandled TypeError; every message of the protocol is an object.
                raise NonJsonMessageReceived

    async def close(self, code: int, reason: str) -> None:
        rejection = getattr(self.ws.state, "rejection", None)
        if code == 4403 and rejection:
            code, reason = WS_UNAUTHORIZED, rejection[:120]
        await super().close(code, reason)


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """Strawberry's graphql-transport-ws handler, but: an operation past the socket's
    limit is refused with an error that has a code, as every error of this API has
    (Strawberry's has none); and a client that leaves while an event is on its way is
    not logged as an error with a traceback, as nothing failed here."""

    async def handle_task_exception(self, error: Exception) -> None:
        if isinstance(error, WebSocketDisconnected):
            return
        await super().handle_task_exception(error)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        limit = self.max_subscriptions_per_connection
        if self.connection_acknowledged and limit is not None and len(self.operations) >= limit:
            error = GraphQLError(
                f"At most {limit} operations at once on one connection.",
                extensions={"code": "LIMIT_EXCEEDED"},
            )
            refusal = ErrorMessage(id=message["id"], type="error", payload=[error.formatted])
            await self.send_message(refusal)
            return
        await super().handle_subscribe(message)


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


def tune_garbage_collector() -> None:
    # Everything loaded by now (modules, the schema, the ORM) lives as long as the
    # process: frozen, full collections skip it. Young collections run 70 times less
    # often than Python's default. Together they take the pauses that otherwise
    # stall a live alert's fan-out to a thousand subscribers (bench/fanout.py).
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 10)


def _credentials_refused(conn: HTTPConnection, error: AuthenticationError) -> Response:
    # The same shape as any GraphQL error, so clients need one error path.
    body = {
        "data": None,
        "errors": [{"message": str(error), "extensions": {"code": "UNAUTHENTICATED"}}],
    }
    return JSONResponse(body, status_code=401, headers={"WWW-Authenticate": "Bearer"})


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    try:
        await connections.get("default").execute_query("SELECT 1")
    except Exception:  # any failure means "not ready"; the reason goes to the log
        logger.exception("Readiness check failed")
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


def create_app(*, init_orm: bool = True) -> Starlette:
    """The app; `init_orm=False` for a caller that has started Tortoise itself (tests)."""
    graphql = GraphQLApp(
        schema,
        graphql_ide="graphiql" if config.GRAPHIQL else None,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        multipart_uploads_enabled=True,
        allowed_origins=config.CORS_ORIGINS,
        max_subscriptions_per_connection=10,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        config.MEDIA_ROOT.mkdir(parents=True, exist_ok=True)
        async with contextlib.AsyncExitStack() as stack:
            if init_orm:
                await stack.enter_async_context(RegisterTortoise(app, config=config.TORTOISE_ORM))
            # The alert bus, then the outbox worker: stopped in reverse, before the ORM.
            await stack.enter_async_context(bus.running(bus.create_bus()))
            stack.push_async_callback(hooks.drain)  # publications under way finish first
            await stack.enter_async_context(dispatcher.running())
            tune_garbage_collector()
            yield

    routes: list[Any] = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Mount("/media", StaticFiles(directory=config.MEDIA_ROOT, check_dir=False), name="media"),
        *pages.routes(),
    ]
    middleware = [
        Middleware(
            BodyLimitMiddleware,
            max_bytes=config.MAX_BODY_BYTES,
            max_upload_bytes=config.MAX_UPLOAD_BYTES,
        ),
        Middleware(
            CORSMiddleware,
            allow_origins=config.CORS_ORIGINS,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
            max_age=600,
        ),
        Middleware(
            AuthenticationMiddleware, backend=TokenOrKeyBackend(), on_error=_credentials_refused
        ),
    ]
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan)


app = create_app()
