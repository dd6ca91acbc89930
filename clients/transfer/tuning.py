"""How hard a transfer pushes: streams, memory in flight, compression, worker threads.

Everything else (chunks per stream, how far workers run ahead) is derived from these,
so one number, `max_inflight`, bounds memory for any image size.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

MIB = 1 << 20
# A stream is one manifest transaction on the server; beyond this many chunks a commit
# gets long and an interruption loses more work, for no gain in throughput.
MAX_BATCH_CHUNKS = 256


@dataclass(frozen=True)
class Tuning:
    streams: int = 2
    max_inflight: int = 256 * MIB      # bytes of chunk data held at once, all stages
    compress_level: int = 1            # zstd level; 0 sends data uncompressed
    workers: int = 0                   # hashing/compression threads; 0: one per CPU

    def __post_init__(self) -> None:
        if self.streams < 1:
            raise ValueError(f"streams must be >= 1, got {self.streams}")
        if self.max_inflight < 1:
            raise ValueError(f"max_inflight must be positive, got {self.max_inflight}")
        if not 0 <= self.compress_level <= 22:
            raise ValueError(f"compress_level must be 0..22, got {self.compress_level}")

    def thread_count(self) -> int:
        return self.workers or max(2, os.cpu_count() or 2)

    def inflight_chunks(self, chunk_size: int) -> int:
        return max(1, self.max_inflight // chunk_size)

    def batch_chunks(self, chunk_size: int) -> int:
        """Chunks per upload stream. Batches alive at once: one being read, one gathered
        for the next stream, one queued, one per stream."""
        return max(1, min(MAX_BATCH_CHUNKS, self.inflight_chunks(chunk_size) // (self.streams + 3)))

    def window(self, chunk_size: int) -> int:
        """Blocks a download stream decodes and writes ahead of the one it receives."""
        return max(1, min(64, self.inflight_chunks(chunk_size) // self.streams))

    def span(self, chunk_size: int) -> int:
        """Bytes one download request asks for."""
        return self.batch_chunks(chunk_size) * chunk_size
