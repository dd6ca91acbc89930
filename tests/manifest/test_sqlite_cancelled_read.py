"""A read cancelled just as its row arrives must not leave its connection on an old snapshot.

SQLite keeps a connection's WAL read snapshot for as long as any statement of it is
still stepping, across COMMIT and the next BEGIN. A query's rows come back to the event
loop from aiosqlite's thread; if the caller is cancelled between that and reading them,
the half-read statement lived on (kept by the cancellation's traceback) while the
connection went back to the pool. The next reader on it saw the manifest as it was
before, e.g. a download not finding the active-operation row it had just committed
(ABORTED CHUNK_COLLECTED in the soak test's well-behaved account).
"""

from __future__ import annotations

import asyncio
import sqlite3

import aiosqlite.core
import pytest

from manifest import ActiveOperation
from manifest.sqlite import READERS, SqliteManifest


def _operation(op_id: str) -> ActiveOperation:
    return ActiveOperation(op_id, "download", "vol-x", "holder-1", None, None, 1.0, 9e9)


@pytest.fixture
async def store(tmp_path):
    opened = await SqliteManifest.open(tmp_path / "manifest.db")
    yield opened
    await opened.close()


def _cancel_when_rows_arrive(monkeypatch) -> dict:
    """Cancels the armed task right after a query's result reaches its future, before the
    task resumes: the moment a client's cancel can land on a busy server's loop."""
    armed: dict[str, asyncio.Task] = {}
    deliver = aiosqlite.core.set_result

    def set_result(future, result):
        deliver(future, result)
        statement_only = isinstance(result, sqlite3.Cursor) and result.description is None
        if "task" in armed and not statement_only:      # rows, not BEGIN/COMMIT
            armed.pop("task").cancel()
    monkeypatch.setattr(aiosqlite.core, "set_result", set_result)
    return armed


async def test_a_read_cancelled_as_its_rows_arrive_leaves_no_stale_snapshot(store, monkeypatch):
    async with store.write() as tx:
        await tx.start_operation(_operation("op-of-the-cancelled-call"))
    armed = _cancel_when_rows_arrive(monkeypatch)
    connection_back, cleanup_done = asyncio.Event(), asyncio.Event()

    async def cancelled_call():
        try:
            async with store.read() as tx:
                await tx.operation_alive("op-of-the-cancelled-call")
        finally:
            # The cancelled call's other cleanup (ending its own operation) still runs,
            # its cancellation in flight, while others already use the connection.
            connection_back.set()
            await cleanup_done.wait()

    call = asyncio.create_task(cancelled_call())
    armed["task"] = call
    await connection_back.wait()
    assert "task" not in armed, "the cancellation landed as the row arrived"

    async with store.write() as tx:
        await tx.start_operation(_operation("op-committed-after"))
    seen = []
    for _ in range(READERS):                     # the pool hands out each connection once
        async with store.read() as tx:
            seen.append(await tx.operation_alive("op-committed-after"))
    cleanup_done.set()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert seen == [True] * READERS, \
        "every read connection sees a row committed before its read began"
