"""How Switchboard is served: uvicorn, with the limits a server facing the internet needs.

`python cli.py serve` (and `make run`) run `serve()`; `uvicorn_config()` is what it runs.
Each limit is a setting in `config`; docs/operations.md lists them ("Serving limits").

What uvicorn 0.55 with httptools 0.9 leaves open, and what `GuardedHttpTools` does:

- httptools puts no limit on a request head, and gathers a long header value (uvicorn the
  URL) by concatenating bytes once per read: a 32 MB header cost 2 s of CPU. uvicorn's
  `h11_max_incomplete_event_size` applies to the h11 parser only. Here the bytes of a
  head are counted before the parser sees them; past `MAX_HEAD_BYTES` the answer is 431
  and the connection is closed.
- uvicorn's one timer is keep-alive, armed after a response: a connection that never
  completes its first head (slowloris, half-open) is held forever, and counts against
  `limit_concurrency` all the while. Here every head has `HEAD_TIMEOUT_SECONDS` to arrive,
  counted from the connection's opening or from the first byte of a later request; then
  the connection is closed.

The WebSocket limit is uvicorn's own: `ws_max_size`, checked by `websockets` on each
frame's header, so a message over `MAX_BODY_BYTES` closes the socket with 1009 before it
is read whole, let alone parsed.

uvicorn internals relied on, checked against 0.55 (`tests/security/test_server_limits.py`
fails, naming the part, when one moves): `HttpToolsProtocol` and its `transport`,
`logger`, `server_state.default_headers`, its parser callbacks `on_message_begin`,
`on_headers_complete` and `on_message_complete`, and `httptools_impl.STATUS_LINE`.
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

import config

__all__ = ["GuardedHttpTools", "serve", "uvicorn_config"]


class GuardedHttpTools(HttpToolsProtocol):
    """uvicorn's httptools protocol, with a size cap and a deadline on every request head."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_head_bytes = config.MAX_HEAD_BYTES
        self.head_timeout = config.HEAD_TIMEOUT_SECONDS
        #: Whether the bytes read now belong to a head; their count since it began.
        self.awaiting_head = True
        self.head_bytes = 0
        self.head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_deadline()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if not self.awaiting_head:
            super().data_received(data)
            return
        room = self.max_head_bytes - self.head_bytes
        self.head_bytes += len(data)
        if len(data) <= room:
            super().data_received(data)
            return
        # The head must end within `room` bytes: the parser is given those only. What
        # follows is a body (or the next request), read as usual once the head is done.
        super().data_received(data[:room])
        if self.awaiting_head:
            self._refuse_head()
        elif self.transport.get_protocol() is self and not self.transport.is_closing():
            # Not after a WebSocket upgrade: uvicorn drops what follows its head too.
            self.data_received(data[room:])

    # Parser callbacks, called from within `data_received`.

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm_head_deadline()

    def on_headers_complete(self) -> None:
        self.awaiting_head = False
        self._disarm_head_deadline()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        # What is read from now on is the next request's head. Its deadline starts
        # with its first byte: the response to this one may take its time.
        self.awaiting_head, self.head_bytes = True, 0

    def _arm_head_deadline(self) -> None:
        if self.head_deadline is None:
            self.head_deadline = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _disarm_head_deadline(self) -> None:
        if self.head_deadline is not None:
            self.head_deadline.cancel()
            self.head_deadline = None

    def _head_timed_out(self) -> None:
        self.head_deadline = None
        if self.awaiting_head and not self.transport.is_closing():
            self.transport.close()

    def _refuse_head(self) -> None:
        self._disarm_head_deadline()
        self.awaiting_head = False
        message = f"Request head too large: the limit is {self.max_head_bytes} bytes.".encode()
        # Info, not warning: a refusal is the client's doing, and a flood of them must
        # not flood the log at the level operators alert on.
        self.logger.info("Refused a request head over %d bytes (431).", self.max_head_bytes)
        content = [STATUS_LINE[431]]
        for name, value in self.server_state.default_headers:
            content += [name, b": ", value, b"\r\n"]
        content += [
            b"content-type: text/plain; charset=utf-8\r\n",
            b"content-length: " + str(len(message)).encode() + b"\r\n",
            b"connection: close\r\n\r\n",
            message,
        ]
        self.transport.write(b"".join(content))
        self.transport.close()


def uvicorn_config(
    host: str, port: int, *, app: Any = "app:app", log_level: str = "info"
) -> uvicorn.Config:
    """uvicorn's configuration for Switchboard: uvloop, httptools with `GuardedHttpTools`,
    `websockets`, and every serving limit from `config`."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        # Named, not "auto": a missing uvloop or websockets fails at start, not quietly.
        loop="uvloop",
        http=GuardedHttpTools,
        ws="websockets-sansio",
        ws_max_size=config.MAX_BODY_BYTES,
        limit_concurrency=config.MAX_CONNECTIONS,
        backlog=config.LISTEN_BACKLOG,
        timeout_keep_alive=config.KEEP_ALIVE_TIMEOUT_SECONDS,
        timeout_graceful_shutdown=config.SHUTDOWN_TIMEOUT_SECONDS,
        proxy_headers=True,
        forwarded_allow_ips=config.FORWARDED_ALLOW_IPS,
        log_level=log_level,
    )


def serve(host: str, port: int, *, log_level: str = "info") -> int:
    """Serve until SIGINT or SIGTERM; the exit status, uvicorn's (3: could not start)."""
    server = uvicorn.Server(uvicorn_config(host, port, log_level=log_level))
    server.run()  # exits with 3 itself when it cannot bind
    return 0 if server.started else STARTUP_FAILURE
