"""OAuth `state`: signed, bound to the user and provider, valid ten minutes, usable once.

OAuthStateError
├── RedirectNotAllowed   the redirect_uri is not one of OAUTH_REDIRECT_URIS
└── InvalidState         forged, another user's, another provider's, expired or reused
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

import config
from models.integration import OAuthProvider, OAuthState
from models.user import User

STATE_LIFETIME = timedelta(minutes=10)


class OAuthStateError(Exception):
    pass


class RedirectNotAllowed(OAuthStateError):
    pass


class InvalidState(OAuthStateError):
    pass


def _signature(provider: OAuthProvider, nonce: str) -> str:
    message = f"{provider.value}:{nonce}".encode()
    return hmac.new(config.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()[:32]


def allowed_redirect(redirect_uri: str | None) -> str:
    if not redirect_uri:
        return config.OAUTH_REDIRECT_URIS[0]
    if redirect_uri not in config.OAUTH_REDIRECT_URIS:
        raise RedirectNotAllowed(
            f"The redirect URI {redirect_uri!r} is not allowed; set OAUTH_REDIRECT_URIS."
        )
    return redirect_uri


async def start(user: User, provider: OAuthProvider, redirect_uri: str) -> str:
    """A fresh `state` for `user` to carry through the provider's authorize page."""
    nonce = secrets.token_urlsafe(24)
    now = datetime.now(UTC)
    await OAuthState.filter(user=user, expires_at__lt=now).delete()
    await OAuthState.create(
        nonce=nonce,
        user=user,
        provider=provider,
        redirect_uri=redirect_uri,
        expires_at=now + STATE_LIFETIME,
    )
    return f"{nonce}.{_signature(provider, nonce)}"


async def consume(user: User, provider: OAuthProvider, state: str) -> OAuthState:
    """The flow `state` names, marked used; `InvalidState` if it may not be completed."""
    nonce, _, signature = state.partition(".")
    if not nonce or not hmac.compare_digest(signature, _signature(provider, nonce)):
        raise InvalidState("The state is not one this server issued.")
    record = await OAuthState.filter(nonce=nonce, provider=provider).first()
    # One message for "unknown" and "another user's": a caller must not learn
    # whether someone else has a flow under way.
    if record is None or record.user_id != user.id:
        raise InvalidState("The state does not belong to this sign-in; start again.")
    now = datetime.now(UTC)
    if record.expires_at < now:
        raise InvalidState("The state has expired; start the connection again.")
    claimed = await OAuthState.filter(nonce=nonce, used_at__isnull=True).update(used_at=now)
    if not claimed:
        raise InvalidState("The state was already used; start the connection again.")
    return record
