"""Bearer JWTs, verified with python-jose under the server's own rules.

The algorithm list is the server's (`JWT_ALGORITHMS`), never the token's: the
token's `alg` only picks one of them, and picks the key type with it, so an RS256
public key can never be used as an HMAC secret (the HS/RS confusion attack).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from jose import JWTError, jwt
from jose.exceptions import ExpiredSignatureError, JWTClaimsError

import config
from auth.errors import InvalidCredentials
from errors import Invalid
from text_checks import email_address, has_control_characters, text, unstorable

#: Tokens larger than this are refused unread; a real one is well under 2 KB.
MAX_TOKEN_BYTES = 8 * 1024
#: What an expired token is told, over HTTP and when its socket closes.
TOKEN_EXPIRED = "The token has expired."  # noqa: S105 - a message, not a secret
#: Clock skew tolerated on `exp`, `nbf` and `iat`.
LEEWAY_SECONDS = 30
USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
#: The longest `name` claim accepted: what the account's name holds (`User.name`).
NAME_LENGTH = 128


@dataclass(frozen=True)
class Claims:
    username: str
    email: str
    name: str
    issued_at: float | None
    #: When the token stops being valid (a live connection ends then too).
    expires_at: float | None = None


def _key_for(algorithm: str) -> str:
    if algorithm.startswith("HS"):
        return config.JWT_SECRET
    if not config.JWT_PUBLIC_KEY:
        raise InvalidCredentials(f"This server has no key for {algorithm} tokens.")
    return config.JWT_PUBLIC_KEY


def verify_token(token: str) -> Claims:
    """The claims of a valid token; `InvalidCredentials` saying what is wrong otherwise."""
    if len(token) > MAX_TOKEN_BYTES:
        raise InvalidCredentials("The token is too large.")
    try:
        algorithm = jwt.get_unverified_header(token).get("alg")
    except JWTError:
        raise InvalidCredentials("The token is malformed.") from None
    if algorithm not in config.JWT_ALGORITHMS:
        raise InvalidCredentials(f"Tokens signed with {algorithm!r} are not accepted.")
    options = {
        "require_exp": True,
        # `sub` is checked by `_claims`, whose refusals name the claim.
        "verify_sub": False,
        "require_iss": bool(config.JWT_ISSUER),
        "require_aud": bool(config.JWT_AUDIENCE),
        "verify_aud": bool(config.JWT_AUDIENCE),
        "leeway": LEEWAY_SECONDS,
    }
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            _key_for(algorithm),
            algorithms=[algorithm],
            options=options,
            issuer=config.JWT_ISSUER or None,
            audience=config.JWT_AUDIENCE or None,
        )
    except ExpiredSignatureError:
        raise InvalidCredentials(TOKEN_EXPIRED) from None
    except JWTClaimsError as exc:
        raise InvalidCredentials(f"The token's claims are not accepted: {exc}") from None
    except JWTError:
        raise InvalidCredentials("The token's signature is not valid.") from None
    return _claims(claims)


def _claims(claims: dict[str, Any]) -> Claims:
    username = claims.get("sub")
    if username is None:
        raise InvalidCredentials("The token has no subject (`sub` claim): it names no account.")
    if not isinstance(username, str) or not USERNAME.fullmatch(username):
        raise InvalidCredentials(
            "The token's subject (`sub` claim) is not a valid username: 1 to 64 letters, "
            "digits, '-' and '_', starting with a letter or digit."
        )
    issued_at = claims.get("iat")
    if issued_at is not None:
        if not isinstance(issued_at, int | float) or isinstance(issued_at, bool):
            raise InvalidCredentials("The token's issue time is not a number.")
        if issued_at > time.time() + LEEWAY_SECONDS:
            raise InvalidCredentials("The token claims to be issued in the future.")
    return Claims(
        username=username,
        email=_email(claims.get("email")),
        name=_name(claims.get("name")) or username,
        issued_at=float(issued_at) if issued_at is not None else None,
        expires_at=float(claims["exp"]),
    )


# `email` and `name` are checked as the same fields of an input are, and a bad one
# refuses the token, naming the claim: stored as they came, they failed in the
# database on every request (an unpaired surrogate, NUL) or sent alert mail to a
# list of addresses ("a@x, b@x"). A long name is refused rather than cut: a cut
# one is not the name the identity provider holds, and inputs refuse it too.


def _email(value: object) -> str:
    """The `email` claim, one address; "" when the token has none."""
    if value is None or value == "":
        return ""
    label = "The token's `email` claim"
    address = _text_claim(value, label)
    if has_control_characters(address) or any(c.isspace() for c in address):
        # Not stripped, as an input's is: an identity provider sends no stray space.
        raise InvalidCredentials(f"{label} cannot contain spaces or control characters.")
    try:
        return email_address(address, field="email", label=label)
    except Invalid as refused:
        raise InvalidCredentials(refused.message) from None


def _name(value: object) -> str:
    """The `name` claim stripped of surrounding space; "" when the token has none."""
    if value is None:
        return ""
    label = "The token's `name` claim"
    try:
        return text(_text_claim(value, label), field="name", label=label, max_length=NAME_LENGTH)
    except Invalid as refused:
        raise InvalidCredentials(refused.message) from None


def _text_claim(value: object, label: str) -> str:
    if not isinstance(value, str):
        raise InvalidCredentials(f"{label} must be a string.")
    if unstorable(value):
        raise InvalidCredentials(f"{label} cannot contain NUL or unpaired surrogate characters.")
    return value


def issue_token(
    username: str,
    *,
    email: str | None = None,
    name: str | None = None,
    ttl_seconds: int = 7 * 24 * 3600,
) -> str:
    """A token signed with `JWT_SECRET` (HS256), as `python cli.py token` prints."""
    now = int(time.time())
    claims: dict[str, Any] = {"sub": username, "iat": now, "exp": now + ttl_seconds}
    if email:
        claims["email"] = email
    if name:
        claims["name"] = name
    if config.JWT_ISSUER:
        claims["iss"] = config.JWT_ISSUER
    if config.JWT_AUDIENCE:
        claims["aud"] = config.JWT_AUDIENCE
    return str(jwt.encode(claims, config.JWT_SECRET, algorithm="HS256"))
