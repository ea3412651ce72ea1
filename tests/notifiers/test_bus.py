"""The alert bus, in-process and over Redis (real Redis servers, never mocks)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis

from notifiers.bus import (
    RESYNC,
    LocalBus,
    Notice,
    RedisBus,
    SubscriberTooSlow,
)
from tests.e2e.process import free_port

REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL is not set")


async def next_notice(subscription, timeout: float = 5.0):
    return await asyncio.wait_for(subscription.get(), timeout)


async def test_local_bus_reaches_the_users_subscribers_only():
    bus = LocalBus()
    with bus.subscribe(1) as alice_a, bus.subscribe(1) as alice_b, bus.subscribe(2) as bob:
        await bus.publish(Notice(1, 10))

        assert await next_notice(alice_a) == Notice(1, 10)
        assert await next_notice(alice_b) == Notice(1, 10)
        with pytest.raises(TimeoutError):
            await next_notice(bob, timeout=0.05)


async def test_subscribers_of_one_notice_share_its_memo():
    bus = LocalBus()
    with bus.subscribe(1) as first, bus.subscribe(1) as second:
        await bus.publish(Notice(1, 10))

        one, two = await next_notice(first), await next_notice(second)

    assert one.memo is two.memo


async def test_stalled_subscriber_is_ended_while_another_keeps_receiving():
    bus = LocalBus()
    with bus.subscribe(1, max_pending=5) as stalled, bus.subscribe(1, max_pending=5) as live:
        for event_id in range(20):
            await bus.publish(Notice(1, event_id))
            assert (await next_notice(live)).event_id == event_id

        with pytest.raises(SubscriberTooSlow, match="subscribe again with `after`"):
            await next_notice(stalled)


async def test_leaving_subscribers_are_forgotten():
    bus = LocalBus()
    with bus.subscribe(1), bus.subscribe(1):
        assert bus.subscriber_count == 2

    assert bus.subscriber_count == 0


@contextlib.asynccontextmanager
async def redis_bus(url: str, channel: str) -> AsyncIterator[RedisBus]:
    bus = RedisBus(url, channel)
    await bus.start()
    try:
        yield bus
    finally:
        await bus.stop()


@needs_redis
async def test_notice_published_on_one_process_reaches_a_subscriber_on_another():
    channel = f"test-bus-{uuid.uuid4().hex}"
    async with redis_bus(REDIS_URL, channel) as one, redis_bus(REDIS_URL, channel) as other:
        with other.subscribe(7) as subscription:
            await one.publish(Notice(7, 42))

            notice = await next_notice(subscription)

    assert (notice.user_id, notice.event_id) == (7, 42)


@needs_redis
async def test_one_subscribing_connection_serves_every_subscriber_of_a_process():
    channel = f"test-bus-{uuid.uuid4().hex}"
    async with redis_bus(REDIS_URL, channel) as bus:
        with contextlib.ExitStack() as stack:
            subscriptions = [stack.enter_context(bus.subscribe(i % 5)) for i in range(50)]
            admin = redis.Redis.from_url(REDIS_URL)
            [(_, connections)] = await admin.pubsub_numsub(channel)
            await admin.aclose()
            await bus.publish(Notice(3, 1))
            received = [await next_notice(s) for s in subscriptions if s.user_id == 3]

    assert connections == 1
    assert len(received) == 10


@contextlib.contextmanager
def own_redis_server(port: int):
    """A redis-server of this test's own, so it can be stopped and started again."""
    process = subprocess.Popen(  # noqa: S603 - fixed arguments
        [
            shutil.which("redis-server") or "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=10)


async def wait_for_redis(url: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        for _ in range(100):
            with contextlib.suppress(redis.ConnectionError, OSError):
                await client.ping()
                return
            await asyncio.sleep(0.05)
        raise TimeoutError("redis-server did not start")
    finally:
        await client.aclose()


@needs_redis
@pytest.mark.skipif(not shutil.which("redis-server"), reason="redis-server is not installed")
async def test_subscriber_keeps_receiving_after_redis_restarts():
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    with own_redis_server(port) as server:
        await wait_for_redis(url)
        async with redis_bus(url, "alerts") as subscriber_side, redis_bus(url, "alerts") as other:
            with subscriber_side.subscribe(1) as subscription:
                await other.publish(Notice(1, 1))
                assert (await next_notice(subscription)).event_id == 1

                server.terminate()
                server.wait(timeout=10)
                await other.publish(Notice(1, 2))  # Redis is down: nobody remote hears it
                with own_redis_server(port):
                    await wait_for_redis(url)

                    # The subscriber is told to read what it missed from the database.
                    assert await next_notice(subscription, timeout=15) is RESYNC
                    await asyncio.sleep(0.5)  # the publisher's own resync broadcast lands
                    with contextlib.suppress(TimeoutError):
                        while await next_notice(subscription, timeout=0.2) is RESYNC:
                            pass
                    await other.publish(Notice(1, 3))

                    assert await next_notice(subscription, timeout=15) == Notice(1, 3)


async def test_local_subscribers_hear_a_notice_even_when_redis_is_down():
    bus = RedisBus(f"redis://127.0.0.1:{free_port()}/0", "alerts")
    await bus.start()
    try:
        with bus.subscribe(1) as subscription:
            await bus.publish(Notice(1, 5))

            assert await next_notice(subscription) == Notice(1, 5)
    finally:
        await bus.stop()
