"""Content-addressed chunk storage.

Data model: a chunk is the bytes of one volume block, named by its token, the BLAKE3-256
of its plain (uncompressed) bytes. It is stored either raw or as one zstd frame (with its
content size), together with its plain length, and a last-seen time ("mtime").

Invariants every backend keeps (tests/chunkstore runs one conformance suite on each):
- Content addressing: a token names one content forever, so inserts are idempotent and a
  chunk is never modified in place, only written whole, refreshed, moved aside or deleted.
- Atomic, durable insert: `put` makes a chunk visible all at once, never partially. With
  fsync on (the default), by the time it returns the chunk file and every directory entry
  leading to it have been fsynced, which is what surviving power loss needs; what the tests
  prove is survival of kill -9 at any moment (tests/crash, tests/gc/test_crash_gc.py) and
  that no partial or temp file is ever served. No test cuts power or simulates a disk that
  loses its cache. Concurrent puts of one token, from any number of processes, are safe;
  exactly one of them reports True. `put_many` keeps the same guarantees for each chunk
  of a batch.
- Last-seen refresh: `put` of an existing chunk and `touch` refresh its mtime, so garbage
  collection with a grace period never removes a chunk a writer has just relied on;
  `delete(token, older_than=t)` removes it only if still not seen since `t`.
- Verify on read: `get` returns bytes only after decoding them within `plain_length` and
  checking their BLAKE3 against the token; otherwise ChunkCorrupt (ChunkMissing if absent).
  `quarantine` moves a bad chunk aside, so the next `put` of that token heals it.

- Identity: `get_identity`/`set_identity` keep the id of the manifest the store belongs
  to (services/identity.py refuses to pair it with any other); set replaces it atomically.

This package imports no gRPC and no other project package but `blockstore.errors` and
`blockstore.urls`.
"""

from chunkstore.codec import DecodeError, blake3_token, decode, encode
from chunkstore.local import LocalChunkStore
from chunkstore.memory import MemoryChunkStore
from chunkstore.open import open_chunk_store
from chunkstore.protocol import ChunkInfo, ChunkPut, ChunkStore, Compression, StoredChunk
from chunkstore.rot import Recheck, recheck

__all__ = [
    "ChunkInfo",
    "ChunkPut",
    "ChunkStore",
    "Compression",
    "DecodeError",
    "LocalChunkStore",
    "MemoryChunkStore",
    "Recheck",
    "StoredChunk",
    "blake3_token",
    "decode",
    "encode",
    "open_chunk_store",
    "recheck",
]
