"""The typed context every resolver receives as `info.context`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from errors import Unauthenticated
from models.api_key import ApiKeyScope
from models.user import User
from resolvers.loaders import Loaders
from services.rate_limits import Caller


@dataclass
class Context:
    request: Request | WebSocket
    response: Response | WebSocket | None
    #: The signed-in account, or None for an anonymous caller.
    user: User | None
    loaders: Loaders = field(default_factory=Loaders)
    #: A WebSocket's `connection_init` payload, set by Strawberry.
    connection_params: dict[str, object] | None = None
    #: Unix time at which the caller's token or API key expires (None: a key that
    #: never expires, or anonymous).
    credentials_expire_at: float | None = None
    #: The API key the caller signed in with, if any.
    api_key_id: int | None = None
    #: What that key may do (`auth.permissions.NeedsScope`); None for a signed-in
    #: session (a token) and for an anonymous caller, neither of which is scoped.
    api_key_scopes: frozenset[ApiKeyScope] | None = None

    def fresh_loaders(self) -> asyncio.Future[Any] | None:
        """New loaders, so that what was read before (a write since, or a plan given
        up) is read again. The future, if any, ends once the old loaders' batches have."""
        old, self.loaders = self.loaders, Loaders()
        return old.settled()

    @property
    def caller(self) -> Caller:
        """Who a rate-limited action counts against."""
        client = self.request.client
        user_id = self.user.id if self.user is not None else None
        return Caller(account=user_id, key=self.api_key_id, address=client and client.host)

    @property
    def viewer(self) -> User:
        """The signed-in account; fields that need one are guarded by `IsAuthenticated`."""
        if self.user is None:
            raise Unauthenticated("Sign in first.")
        return self.user


Info = strawberry.Info[Context, None]
