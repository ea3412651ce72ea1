"""The graphql-transport-ws side of the view: refusals with codes, and quiet goodbyes."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from graphql import GraphQLError
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import NonJsonMessageReceived, WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ErrorMessage,
    SubscribeMessage,
)

from resolvers.context import Context

#: WebSocket close code for a connection whose credentials were refused.
WS_UNAUTHORIZED = 4401


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
