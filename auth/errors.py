"""Credential failures, raised before any GraphQL operation runs.

AuthenticationError (starlette)
└── InvalidCredentials   a token or key that is malformed, forged, expired or revoked
"""

from __future__ import annotations

from starlette.authentication import AuthenticationError


class InvalidCredentials(AuthenticationError):
    """The caller sent credentials, and they are not good; the message says why."""
