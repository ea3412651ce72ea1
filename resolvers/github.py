"""The viewer's personal GitHub connection: start, complete, disconnect."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from tortoise.transactions import in_transaction

import config
from auth import github
from auth.sealing import Unreadable, seal, unseal
from errors import DomainError, Invalid, NotFound, Unavailable
from models.integration import GithubIntegration as GithubIntegrationModel
from models.integration import OAuthProvider
from models.upsert import upsert
from resolvers import connect
from resolvers.context import Info
from schema.common import SuccessPayload, UserError
from schema.connect import (
    CompleteConnectInput,
    DisconnectInput,
    StartConnectInput,
    StartConnectPayload,
)
from schema.github import ConnectGithubPayload, GithubIntegration

logger = logging.getLogger("switchboard.github")

#: GitHub's errors that are the user's (a stale code, a denied grant), not the server's.
_USER_ERRORS = frozenset({"bad_verification_code", "access_denied"})
_REVOKE_BY_HAND = "Revoke it at https://github.com/settings/applications."


def _require_app() -> None:
    missing = [
        name
        for name, value in (
            ("GITHUB_CLIENT_ID", config.GITHUB_CLIENT_ID),
            ("GITHUB_CLIENT_SECRET", config.GITHUB_CLIENT_SECRET),
        )
        if not value
    ]
    if missing:
        raise Unavailable(
            f"GitHub is not set up on this server: {' and '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not set."
        )


async def start_github_connect(info: Info, input: StartConnectInput) -> StartConnectPayload:
    _require_app()
    state, redirect_uri = await connect.begin(
        info.context.viewer, OAuthProvider.GITHUB, input.redirect_uri
    )
    return StartConnectPayload(authorize_url=github.authorize_url(state, redirect_uri))


async def connect_github(info: Info, input: CompleteConnectInput) -> ConnectGithubPayload:
    _require_app()
    account = info.context.viewer
    code = connect.code(input.code)
    flow = await connect.spend(account, OAuthProvider.GITHUB, input.state)
    try:
        found = await github.fetch_account(code, flow.redirect_uri)
    except github.GithubRefused as refused:
        if refused.error in _USER_ERRORS:
            raise Invalid(f"{refused} Connect again.", field="code") from None
        raise Unavailable(f"{refused} Check the server's GitHub app settings.") from None
    except github.GithubUnavailable as failure:
        raise Unavailable(f"{failure} Nothing was connected; try again.") from None
    values = {
        "login": found.login,
        "avatar_url": found.avatar_url,
        "organizations": found.organizations,
        "scopes": found.scopes,
        "token_sealed": seal(found.token),
        "connected_at": datetime.now(UTC),
    }
    async with in_transaction():
        # Connecting again replaces the connection; the unique user_id decides a race.
        await upsert(GithubIntegrationModel, {"user_id": account.id}, **values)
    record = await GithubIntegrationModel.get(user_id=account.id)
    return ConnectGithubPayload(github_integration=GithubIntegration.from_model(record))


async def disconnect_github(info: Info, input: DisconnectInput) -> SuccessPayload:
    account = info.context.viewer
    async with in_transaction():
        record = await GithubIntegrationModel.filter(user_id=account.id).first()
        if record is None:
            raise NotFound("GitHub is not connected.")
        await GithubIntegrationModel.filter(id=record.id).delete()
    problem = await revoke_removed_grant(record.token_sealed)
    return SuccessPayload(success=True, errors=[UserError.from_error(problem)] if problem else [])


async def revoke_removed_grant(token_sealed: str) -> DomainError | None:
    """Revoke on GitHub a grant whose record is already gone; what went wrong, if anything.

    Called after the removal committed: the record goes whatever GitHub says,
    and a grant GitHub did not revoke is reported, not hidden.
    """
    try:
        _require_app()
        await github.revoke_grant(unseal(token_sealed))
    except Unavailable as missing:
        reason = missing.message
    except Unreadable as unreadable:
        reason = str(unreadable)
    except github.GithubError as failure:
        reason = str(failure)
    else:
        return None
    logger.warning("GitHub grant not revoked: %s", reason)
    return Unavailable(
        f"GitHub was disconnected here, but GitHub did not revoke the grant: {reason} "
        f"{_REVOKE_BY_HAND}"
    )
