"""The DataLoader: batches, one load a key, errors by key, and shields."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from resolvers.dataloader import SHIELDED, DataLoader


class Source:
    """A batch function that records its batches; a key below zero is an error."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []

    async def __call__(self, keys: list[int]) -> list[Any]:
        self.batches.append(keys)
        await asyncio.sleep(0)  # as a query would
        return [ValueError(f"no {key}") if key < 0 else key * 10 for key in keys]


async def test_loads_made_together_are_one_batch_and_each_key_is_loaded_once():
    source = Source()
    loader = DataLoader(source)

    first = await asyncio.gather(loader.load(1), loader.load(2), loader.load(1))
    again = await asyncio.gather(loader.load(2), loader.load(3))

    assert list(first) == [10, 20, 10]
    assert list(again) == [20, 30]
    assert source.batches == [[1, 2], [3]]


async def test_loads_of_tasks_started_together_share_a_batch():
    # graphql-core runs each field in a task of its own: they batch as one.
    source = Source()
    loader = DataLoader(source)

    async def field(key: int) -> Any:
        await asyncio.sleep(0)
        return await loader.load(key)

    assert await asyncio.gather(*(field(k) for k in (3, 1, 2))) == [30, 10, 20]
    assert source.batches == [[3, 1, 2]]


async def test_a_load_after_its_batch_started_goes_to_the_next():
    source = Source()
    loader = DataLoader(source)

    async def later() -> Any:
        while not source.batches:
            await asyncio.sleep(0)
        return await loader.load(2)

    assert list(await asyncio.gather(loader.load(1), later())) == [10, 20]
    assert source.batches == [[1], [2]]


async def test_an_error_fails_its_key_alone_and_a_failed_batch_every_key():
    loader = DataLoader(Source())
    one, bad = list(await asyncio.gather(loader.load(1), loader.load(-1), return_exceptions=True))
    assert one == 10
    assert isinstance(bad, ValueError) and str(bad) == "no -1"

    async def broken(keys: list[int]) -> list[int]:
        raise RuntimeError("database gone")

    loader = DataLoader(broken)
    failed = await asyncio.gather(loader.load(1), loader.load(2), return_exceptions=True)
    assert [str(o) for o in failed] == ["database gone", "database gone"]

    async def short(keys: list[int]) -> list[int]:
        return keys[:1]

    loader = DataLoader(short)
    shorted = await asyncio.gather(loader.load(1), loader.load(2), return_exceptions=True)
    assert all("answered 1 values for 2 keys" in str(o) for o in shorted)


async def test_prime_answers_without_loading_and_clear_all_forgets():
    source = Source()
    loader = DataLoader(source)
    loader.prime(1, 99)
    assert await loader.load(1) == 99
    assert await loader.load(2) == 20
    loader.prime(2, 77)  # already loaded: kept
    assert await loader.load(2) == 20

    loader.clear_all()

    assert await loader.load_many([1, 2]) == [10, 20]
    assert source.batches == [[2], [1, 2]]


async def test_a_cancelled_caller_cancels_only_its_own_wait():
    source = Source()
    loader = DataLoader(source)
    cancelled = asyncio.ensure_future(loader.load(1))
    other = asyncio.ensure_future(loader.load(1))
    await asyncio.sleep(0)

    cancelled.cancel()

    assert await other == 10
    assert cancelled.cancelled()
    assert source.batches == [[1]]


async def test_without_shields_a_cancelled_future_is_loaded_afresh():
    source = Source()
    loader = DataLoader(source)
    token = SHIELDED.set(False)
    try:
        shared = loader.load(1)
        assert isinstance(shared, asyncio.Future)
        shared.cancel()  # its request was cancelled: every key of the batch was
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert source.batches == []  # a batch whose every key is cancelled is not read

        assert await loader.load(1) == 10
    finally:
        SHIELDED.reset(token)
    assert source.batches == [[1]]


@pytest.mark.parametrize("shielded", [True, False])
async def test_the_batch_task_runs_to_its_end_while_nothing_else_holds_it(shielded):
    # The loop keeps only weak references to tasks: the loader keeps its own.
    source = Source()
    loader = DataLoader(source)
    token = SHIELDED.set(shielded)
    try:
        waiting = loader.load(5)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert loader.tasks
        assert await waiting == 50
    finally:
        SHIELDED.reset(token)
    await asyncio.sleep(0)
    assert not loader.tasks
