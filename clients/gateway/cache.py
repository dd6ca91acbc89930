"""On-disk cache of clean chunks, named by token, evicted least recently used first.

Rules kept:
- a chunk enters only after its bytes hash (BLAKE3) to the token it is filed under;
- a file is written under a temporary name and renamed, so a name always holds a whole
  chunk; files left by a crash are re-verified when the cache opens (a bad one is dropped),
  which is why entries need no fsync: the cache is a copy, the service has the original;
- the total size stays within `capacity` (a chunk larger than it is simply not kept).
"""

from __future__ import annotations

import contextlib
import os
from collections import OrderedDict
from pathlib import Path

import blake3


MAX_OPEN = 256


class ChunkCache:
    def __init__(self, root: Path, capacity: int) -> None:
        self.root, self.capacity = root, capacity
        self.root.mkdir(parents=True, exist_ok=True)
        self._dir = str(root)
        self._lru: OrderedDict[bytes, int] = OrderedDict()
        self._fds: OrderedDict[bytes, int] = OrderedDict()   # open files of recent chunks
        self.used = 0

    def open(self) -> int:
        """Adopts the chunks a previous run left (oldest first); returns how many were bad."""
        bad = 0
        files = sorted(self.root.iterdir(), key=lambda f: f.stat().st_mtime)
        for path in files:
            token = _token(path.name)
            data = path.read_bytes() if token else b""
            if token is None or blake3.blake3(data).digest() != token:
                path.unlink(missing_ok=True)
                bad += token is not None
                continue
            self._remember(token, len(data))
        self._evict()
        return bad

    def __contains__(self, token: bytes) -> bool:
        return token in self._lru

    def read(self, token: bytes, start: int, length: int) -> bytes | None:
        """`length` bytes at `start` inside the chunk, or None when it is not cached."""
        if token not in self._lru:
            return None
        self._lru.move_to_end(token)
        fd = self._fds.get(token)
        if fd is None:
            try:
                fd = self._open(token)
            except FileNotFoundError:
                self._forget(token)
                return None
        else:
            self._fds.move_to_end(token)
        return os.pread(fd, length, start)

    def _open(self, token: bytes) -> int:
        """Keeps up to MAX_OPEN files open: a warm 4 KiB read is then one pread."""
        fd = self._fds[token] = os.open(self._path(token), os.O_RDONLY)
        if len(self._fds) > MAX_OPEN:
            os.close(self._fds.popitem(last=False)[1])
        return fd

    def put(self, token: bytes, data: bytes) -> None:
        """Keeps a chunk; refuses (ValueError) bytes that do not hash to `token`."""
        if blake3.blake3(data).digest() != token:
            raise ValueError(f"chunk {token.hex()[:16]} does not match its BLAKE3 token")
        self.put_verified(token, data)

    def put_verified(self, token: bytes, data: bytes) -> None:
        """Keeps a chunk the caller has just hashed to `token` itself."""
        if token in self._lru or len(data) > self.capacity:
            return
        path = self._path(token)
        with open(path + ".tmp", "wb") as f:
            f.write(data)
        os.replace(path + ".tmp", path)
        self._remember(token, len(data))
        self._evict()

    def _remember(self, token: bytes, size: int) -> None:
        self._lru[token] = size
        self.used += size

    def _forget(self, token: bytes) -> None:
        self.used -= self._lru.pop(token, 0)
        fd = self._fds.pop(token, None)
        if fd is not None:
            os.close(fd)

    def _evict(self) -> None:
        while self.used > self.capacity and self._lru:
            token, _ = next(iter(self._lru.items()))
            self._forget(token)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._path(token))

    def _path(self, token: bytes) -> str:
        return os.path.join(self._dir, token.hex())


def _token(name: str) -> bytes | None:
    try:
        token = bytes.fromhex(name)
    except ValueError:
        return None
    return token if len(token) == 32 else None
