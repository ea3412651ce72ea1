"""Rate limits: how often the costly actions may be taken, per API key, per account
and per client address, each limit defined once in `ACTIONS`.

Counting is `limits`' moving window, atomic in both storages (an asyncio lock per
key in memory, a Lua script in Redis), so concurrent requests cannot both take the
last place. With `REDIS_URL` set, every process counts in the same Redis; without
it, each process counts alone. `RATE_LIMITS` overrides any default, e.g.
`RATE_LIMITS="alerts.account=30/minute;300/day, teams.address=20/hour"`.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

import config
from errors import RateLimited

logger = logging.getLogger(__name__)

#: The callers an action is counted against.
BY = ("key", "account", "address")


@dataclass(frozen=True)
class Action:
    name: str
    #: What the caller is told they did too often: "Too many {what}".
    what: str
    #: `limits` notation for each kind of caller ("60/minute;600/hour"), or None.
    key: str | None
    account: str
    address: str


ACTIONS = {
    action.name: action
    for action in (
        # Each alert is an email and a Slack post: a runaway loop must not become a flood.
        Action("alerts", "alerts", "60/minute;600/hour", "120/minute;1200/hour", "600/minute"),
        Action("test_alerts", "test alerts", None, "5/minute", "50/minute"),
        Action("api_keys", "new API keys", None, "10/minute;50/day", "100/hour"),
        Action("oauth_starts", "connection attempts", None, "10/minute", "60/minute"),
        Action("teams", "new teams", None, "10/hour", "50/hour"),
        Action("service_accounts", "new service accounts", None, "10/hour", "50/hour"),
        # Each decode may take most of a second of CPU (services/photos.py).
        Action("photos", "photo uploads", None, "10/minute;60/hour", "60/minute"),
        Action("invitations", "team invitations sent", None, "60/hour", "300/hour"),
    )
}


@dataclass(frozen=True)
class Caller:
    """Who an action is counted against: each present one has a limit of its own."""

    account: int | None
    key: int | None
    address: str | None


class Limiter:
    def __init__(self, storage: Storage, overrides: Mapping[str, str] = {}) -> None:
        self.storage = storage
        self._strategy = MovingWindowRateLimiter(storage)
        self._items = {
            (action.name, by): parse_many(value)
            for action in ACTIONS.values()
            for by in BY
            if (value := overrides.get(f"{action.name}.{by}", getattr(action, by))) is not None
        }

    async def spend(self, action: Action, caller: Caller) -> None:
        """Counts one `action` for each of `caller`'s identities; `RateLimited`, with
        the seconds until a place frees, once any of them is over its limit."""
        for by, identity in zip(BY, (caller.key, caller.account, caller.address), strict=True):
            if identity is not None:
                await self._hit(action, by, str(identity))

    async def _hit(self, action: Action, by: str, identity: str) -> None:
        for item in self._items.get((action.name, by), ()):
            try:
                allowed = await self._strategy.hit(item, action.name, by, identity)
                if allowed:
                    continue
                stats = await self._strategy.get_window_stats(item, action.name, by, identity)
            except StorageError:
                # A rate limit guards against abuse; an outage of its storage must not
                # stop every alert, so it fails open, loudly.
                logger.exception("rate limit storage failed; %s not counted", action.name)
                return
            raise RateLimited(
                f"Too many {action.what}: at most {_said(item)}.",
                retry_after=max(1, math.ceil(stats.reset_time - time.time())),
            )


def _said(item: RateLimitItem) -> str:
    unit = item.GRANULARITY.name
    per = unit if item.multiples == 1 else f"{item.multiples} {unit}s"
    return f"{item.amount} per {per}"


def _overrides(value: str) -> dict[str, str]:
    """`RATE_LIMITS`: comma-separated `action.by=limits` entries."""
    found: dict[str, str] = {}
    for entry in filter(None, (e.strip() for e in value.split(","))):
        name, _, limits = entry.partition("=")
        action, _, by = name.strip().partition(".")
        try:
            if action not in ACTIONS or by not in BY:
                raise ValueError("no such action and caller")
            parse_many(limits)  # refused at start-up, not at the first request
        except ValueError as bad:
            raise ValueError(f"RATE_LIMITS: {entry!r} is not ACTION.BY=LIMITS: {bad}") from None
        found[name.strip()] = limits.strip()
    return found


def _storage() -> Storage:
    if config.REDIS_URL:
        return RedisStorage(
            "async+" + config.REDIS_URL,
            wrap_exceptions=True,
            implementation="redispy",
            key_prefix=config.RATE_LIMIT_PREFIX,
        )
    return MemoryStorage()


limiter = Limiter(_storage(), _overrides(config.RATE_LIMITS))
