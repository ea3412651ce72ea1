"""The graphql-transport-ws side of the view: refusals with codes, limits, and quiet goodbyes.

Limits of a socket: a message over `MAX_BODY_BYTES` closes it with 1009, unparsed; an
account has at most `MAX_SOCKETS_PER_ACCOUNT` sockets past `connection_ack` in this
process, and one more is closed with 4429 instead of acknowledged.

Revocation: a socket ends, closed with 4401 and a reason, when the credentials it signed
in with expire (a token's a second later, once its subscriptions have said so; nothing
sent in between is run), or when the API key is deleted, or its account is; on every
process, as the bus brings the news (`notifiers.bus.Revocation`). Its operations are
cancelled first, so nothing more is sent on it. 4401 is the code of credentials refused
at `connection_init`, so a client has one answer to both, signing in again; graphql-ws
clients take it as fatal and do not reconnect in a loop with credentials that will not
come back. A socket reads its credentials again (one statement) once it starts listening
for revocations, so one committed between its sign-in and then is not missed; and again,
in one statement for all of them, whenever the bus may have lost news (Redis went away).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import AsyncGenerator, Collection
from datetime import UTC, datetime
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
    ConnectionInitMessage,
    ErrorMessage,
    Message,
    SubscribeMessage,
)
from tortoise.exceptions import BaseORMException
from tortoise.models import Model

import config
from auth.api_keys import expired
from auth.tokens import TOKEN_EXPIRED
from models.api_key import ApiKey
from models.user import User
from notifiers import bus
from resolvers.context import Context

logger = logging.getLogger("switchboard.ws")

#: WebSocket close code for a connection whose credentials were refused, or revoked.
WS_UNAUTHORIZED = 4401
#: Seconds between a token's expiry and its socket's close (see `_close_at`).
EXPIRY_GRACE_SECONDS = 1.0
#: RFC 6455's close code for a message over the size limit.
WS_MESSAGE_TOO_BIG = 1009
#: Close code for an account past its sockets. graphql-ws clients (`graphql-ws`, and the
#: links built on it) take 4429 as fatal: they report it and do not reconnect in a loop.
WS_TOO_MANY_SOCKETS = 4429

#: Sockets past `connection_ack` in this process, by account id.
_open_sockets: Counter[int] = Counter()

KEY_DELETED = "The API key this socket signed in with was deleted."
ACCOUNT_DELETED = "The account this socket signed in to was deleted."
#: Ids in one statement of a recheck (SQLite allows 32,766 parameters).
RECHECK_BATCH = 1000


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
        if WebSocketState.DISCONNECTED in (self.ws.application_state, self.ws.client_state):
            return  # closed already, by this side or by the client: nothing to say
        rejection = getattr(self.ws.state, "rejection", None)
        if code == 4403 and rejection:
            code, reason = WS_UNAUTHORIZED, rejection[:120]
        with contextlib.suppress(WebSocketDisconnect):  # the client left meanwhile
            await super().close(code, reason)


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """Strawberry's graphql-transport-ws handler, but: an operation past the socket's
    limit is refused with an error that has a code, as every error of this API has
    (Strawberry's has none); an account past its sockets is closed with 4429 instead of
    acknowledged; and a client that leaves while an event is on its way is not logged
    as an error with a traceback, as nothing failed here."""

    #: The account this socket is counted against, from its `connection_ack` on.
    counted_for: int | None = None
    #: Set once its credentials are revoked: nothing more runs on this socket.
    revoked: bool = False
    #: Its registration for revocations, from its `connection_ack` on.
    watching: contextlib.ExitStack | None = None

    async def send_message(self, message: Message) -> None:
        # The acknowledgement is where a socket becomes its account's: counted there,
        # or refused instead. No message is read after the refusal's close.
        if message["type"] == "connection_ack":
            if not self._count_socket():
                cap = config.MAX_SOCKETS_PER_ACCOUNT
                reason = f"Too many open sockets: at most {cap} per account."
                await self.websocket.close(WS_TOO_MANY_SOCKETS, reason)
                return
            self._watch_credentials()
            # Revoked between the sign-in and the line above, it would have gone unheard.
            for handler, reason in await _revoked([self]):
                handler.end(reason)
            if self.revoked:
                return
        await super().send_message(message)

    def _watch_credentials(self) -> None:
        user = self.context.user
        if user is None:  # pragma: no cover - on_ws_connect acknowledges accounts only
            return
        self.watching = contextlib.ExitStack()
        self.watching.enter_context(bus.current().watch(user.id, self._heard))

    def _heard(self, news: bus.Revocation | bus.Resync) -> None:
        if isinstance(news, bus.Resync):
            _recheck_soon(self)
        elif news.ends(self.context.api_key_id):
            self.end(ACCOUNT_DELETED if news.api_key_id is None else KEY_DELETED)

    def end(self, reason: str) -> None:
        """End this socket, revoked: its operations now, the socket itself right after."""
        if self.revoked:
            return
        self.revoked = True
        task = asyncio.get_running_loop().create_task(self._close_revoked(reason))
        _closing.add(task)
        task.add_done_callback(_closing.discard)

    async def _close_revoked(self, reason: str) -> None:
        # The operations go before the close, so that no event is sent in between.
        for operation_id in tuple(self.operations):
            await self.cleanup_operation(operation_id)
        await self.websocket.close(WS_UNAUTHORIZED, reason)

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
        if self.key_expiry is not None:
            self.key_expiry.cancel()
        if self.watching is not None:
            self.watching.close()
            self.watching = None
        _rechecking.discard(self)
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
        if self.revoked:
            return  # sent before the client heard of the close
        expires_at = self.context.credentials_expire_at
        if expires_at is not None and time.time() >= expires_at:
            # Between the expiry and the close (`_close_at`): refused, not run.
            error = GraphQLError(
                self._expiry_reason(expires_at), extensions={"code": "UNAUTHENTICATED"}
            )
            refusal = ErrorMessage(id=message["id"], type="error", payload=[error.formatted])
            await self.send_message(refusal)
            return
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

    #: Closes the socket when the credentials it signed in with expire.
    key_expiry: asyncio.Task[None] | None = None

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        expires_at = self.context.credentials_expire_at
        if self.connection_acknowledged and expires_at:
            self.key_expiry = asyncio.create_task(self._close_at(expires_at))

    def _expiry_reason(self, expires_at: float) -> str:
        if self.context.api_key_id is not None:
            return expired(datetime.fromtimestamp(expires_at, UTC))
        return TOKEN_EXPIRED

    async def _close_at(self, expires_at: float) -> None:
        # As every request over HTTP would now be refused. A token's subscriptions end
        # at its expiry with an error saying how to resume (`resolvers.live`): the
        # socket closes a moment later, so that the error reaches the client first.
        grace = 0.0 if self.context.api_key_id is not None else EXPIRY_GRACE_SECONDS
        await asyncio.sleep(max(0.0, expires_at - time.time()) + grace)
        self.revoked = True  # nothing sent from now on is run
        await self.websocket.close(WS_UNAUTHORIZED, self._expiry_reason(expires_at))


#: Revoked sockets being closed; held so that the event loop does not drop the tasks.
_closing: set[asyncio.Task[None]] = set()
#: Sockets to read the credentials of again, all in one go (`_recheck_soon`).
_rechecking: set[TransportWSHandler] = set()
_recheck_task: asyncio.Task[None] | None = None


def _recheck_soon(handler: TransportWSHandler) -> None:
    """Read `handler`'s credentials again, with those of every socket told to in the
    same moment: the bus tells every socket of the process to resynchronise at once."""
    global _recheck_task
    _rechecking.add(handler)
    if _recheck_task is None or _recheck_task.done():  # done: its loop ended (tests)
        _recheck_task = asyncio.get_running_loop().create_task(_recheck_all())


async def _recheck_all() -> None:
    global _recheck_task
    try:
        await asyncio.sleep(0)  # the other sockets of this resync join
        while _rechecking:
            handlers = tuple(_rechecking)
            _rechecking.clear()
            for handler, reason in await _revoked(handlers):
                handler.end(reason)
    except BaseORMException:
        logger.exception("Could not read the credentials of open sockets again")
    finally:
        _recheck_task = None


async def _revoked(
    handlers: Collection[TransportWSHandler],
) -> list[tuple[TransportWSHandler, str]]:
    """The sockets among `handlers` whose API key, or account, no longer exists, each
    with the reason it ends: a statement for keys, one for accounts (per batch)."""
    key_ids = {h.context.api_key_id for h in handlers if h.context.api_key_id is not None}
    user_ids = {h.context.user.id for h in handlers if h.context.user and not h.context.api_key_id}
    live_keys = await _existing(ApiKey, key_ids)
    live_users = await _existing(User, user_ids)
    gone = []
    for handler in handlers:
        key_id, user = handler.context.api_key_id, handler.context.user
        if key_id is not None:
            if key_id not in live_keys:
                gone.append((handler, KEY_DELETED))
        elif user is not None and user.id not in live_users:
            gone.append((handler, ACCOUNT_DELETED))
    return gone


async def _existing(model: type[Model], ids: set[int]) -> set[int]:
    found: set[int] = set()
    ordered = sorted(ids)
    for start in range(0, len(ordered), RECHECK_BATCH):
        batch = ordered[start : start + RECHECK_BATCH]
        found.update(row[0] for row in await model.filter(id__in=batch).values_list("id"))
    return found
