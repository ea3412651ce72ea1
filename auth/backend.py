"""The Starlette authentication backend: `Bearer <JWT>` or `Basic api:<API key>`."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from starlette.authentication import (
    AuthCredentials,
    AuthenticationBackend,
    BaseUser,
)
from starlette.requests import HTTPConnection

from auth.accounts import user_for_claims
from auth.api_keys import live_key
from auth.errors import InvalidCredentials
from auth.tokens import verify_token
from models.api_key import ApiKeyScope
from models.user import User


class SignedInUser(BaseUser):
    """The account behind a request's credentials."""

    def __init__(self, authorization: Authorization) -> None:
        self.user = authorization.user
        self.expires_at = authorization.expires_at
        self.api_key_id = authorization.api_key_id
        self.api_key_scopes = authorization.api_key_scopes

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def display_name(self) -> str:
        return self.user.username

    @property
    def identity(self) -> str:
        return str(self.user.id)


@dataclass(frozen=True)
class Authorization:
    user: User
    #: Unix time at which the credentials expire: the token's `exp`, or the API key's
    #: `expiresAt`; None for a key that never expires.
    expires_at: float | None
    #: The API key signed in with, if any.
    api_key_id: int | None = None
    #: What that key may do; None for a token, whose session may do everything.
    api_key_scopes: frozenset[ApiKeyScope] | None = None


async def authorize(value: str) -> Authorization:
    """The account an `Authorization` value names; `InvalidCredentials` otherwise."""
    scheme, _, credentials = value.strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer" and credentials:
        claims = verify_token(credentials)
        return Authorization(await user_for_claims(claims), claims.expires_at)
    if scheme.lower() == "basic" and credentials:
        key = await live_key(_api_key_from_basic(credentials))
        expires_at = key.expires_at.timestamp() if key.expires_at is not None else None
        return Authorization(key.user, expires_at, key.id, key.scope_set)
    raise InvalidCredentials(
        "The Authorization header must be 'Bearer <token>' or 'Basic base64(api:<API key>)'."
    )


def _api_key_from_basic(credentials: str) -> str:
    try:
        decoded = base64.b64decode(credentials, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidCredentials("The Basic credentials are not valid base64.") from None
    login, _, secret = decoded.partition(":")
    if login != "api":
        raise InvalidCredentials("Basic credentials must be 'api:<API key>'.")
    return secret


class TokenOrKeyBackend(AuthenticationBackend):
    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        value = conn.headers.get("authorization")
        if not value:
            return None
        authorization = await authorize(value)
        return AuthCredentials(["authenticated"]), SignedInUser(authorization)
