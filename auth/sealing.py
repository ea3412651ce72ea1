"""Secrets kept at rest (OAuth tokens, webhook URLs), encrypted with `SECRET_KEY`."""

from __future__ import annotations

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken

import config


class Unreadable(Exception):
    """A sealed value that this server's key cannot open (the key changed, or it was altered)."""


@cache
def _fernet(secret_key: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(secret_key.encode()).digest()))


def seal(plain: str) -> str:
    return _fernet(config.SECRET_KEY).encrypt(plain.encode()).decode()


def unseal(sealed: str) -> str:
    try:
        return _fernet(config.SECRET_KEY).decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise Unreadable("The stored secret cannot be decrypted with SECRET_KEY.") from None
