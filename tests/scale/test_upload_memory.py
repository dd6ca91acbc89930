"""The process-wide upload byte budget (data_plane/upload_memory.py): a stream waits while
it is spent, gets bytes back in arrival order, and a cancelled waiter takes nothing."""

from __future__ import annotations

import asyncio

import pytest

from data_plane.upload_memory import UploadMemory


async def test_waits_until_bytes_come_back_in_arrival_order():
    memory = UploadMemory(100)
    assert await memory.acquire(70) == 70
    first = asyncio.create_task(memory.acquire(50))
    second = asyncio.create_task(memory.acquire(10))
    await asyncio.sleep(0)                      # let both queue
    assert not first.done() and not second.done(), \
        "no overtaking: 10 bytes would fit, but the first waiter came first"
    memory.release(70)
    assert await first == 50 and await second == 10
    assert memory.used == 60


async def test_a_block_larger_than_the_budget_takes_all_of_it():
    memory = UploadMemory(100)
    assert await memory.acquire(4096) == 100 and memory.used == 100
    memory.release(100)
    assert memory.used == 0


async def test_a_cancelled_waiter_takes_nothing_and_lets_the_next_in():
    memory = UploadMemory(100)
    await memory.acquire(90)
    blocked = asyncio.create_task(memory.acquire(50))
    small = asyncio.create_task(memory.acquire(10))
    await asyncio.sleep(0)
    blocked.cancel()
    with pytest.raises(asyncio.CancelledError):
        await blocked
    assert await small == 10 and memory.used == 100


def test_the_budget_must_be_positive():
    with pytest.raises(ValueError):
        UploadMemory(0)
