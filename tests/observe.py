"""Waiting on what a server did, never on the clock.

A test that sleeps "long enough" for the server passes untested (or fails) when the
server is slower than the guess. These helpers poll a state the server makes visible
until it holds, and fail after a generous deadline naming what never happened:

- `chunks_stored`: the server took a stream's blocks in (their chunk files exist in its
  chunk store; a put is durable before the stream reads on).
- `stream_slot_free`: on a server started with `--max-upload-streams-per-account 1`, a
  probe stream gets past the cap only once the account's previous stream has ended on
  the server (committed or aborted: the slot is released after either), so a test can
  wait for a cancelled stream to be over before it looks at what it left behind.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import time
from pathlib import Path
from typing import Awaitable, Callable, TypeVar

import blake3
import grpc

from chunkstore.fileformat import chunk_path
from tests.rpcerrors import error_info

DEADLINE_S = 60.0
PROBE_OFFSET = 1                     # unaligned: a probe that gets in is refused, commits nothing
T = TypeVar("T")


def until(check: Callable[[], T], what: str, timeout: float = DEADLINE_S) -> T:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:g} s, yet still not: {what}")
        time.sleep(0.01)
    return value


async def until_async(check: Callable[[], T | Awaitable[T]], what: str,
                      timeout: float = DEADLINE_S) -> T:
    """`until` for async tests; `check` may be a plain or an async function."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:g} s, yet still not: {what}")
        await asyncio.sleep(0.01)


def chunks_stored(data_dir: str | os.PathLike, datas: list[bytes]) -> bool:
    """Every chunk of `datas` is in the `serve --data-dir` store (local layout)."""
    root = Path(data_dir) / "chunks" / "chunks"
    return all(chunk_path(root, blake3.blake3(d).digest()).is_file() for d in datas)


def probe_refused_by_cap(err: grpc.RpcError) -> bool:
    """True if the probe met the stream cap; False if it got in (and was refused as
    unaligned, committing nothing); anything else is a test failure."""
    reason = error_info(err).reason
    assert reason in ("TOO_MANY_UPLOAD_STREAMS", "UNALIGNED_BLOCK"), (reason, err.details())
    return reason == "TOO_MANY_UPLOAD_STREAMS"
