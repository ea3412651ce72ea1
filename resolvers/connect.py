"""The steps every OAuth connection shares (Slack, GitHub): start a flow, spend its state."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from auth import oauth
from errors import Invalid
from models.integration import OAuthProvider, OAuthState
from models.user import User
from text_checks import text


async def begin(
    account: User, provider: OAuthProvider, redirect_uri: str | None
) -> tuple[str, str]:
    """A fresh `state` for `account` and the allowed redirect URI it is bound to."""
    try:
        allowed = oauth.allowed_redirect(redirect_uri)
    except oauth.RedirectNotAllowed as refused:
        raise Invalid(str(refused), field="redirectUri") from None
    async with in_transaction():
        state = await oauth.start(account, provider, allowed)
    return state, allowed


async def spend(account: User, provider: OAuthProvider, state: str) -> OAuthState:
    """The flow `state` names, used up. It stays used up if the provider then refuses
    the code: a state is good for one try, as the code it came with is."""
    try:
        return await oauth.consume(account, provider, state)
    except oauth.InvalidState as refused:
        raise Invalid(str(refused), field="state") from None


def code(value: str) -> str:
    return text(value, field="code", label="The code", min_length=1, max_length=1024)
