"""The limiter itself: its notation, its atomic count in memory and in a shared
Redis (two limiters standing for two processes), and its failing open."""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio
from limits.aio.storage import MemoryStorage, RedisStorage

from errors import RateLimited
from services.rate_limits import ACTIONS, Caller, Limiter, _overrides

REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL is not set")
TEST_ALERTS = ACTIONS["test_alerts"]
ALICE = Caller(account=1, key=None, address="192.0.2.1")


async def allowed(limiter: Limiter, caller: Caller, times: int) -> int:
    results = await asyncio.gather(
        *(limiter.spend(TEST_ALERTS, caller) for _ in range(times)), return_exceptions=True
    )
    for result in results:
        if result is not None and not isinstance(result, RateLimited):
            raise result
    return sum(result is None for result in results)


@pytest.fixture
async def redis_pool() -> AsyncIterator[redis.asyncio.ConnectionPool]:
    pool = redis.asyncio.ConnectionPool.from_url(REDIS_URL)
    yield pool
    await pool.aclose()


def redis_limiter(pool: redis.asyncio.ConnectionPool, prefix: str) -> Limiter:
    # The pool decides where the storage connects; the URI only picks the storage.
    storage = RedisStorage(
        "async+redis://",
        wrap_exceptions=True,
        implementation="redispy",
        key_prefix=prefix,
        connection_pool=pool,  # type: ignore[arg-type]  # passed on to redis-py's client
    )
    return Limiter(storage)


async def test_concurrent_calls_take_exactly_the_places_there_are():
    limiter = Limiter(MemoryStorage())

    assert await allowed(limiter, ALICE, 30) == 5


async def test_each_caller_has_places_of_its_own_and_the_address_its_own():
    limiter = Limiter(MemoryStorage(), {"test_alerts.address": "7/minute"})
    bob = Caller(account=2, key=None, address=ALICE.address)
    carol = Caller(account=3, key=None, address="192.0.2.2")

    assert await allowed(limiter, ALICE, 6) == 5
    # Alice's refused sixth stopped at her own limit: the address counted 5 of 7.
    assert await allowed(limiter, bob, 6) == 2
    assert await allowed(limiter, carol, 6) == 5


async def test_an_api_key_has_a_limit_below_its_account():
    limiter = Limiter(MemoryStorage(), {"alerts.key": "2/minute", "alerts.account": "3/minute"})
    first = Caller(account=1, key=10, address=None)
    second = Caller(account=1, key=11, address=None)

    results = [
        await asyncio.gather(limiter.spend(ACTIONS["alerts"], c), return_exceptions=True)
        for c in (first, first, first, second, second)
    ]

    assert [list(r) == [None] for r in results] == [True, True, False, True, False]


async def test_the_refusal_names_the_limit_and_when_a_place_frees():
    limiter = Limiter(MemoryStorage(), {"teams.account": "1/hour"})
    await limiter.spend(ACTIONS["teams"], ALICE)

    with pytest.raises(RateLimited) as refused:
        await limiter.spend(ACTIONS["teams"], ALICE)

    assert refused.value.message.startswith("Too many new teams: at most 1 per hour.")
    assert 3590 < refused.value.retry_after <= 3600
    assert refused.value.extensions == {
        "code": "LIMIT_EXCEEDED",
        "retryAfter": refused.value.retry_after,
    }


@pytest.mark.parametrize(
    "value",
    [
        "alerts=1/minute",
        "nothing.account=1/minute",
        "alerts.everyone=1/minute",
        "alerts.key=",
        "alerts.key=lots",
    ],
)
def test_a_bad_override_is_refused_at_start_up(value):
    with pytest.raises(ValueError, match="RATE_LIMITS"):
        _overrides(value)


def test_overrides_are_read_per_action_and_caller():
    assert _overrides(" alerts.key=1/minute;10/hour , teams.address=3/day") == {
        "alerts.key": "1/minute;10/hour",
        "teams.address": "3/day",
    }


@needs_redis
async def test_two_processes_share_the_count_in_redis(redis_pool):
    prefix = f"test-limits-{uuid.uuid4().hex}"
    one, other = redis_limiter(redis_pool, prefix), redis_limiter(redis_pool, prefix)

    counts = await asyncio.gather(allowed(one, ALICE, 15), allowed(other, ALICE, 15))

    assert sum(counts) == 5
    await one.storage.reset()


async def test_an_unreachable_redis_fails_open_and_says_so(caplog):
    pool = redis.asyncio.ConnectionPool.from_url("redis://127.0.0.1:9/0", socket_connect_timeout=1)
    limiter = redis_limiter(pool, "unreachable")

    with caplog.at_level(logging.ERROR, logger="services.rate_limits"):
        assert await allowed(limiter, ALICE, 6) == 6

    assert "rate limit storage failed; test_alerts not counted" in caplog.text
    await pool.aclose()
