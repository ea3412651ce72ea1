"""Revocations on the bus: an account's watchers hear that one of its keys, or the whole
account, was revoked; over Redis on every process, and as a resynchronisation when Redis
was away for the publication (real Redis servers, never mocks)."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import uuid

import pytest

from notifiers.bus import RESYNC, LocalBus, RedisBus, Resync, Revocation
from tests.e2e.process import free_port
from tests.notifiers.test_bus import (
    REDIS_URL,
    needs_redis,
    own_redis_server,
    redis_bus,
    wait_for_redis,
)


class Heard:
    """A watcher that keeps what it hears."""

    def __init__(self) -> None:
        self.news: asyncio.Queue[Revocation | Resync] = asyncio.Queue()

    def __call__(self, news: Revocation | Resync) -> None:
        self.news.put_nowait(news)

    async def next(self, timeout: float = 5.0) -> Revocation | Resync:
        return await asyncio.wait_for(self.news.get(), timeout)


@pytest.mark.parametrize(
    ("revocation", "ended"),
    [
        (Revocation(1, api_key_id=5), {5: True, 6: False, None: False}),
        (Revocation(1), {5: True, 6: True, None: True}),
    ],
)
def test_a_key_revocation_ends_that_key_and_an_account_revocation_everything(revocation, ended):
    assert {key: revocation.ends(key) for key in ended} == ended


async def test_local_bus_tells_the_accounts_watchers_only():
    bus = LocalBus()
    alice, alice_again, bob = Heard(), Heard(), Heard()
    with bus.watch(1, alice), bus.watch(1, alice_again), bus.watch(2, bob):
        await bus.revoke(Revocation(1, 5))

        assert await alice.next() == Revocation(1, 5)
        assert await alice_again.next() == Revocation(1, 5)
        with pytest.raises(TimeoutError):
            await bob.next(timeout=0.05)


async def test_a_watcher_that_left_hears_nothing():
    bus = LocalBus()
    left = Heard()
    with bus.watch(1, left):
        pass

    await bus.revoke(Revocation(1))

    assert left.news.empty()


async def test_resync_tells_watchers_too():
    bus = LocalBus()
    heard = Heard()
    with bus.watch(1, heard):
        bus.resync_all()

        assert await heard.next() is RESYNC


@needs_redis
@pytest.mark.parametrize("revocation", [Revocation(7, 42), Revocation(7)])
async def test_revocation_published_on_one_process_reaches_a_watcher_on_another(revocation):
    channel = f"test-bus-{uuid.uuid4().hex}"
    heard = Heard()
    async with redis_bus(REDIS_URL, channel) as one, redis_bus(REDIS_URL, channel) as other:
        with other.watch(7, heard):
            await one.revoke(revocation)

            assert await heard.next() == revocation


async def test_local_watchers_hear_a_revocation_even_when_redis_is_down():
    bus = RedisBus(f"redis://127.0.0.1:{free_port()}/0", "alerts")
    await bus.start()
    heard = Heard()
    try:
        with bus.watch(1, heard):
            await bus.revoke(Revocation(1, 3))

            assert await heard.next() == Revocation(1, 3)
    finally:
        await bus.stop()


@needs_redis
@pytest.mark.skipif(not shutil.which("redis-server"), reason="redis-server is not installed")
async def test_a_revocation_published_while_redis_was_down_becomes_a_resync_elsewhere():
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    heard = Heard()
    with own_redis_server(port) as server:
        await wait_for_redis(url)
        async with redis_bus(url, "alerts") as watching, redis_bus(url, "alerts") as other:
            with watching.watch(1, heard):
                server.terminate()
                server.wait(timeout=10)
                await other.revoke(Revocation(1, 9))  # nobody remote hears it
                with own_redis_server(port):
                    await wait_for_redis(url)

                    # The watcher is told to read the credentials again instead.
                    assert await heard.next(timeout=15) is RESYNC
                    with contextlib.suppress(TimeoutError):
                        while await heard.next(timeout=0.5) is RESYNC:
                            pass
                    await other.revoke(Revocation(1, 10))

                    assert await heard.next(timeout=15) == Revocation(1, 10)
