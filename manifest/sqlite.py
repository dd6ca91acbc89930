"""SQLite backend of the manifest (aiosqlite), safe for several processes on one file.

- WAL journal, so readers never block the writer and a reader sees a consistent snapshot.
- Incremental auto-vacuum on new files: GC hands freed pages back (`release_space`);
  the WAL is cut back to `WAL_LIMIT` bytes after each checkpoint.
- `synchronous=FULL`: a commit is on stable storage before it returns (invariant 2).
- Writers take `BEGIN IMMEDIATE`: the database write lock is taken up front, so two
  processes never deadlock upgrading read locks; `busy_timeout` makes them queue.
- Inside one process a lock serializes writer transactions on the single writer
  connection; reads use a small pool of separate connections.
- A transaction is begun cancellation-safely (`_begin`): a caller cancelled while its
  BEGIN runs must not leave the connection inside a transaction, or that connection
  would hold SQLite's write lock (or a stale read snapshot) for every later user.
  Likewise a query never leaves a half-read statement behind (manifest/sqlite_common.py).
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator

import aiosqlite

from manifest.fair_pool import FairPool
from manifest.migrations import apply_migrations
from manifest.sqlite_private import make_private
from manifest.sqlite_tx import SqliteTx

BUSY_TIMEOUT_MS = 30_000
READERS = 4
WAL_LIMIT = 64 << 20
INCREMENTAL = 2                    # PRAGMA auto_vacuum's value for incremental


async def _connect(path: str) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(path, isolation_level=None)
    try:
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA synchronous = FULL")
        await conn.execute(f"PRAGMA journal_size_limit = {WAL_LIMIT}")
        await conn.execute("PRAGMA foreign_keys = ON")
    except BaseException:
        await conn.close()        # its thread would keep the process alive
        raise
    return conn


async def _begin(conn: aiosqlite.Connection, statement: str) -> None:
    """Run BEGIN, or, if the caller is cancelled meanwhile, leave no transaction open.

    The statement runs on aiosqlite's thread whether or not we keep awaiting it, so
    on cancellation we wait for it in a task of its own and roll back what it began.
    """
    begin = asyncio.ensure_future(conn.execute(statement))
    try:
        await asyncio.shield(begin)
    except asyncio.CancelledError:
        await asyncio.shield(asyncio.ensure_future(_undo_begin(conn, begin)))
        raise


async def _undo_begin(conn: aiosqlite.Connection, begin: asyncio.Future) -> None:
    try:
        await begin
    except Exception:
        return                    # BEGIN failed: no transaction to undo
    if conn.in_transaction:
        await conn.execute("ROLLBACK")


class SqliteManifest:
    """`ManifestStore` over one SQLite file."""

    def __init__(self, path: str, writer: aiosqlite.Connection,
                 readers: list[aiosqlite.Connection]) -> None:
        self.path = path
        self._writer = writer
        self._write_lock = asyncio.Lock()
        self._readers: FairPool[aiosqlite.Connection] = FairPool(list(readers))
        self._all = [writer, *readers]

    @classmethod
    async def open(cls, path: str | Path) -> "SqliteManifest":
        path = str(path)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        make_private(path)                    # it holds SigV4 secrets (sqlite_private.py)
        opened: list[aiosqlite.Connection] = []
        try:
            writer = await _connect(path)
            opened.append(writer)
            async with writer.execute("PRAGMA page_count") as cur:
                if (await cur.fetchone())[0] == 0:
                    # Only a new file can take it (before any table): GC can shrink it.
                    await writer.execute("PRAGMA auto_vacuum = INCREMENTAL")
            async with writer.execute("PRAGMA journal_mode") as cur:
                mode = (await cur.fetchone())[0]
            if mode.lower() != "wal":          # set once; later opens leave it alone
                await writer.execute("PRAGMA journal_mode = WAL")
            await apply_migrations(writer)
            for _ in range(READERS):
                opened.append(await _connect(path))
        except BaseException:
            # A damaged or unreadable file: each open connection is a thread that would
            # keep the process alive after it reported the error.
            for conn in opened:
                await conn.close()
            raise
        return cls(path, writer, opened[1:])

    @asynccontextmanager
    async def write(self) -> AsyncIterator[SqliteTx]:
        async with self._write_lock:
            await _begin(self._writer, "BEGIN IMMEDIATE")
            try:
                yield SqliteTx(self._writer)
            except BaseException:
                await asyncio.shield(self._writer.execute("ROLLBACK"))
                raise
            await asyncio.shield(self._writer.execute("COMMIT"))

    @asynccontextmanager
    async def read(self) -> AsyncIterator[SqliteTx]:
        conn = await self._readers.get()
        try:
            await _begin(conn, "BEGIN")
            try:
                yield SqliteTx(conn)
            finally:
                await asyncio.shield(conn.execute("COMMIT"))
        finally:
            self._readers.put(conn)

    async def release_space(self, max_pages: int) -> int:
        """Return up to `max_pages` free pages to the file system; how many went.

        Only a file created with incremental auto-vacuum can shrink (every new manifest
        is, see `open`); an older file keeps its free pages for reuse until an offline
        `VACUUM`. The pragma is its own short write transaction, and it must run as a
        script: a plain execute steps it once, which frees a single page.
        """
        async with self._write_lock:
            if await self._pragma("auto_vacuum") != INCREMENTAL:
                return 0
            free = await self._pragma("freelist_count")
            if free:
                await self._writer.executescript(
                    f"PRAGMA incremental_vacuum({int(min(free, max_pages))});")
            return free - await self._pragma("freelist_count")

    async def _pragma(self, name: str) -> int:
        async with self._writer.execute(f"PRAGMA {name}") as cur:
            return (await cur.fetchone())[0]

    async def integrity_check(self) -> str:
        async with self._writer.execute("PRAGMA integrity_check") as cur:
            row = await cur.fetchone()
        return row[0]

    async def close(self) -> None:
        for conn in self._all:
            await conn.close()
