"""The graphql-transport-ws side of the view: refusals with codes, limits, and quiet goodbyes.

Limits of a socket: a message over `MAX_BODY_BYTES` closes it with 1009, unparsed; an
account has at most `MAX_SOCKETS_PER_ACCOUNT` sockets past `connection_ack` in this
process, and one more is closed with 4429 instead of acknowledged.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncGenerator
from json import JSONDecodeError

from graphql import GraphQLError
from starlette.websockets import WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import (
    NonJsonMessageReceived,
    NonTextMessageReceived,
    WebSocketDisconnected,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ErrorMessage,
    Message,
    SubscribeMessage,
)

import config
from resolvers.context import Context

#: WebSocket close code for a connection whose credentials were refused.
WS_UNAUTHORIZED = 4401
#: RFC 6455's close code for a message over the size limit.
WS_MESSAGE_TOO_BIG = 1009
#: Close code for an account past its sockets. graphql-ws clients (`graphql-ws`, and the
#: links built on it) take 4429 as fatal: they report it and do not reconnect in a loop.
WS_TOO_MANY_SOCKETS = 4429

#: Sockets past `connection_ack` in this process, by account id.
_open_sockets: Counter[int] = Counter()


def _too_big(text: str, limit: int) -> bool:
    # A character is 1 to 4 bytes of UTF-8: most texts need no encoding to tell.
    return len(text) > limit or (len(text) * 4 > limit and len(text.encode()) > limit)


class RejectingAdapter(ASGIWebSocketAdapter):
    """Closes a socket refused at `connection_init` with 4401 and the reason, not 4403,
    one that sends a message that is not a JSON object with 4400, and one that sends a
    message over `MAX_BODY_BYTES` with 1009, before parsing it.

    `cli.py serve` has uvicorn refuse such a message before reading it whole
    (`ws_max_size`); the check here is for a server run some other way."""

    async def iter_json(
        self, *, ignore_parsing_errors: bool = False
    ) -> AsyncGenerator[object, None]:
        # Strawberry's loop, with the size checked between receiving and parsing.
        try:
            while self.ws.application_state != WebSocketState.DISCONNECTED:
                text = await self.ws.receive_text()
                if _too_big(text, config.MAX_BODY_BYTES):
                    reason = f"Message too big: the limit is {config.MAX_BODY_BYTES} bytes."
                    await self.ws.close(WS_MESSAGE_TOO_BIG, reason)
                    return
                try:
                    message = self.view.decode_json(text)
                except JSONDecodeError:
                    if ignore_parsing_errors:
                        continue
                    raise NonJsonMessageReceived from None
                if isinstance(message, dict):
                    yield message
                elif not ignore_parsing_errors:
                    # Strawberry would index it (message["type"]) and drop the socket
                    # with an unhandled TypeError; every message of the protocol is an object.
                    raise NonJsonMessageReceived
        except KeyError as error:  # a binary message: Starlette's receive_text has no "text"
            raise NonTextMessageReceived from error
        except WebSocketDisconnect:
            pass

    async def close(self, code: int, reason: str) -> None:
        rejection = getattr(self.ws.state, "rejection", None)
        if code == 4403 and rejection:
            code, reason = WS_UNAUTHORIZED, rejection[:120]
        await super().close(code, reason)


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """Strawberry's graphql-transport-ws handler, but: an operation past the socket's
    limit is refused with an error that has a code, as every error of this API has
    (Strawberry's has none); an account past its sockets is closed with 4429 instead of
    acknowledged; and a client that leaves while an event is on its way is not logged
    as an error with a traceback, as nothing failed here."""

    #: The account this socket is counted against, from its `connection_ack` on.
    counted_for: int | None = None

    async def send_message(self, message: Message) -> None:
        # The acknowledgement is where a socket becomes its account's: counted there,
        # or refused instead. No message is read after the refusal's close.
        if message["type"] == "connection_ack" and not self._count_socket():
            cap = config.MAX_SOCKETS_PER_ACCOUNT
            reason = f"Too many open sockets: at most {cap} per account."
            await self.websocket.close(WS_TOO_MANY_SOCKETS, reason)
            return
        await super().send_message(message)

    def _count_socket(self) -> bool:
        user = self.context.user
        if user is None:  # pragma: no cover - on_ws_connect acknowledges accounts only
            return True
        if _open_sockets[user.id] >= config.MAX_SOCKETS_PER_ACCOUNT:
            return False
        _open_sockets[user.id] += 1
        self.counted_for = user.id
        return True

    async def shutdown(self) -> None:
        # Given back before anything is awaited: a handler cancelled in its shutdown
        # (the server stopping) gives its place back all the same.
        if self.counted_for is not None:
            _open_sockets[self.counted_for] -= 1
            if not _open_sockets[self.counted_for]:
                del _open_sockets[self.counted_for]
            self.counted_for = None
        await super().shutdown()

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
