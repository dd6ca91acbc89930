"""`LocalChunkStore`: chunk files in a local (or shared POSIX) directory.

Owns `LocalChunkStore`. Rules: a chunk file appears under its name only complete (a temp
file, fsynced unless `fsync` is off, then renamed); nothing is handed out before its
BLAKE3 matches; the event loop never blocks on disk or CPU work.

Every blocking call, hash and (de)compression runs in an executor: the data plane serves
many streams on one event loop, and blake3, zstandard and file I/O release the GIL, so
threads give real parallelism. Layout: `fileformat.py`; insert protocol (`put` is a batch
of one): `local_batch.py`; unnamed (O_TMPFILE) files, probed once here: `local_unnamed.py`.
"""

from __future__ import annotations

import asyncio
import functools
import os
import time
from concurrent.futures import Executor
from pathlib import Path
from typing import AsyncIterator, Callable, Sequence, TypeVar

from chunkstore import identity_file, local_io, local_unnamed
from chunkstore.local_batch import FilePut, put_files
from chunkstore.fileformat import TEMP_PREFIX, TRASH_PREFIX, chunk_path, is_chunk_name
from chunkstore.protocol import ChunkInfo, ChunkPut, Compression, StoredChunk
from chunkstore.verify import check_put, check_token, verified_chunk

T = TypeVar("T")


class LocalChunkStore:
    """Content-addressed files under `<root>/chunks/ab/cd/<hex>`; durable when `fsync`."""

    def __init__(self, root: Path, *, fsync: bool = True, executor: Executor | None = None,
                 unnamed_files: bool = True):
        """`unnamed_files=False`: named temp files even where O_TMPFILE works (the path
        taken on filesystems without it; tests run both)."""
        self.root = Path(root)
        self.chunks_dir = self.root / "chunks"
        self.quarantine_dir = self.root / "quarantine"
        self.fsync = fsync
        self._executor = executor
        local_io.ensure_dir(self.chunks_dir, fsync)
        self._link = local_unnamed.probe(self.chunks_dir) if unnamed_files else None

    @property
    def unnamed_files(self) -> bool:
        """Whether new chunk files are written unnamed (O_TMPFILE) before being named."""
        return self._link is not None

    def path_of(self, token: bytes) -> Path:
        """Where a chunk lives (for admin tools and tests; not part of the Protocol)."""
        return chunk_path(self.chunks_dir, check_token(token))

    async def _run(self, fn: Callable[..., T], *args: object) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args))

    async def put(
        self, token: bytes, payload: bytes, compression: Compression, plain_length: int,
        *, overwrite: bool = False,
    ) -> bool:
        check_put(token, payload, compression, plain_length)
        item = FilePut(bytes(token), self.path_of(token), payload, Compression(compression),
                       plain_length, overwrite)
        return (await self._run(put_files, [item], self.fsync, self._link))[0]

    async def put_many(self, puts: Sequence[ChunkPut]) -> list[bool]:
        """One worker-thread call for the whole batch (local_batch.py)."""
        items = []
        for p in puts:
            check_put(p.token, p.payload, p.compression, p.plain_length)
            items.append(FilePut(bytes(p.token), self.path_of(p.token), p.payload,
                                 Compression(p.compression), p.plain_length, p.overwrite))
        return await self._run(put_files, items, self.fsync, self._link) if items else []

    async def get(self, token: bytes) -> StoredChunk:
        return await self._run(self._get_sync, check_token(token))

    def _get_sync(self, token: bytes) -> StoredChunk:
        header, payload = local_io.read_chunk(token, self.path_of(token))
        return verified_chunk(token, header.compression, payload, header.plain_length)

    async def stat(self, token: bytes) -> ChunkInfo | None:
        """Raises ChunkCorrupt if the header is unreadable (the chunk exists but is bad)."""
        return await self._run(self._stat_sync, check_token(token))

    def _stat_sync(self, token: bytes) -> ChunkInfo | None:
        try:
            header, st = local_io.read_header(token, self.path_of(token))
        except FileNotFoundError:
            return None
        return ChunkInfo(
            token, header.compression, header.plain_length, header.stored_length, st.st_mtime
        )

    async def contains_many(self, tokens: list[bytes]) -> set[bytes]:
        paths = [(bytes(t), self.path_of(t)) for t in tokens]
        return await self._run(lambda: {t for t, p in paths if p.is_file()})

    async def touch(self, token: bytes) -> bool:
        return await self._run(_utime, self.path_of(token))

    async def delete(self, token: bytes, *, older_than: float | None = None) -> bool:
        path = self.path_of(token)
        if older_than is None:
            return await self._run(_unlink, path)
        return await self._run(local_io.delete_if_older, bytes(token), path, older_than,
                               self.fsync)

    async def iter_tokens(self) -> AsyncIterator[bytes]:
        """Lists one top-level prefix directory per executor call to bound memory."""
        for top in await self._run(_subdirs, self.chunks_dir):
            for token in await self._run(_tokens_under, top):
                yield token

    async def quarantine(self, token: bytes) -> bool:
        """Keeps the bad file under `<root>/quarantine/<hex>.<time_ns>` for inspection."""
        path = self.path_of(token)
        return await self._run(self._quarantine_sync, path)

    def _quarantine_sync(self, path: Path) -> bool:
        local_io.ensure_dir(self.quarantine_dir, self.fsync)
        try:
            os.replace(path, self.quarantine_dir / f"{path.name}.{time.time_ns()}")
        except FileNotFoundError:
            return False
        return True

    async def get_identity(self) -> str | None:
        return await self._run(identity_file.read_identity, self.root)

    async def set_identity(self, identity: str) -> None:
        await self._run(identity_file.write_identity, self.root, identity, self.fsync)

    async def close(self) -> None:
        """Nothing to release: files are opened per call, the executor is not ours."""

    async def sweep_temp_files(self, older_than: float) -> tuple[int, int]:
        """Remove `.tmp-*`/`.trash-*` files (crash leftovers) last modified before
        `older_than`; returns (files, bytes). A chunk found only under a trash name (a
        delete that crashed half-way) gets its name back first, whatever its age. One
        prefix directory per executor call."""
        files = size = 0
        for top in await self._run(_subdirs, self.chunks_dir):
            n, b = await self._run(_sweep_temp_under, top, older_than, self.fsync)
            files, size = files + n, size + b
        return files, size


def _utime(path: Path) -> bool:
    try:
        os.utime(path)
    except FileNotFoundError:
        return False
    return True


def _unlink(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def _subdirs(path: Path) -> list[Path]:
    try:
        return sorted(Path(e.path) for e in os.scandir(path) if e.is_dir() and len(e.name) == 2)
    except FileNotFoundError:
        return []


def _tokens_under(top: Path) -> list[bytes]:
    return [
        bytes.fromhex(entry.name)
        for sub in _subdirs(top)
        for entry in os.scandir(sub)
        if is_chunk_name(entry.name) and entry.is_file()
    ]


def _sweep_temp_under(top: Path, older_than: float, durable: bool) -> tuple[int, int]:
    files = size = 0
    for sub in _subdirs(top):
        for entry in os.scandir(sub):
            if not entry.name.startswith((TEMP_PREFIX, TRASH_PREFIX)):
                continue
            if entry.name.startswith(TRASH_PREFIX):
                local_io.restore_trash(Path(entry.path), durable)
            try:
                st = entry.stat()
                if st.st_mtime < older_than:
                    os.unlink(entry.path)
                    files, size = files + 1, size + st.st_size
            except FileNotFoundError:
                continue            # its writer finished (or another sweeper won) meanwhile
    return files, size
