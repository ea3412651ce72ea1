"""Accounts made just in time from a valid token's claims."""

from __future__ import annotations

from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from auth.errors import InvalidCredentials
from auth.tokens import Claims
from models.alert import AlertChannel, AlertEventType, AlertSubscription
from models.entity import Entity, name_key
from models.prepared import Prepared
from models.user import User

#: What a new account hears about, and how: crashes and wandb.alert() by email.
DEFAULT_SUBSCRIPTIONS = (
    (AlertEventType.RUN_CRASHED, AlertChannel.EMAIL),
    (AlertEventType.SCRIPTABLE, AlertChannel.EMAIL),
)


#: The account with its own and its default entity, in the same round trip (the
#: request's loaders start with both, see `Loaders.prime_viewer`); built once.
ACCOUNT = Prepared(
    lambda keys: (
        User.filter(entity__name_key=keys[0]).select_related("entity", "default_entity").limit(1)
    )
)


async def _account(username: str) -> User | None:
    found = await ACCOUNT([name_key(username)])
    return found[0] if found else None


async def user_for_claims(claims: Claims) -> User:
    """The token's account, created on its first sign-in; `InvalidCredentials` for a
    token issued before an account of that name was deleted."""
    user = await _account(claims.username)
    if user is None:
        try:
            user = await _create_account(claims)
        except IntegrityError:
            # Two first requests raced; the other one created the account.
            user = await _account(claims.username)
            if user is None:
                raise InvalidCredentials(
                    f"The name {claims.username!r} belongs to a team, not an account."
                ) from None
    if user.service:
        # Made by a team's admins, who hold no token for it: its keys are its only way in.
        raise InvalidCredentials(
            f"{claims.username!r} is a service account: it signs in with its API keys only."
        )
    # The entity came with the account (select_related): this costs no statement.
    _check_issued_after(claims, user.entity)
    return user


async def _create_account(claims: Claims) -> User:
    async with in_transaction():
        entity = await Entity.filter(name_key=name_key(claims.username)).first()
        if entity is None:
            entity = await Entity.create(name=claims.username, name_key=name_key(claims.username))
        elif entity.is_team:
            raise InvalidCredentials(
                f"The name {claims.username!r} belongs to a team, not an account."
            )
        elif entity.deleted_at is not None:
            _check_issued_after(claims, entity)
            # `tokens_valid_after` stays: the new account must not take the old one's tokens.
            await Entity.filter(id=entity.id).update(deleted_at=None, storage_limit_bytes=None)
        user = await User.create(
            entity=entity,
            default_entity=entity,
            username=entity.name,
            email=claims.email,
            name=claims.name,
        )
        await AlertSubscription.bulk_create(
            AlertSubscription(user=user, event=event, channel=channel, enabled=True)
            for event, channel in DEFAULT_SUBSCRIPTIONS
        )
    return user


def _check_issued_after(claims: Claims, entity: Entity) -> None:
    # A deleted account's credentials die with it: a token minted before the
    # deletion must neither revive the account nor sign in to the one that holds
    # the name since. A token without `iat` cannot show it is newer.
    valid_after = _latest(entity.tokens_valid_after, entity.deleted_at)
    if valid_after is None:
        return
    issued_at = claims.issued_at
    if issued_at is None or datetime.fromtimestamp(issued_at, UTC) <= valid_after:
        raise InvalidCredentials(
            f"This token was issued before the account {claims.username!r} was deleted, "
            "and is no longer valid: sign in again for a new one."
        )


def _latest(*moments: datetime | None) -> datetime | None:
    return max((moment for moment in moments if moment is not None), default=None)
