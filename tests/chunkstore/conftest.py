"""One `store` fixture over every backend (memory, local directory, S3 on SeaweedFS), plus a `damage` helper that does to a stored
chunk what a disk would (bit rot, truncation) and ages its mtime, per backend."""

from __future__ import annotations

import asyncio
import itertools
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import obstore
import pytest

from chunkstore import LocalChunkStore, MemoryChunkStore, blake3_token, encode
from chunkstore.fileformat import HEADER_SIZE
from chunkstore.s3 import SEEN, S3ChunkStore
from chunkstore.s3_config import parse_s3_url


class MemoryDamage:
    def __init__(self, store: MemoryChunkStore):
        self.store = store

    def flip_byte(self, token: bytes) -> None:
        payload = bytearray(self.store._chunks[token].payload)
        payload[len(payload) // 2] ^= 0x01
        self.store.tamper(token, bytes(payload))

    def truncate(self, token: bytes) -> None:
        self.store.tamper(token, self.store._chunks[token].payload[:-7])

    def age(self, token: bytes, seconds: float) -> None:
        self.store.set_mtime(token, self.store._chunks[token].mtime - seconds)


class LocalDamage:
    def __init__(self, store: LocalChunkStore):
        self.store = store

    def flip_byte(self, token: bytes) -> None:
        path = self.store.path_of(token)
        data = bytearray(path.read_bytes())
        data[HEADER_SIZE + (len(data) - HEADER_SIZE) // 2] ^= 0x01  # inside the payload
        path.write_bytes(bytes(data))

    def truncate(self, token: bytes) -> None:
        path = self.store.path_of(token)
        os.truncate(path, path.stat().st_size - 7)

    def age(self, token: bytes, seconds: float) -> None:
        path = self.store.path_of(token)
        st = path.stat()
        os.utime(path, (st.st_atime - seconds, st.st_mtime - seconds))


class S3Damage:
    """Rewrites objects behind the store's back (a plain PUT), and ages the seen time."""

    def __init__(self, store: S3ChunkStore):
        self.store = store

    def _rewrite(self, token: bytes, edit) -> None:
        async def go():
            raw = bytearray(await self.store.read_raw(token))
            await obstore.put_async(self.store.s3, self.store.config.chunk_key(token),
                                    bytes(edit(raw)))
        _on_own_loop(go())

    def flip_byte(self, token: bytes) -> None:
        def flip(raw):
            raw[HEADER_SIZE + (len(raw) - HEADER_SIZE) // 2] ^= 0x01
            return raw
        self._rewrite(token, flip)

    def truncate(self, token: bytes) -> None:
        self._rewrite(token, lambda raw: raw[:-7])

    def age(self, token: bytes, seconds: float) -> None:
        """Both places a last-seen time lives: the object's own stamp and `seen/`."""
        async def go():
            seen = repr((await self.store.stat(token)).mtime - seconds)
            raw = await self.store.read_raw(token)
            await obstore.put_async(self.store.s3, self.store.config.chunk_key(token), raw,
                                    attributes={SEEN: seen})
            await obstore.put_async(self.store.s3, self.store.config.seen_key(token),
                                    seen.encode())
        _on_own_loop(go())


def _on_own_loop(coro) -> None:
    """Damage helpers are sync (like a disk's); run the S3 calls on a loop of their own."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coro).result()


_prefixes = itertools.count()


@pytest.fixture(params=["memory", "local", "local-named", "s3", "metered"])
async def store(request, tmp_path: Path):
    """`metered`: the local store under the metrics wrapper the server stacks on it
    (services/metered_chunks.py), which must keep the whole contract. `local-named`:
    the local store's named temp files, its way on filesystems without O_TMPFILE."""
    if request.param == "metered":
        from services.metered_chunks import MeteredChunkStore
        from services.metric_families import Metrics
        backend = MeteredChunkStore(LocalChunkStore(tmp_path), "dir", Metrics())
    elif request.param == "s3":
        weed = request.getfixturevalue("seaweedfs")
        url = weed.url("conformance", f"t{next(_prefixes)}-{os.getpid()}")
        backend = S3ChunkStore(parse_s3_url(url, weed.env()))
    elif request.param == "local-named":
        backend = LocalChunkStore(tmp_path, unnamed_files=False)
    else:
        backend = MemoryChunkStore() if request.param == "memory" else LocalChunkStore(tmp_path)
    yield backend
    await backend.close()


@pytest.fixture
def damage(store):
    store = getattr(store, "inner", store)       # a wrapper: damage what it wraps
    if isinstance(store, S3ChunkStore):
        return S3Damage(store)
    return MemoryDamage(store) if isinstance(store, MemoryChunkStore) else LocalDamage(store)


def make_chunk(seed: int, size: int = 64 << 10, compressible: bool = True):
    """(token, compression, payload, plain) for a deterministic chunk."""
    if compressible:
        unit = f"chunk {seed} ".encode()
        plain = (unit * (size // len(unit) + 1))[:size]
    else:
        plain = os.urandom(size)
    compression, payload = encode(plain)
    return blake3_token(plain), compression, payload, plain
