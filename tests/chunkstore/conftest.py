"""One `store` fixture over every backend, plus a `damage` helper that does to a stored
chunk what a disk would (bit rot, truncation) and ages its mtime, per backend."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chunkstore import LocalChunkStore, MemoryChunkStore, blake3_token, encode
from chunkstore.fileformat import HEADER_SIZE


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


@pytest.fixture(params=["memory", "local"])
async def store(request, tmp_path: Path):
    backend = MemoryChunkStore() if request.param == "memory" else LocalChunkStore(tmp_path)
    yield backend
    await backend.close()


@pytest.fixture
def damage(store):
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
