"""The Starlette application: `/graphql` over HTTP and WebSocket, media, health checks,
and the settings page."""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from tortoise import connections
from tortoise.contrib.starlette import RegisterTortoise

import config
import fastpath
import pages
from api.limits import MAX_OPERATIONS_PER_SOCKET, BodyLimitMiddleware
from api.view import GraphQLApp, credentials_refused
from auth.backend import TokenOrKeyBackend
from notifiers import bus, dispatcher, hooks
from schema import Schema
from schema import schema as default_schema
from services.photos import MediaFiles

logger = logging.getLogger("switchboard")


def tune_garbage_collector() -> None:
    # Everything loaded by now (modules, the schema, the ORM) lives as long as the
    # process: frozen, full collections skip it. Young collections run far less
    # often than Python's default. Together they take the pauses that otherwise
    # stall a live alert's fan-out to a thousand subscribers (bench/fanout.py).
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 10)


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    try:
        await connections.get("default").execute_query("SELECT 1")
    except Exception:  # any failure means "not ready"; the reason goes to the log
        logger.exception("Readiness check failed")
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


class PlannedGraphQLApp(fastpath.KnownQueryView, GraphQLApp):
    """The view, a known query posted as JSON answered by its plan (`fastpath`)."""


def create_app(*, init_orm: bool = True, schema: Schema = default_schema) -> Starlette:
    """The app; `init_orm=False` for a caller that has started Tortoise itself (tests),
    and another `schema` (`schema.build_schema`) to compare the fast path with stock."""
    view = PlannedGraphQLApp if isinstance(schema, fastpath.PlannedSchema) else GraphQLApp
    graphql = view(
        schema,
        graphql_ide="graphiql" if config.GRAPHIQL else None,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        multipart_uploads_enabled=True,
        allowed_origins=config.CORS_ORIGINS,
        max_subscriptions_per_connection=MAX_OPERATIONS_PER_SOCKET,
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
            if config.DELIVERY_WORKER:
                await stack.enter_async_context(dispatcher.running())
            tune_garbage_collector()
            yield

    routes: list[Any] = [
        # Every method reaches the view, which refuses all but GET and POST with a
        # JSON error (405), as it answers every request error.
        Route("/graphql", graphql),
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Mount("/media", MediaFiles(directory=config.MEDIA_ROOT, check_dir=False), name="media"),
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
            AuthenticationMiddleware, backend=TokenOrKeyBackend(), on_error=credentials_refused
        ),
    ]
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan)


app = create_app()
