"""zstd for chunks, shared by the client's encoder and the server's codec: one context
per thread (zstd contexts are not thread-safe, and making one per chunk costs about a
third of compressing an incompressible MiB), and one rule for whether a chunk is worth
compressing, so both sides decide the same way on the same bytes.

A big chunk is compressed whole only when a sample of it compresses: zstd level 1
spends ~0.9 ms on a MiB of random data (encrypted or already compressed, a third of a
typical VM image) only to find it does not shrink; the sample costs ~1/32 of that. It
is slices spread over the chunk, so a chunk with any compressible part still is tried.
"""

from __future__ import annotations

import threading

import zstandard

_local = threading.local()


def compressor(level: int) -> zstandard.ZstdCompressor:
    """This thread's compressor for `level`."""
    cache = _local.__dict__.setdefault("compressors", {})
    if level not in cache:
        cache[level] = zstandard.ZstdCompressor(level=level, write_content_size=True)
    return cache[level]


def decompressor() -> zstandard.ZstdDecompressor:
    """This thread's decompressor."""
    if not hasattr(_local, "decompressor"):
        _local.decompressor = zstandard.ZstdDecompressor()
    return _local.decompressor


SAMPLE_FROM = 256 << 10           # below this, trying the whole chunk is cheap enough
SAMPLE_SLICES, SAMPLE_SLICE = 4, 8 << 10


def worth_compressing(plain: bytes, compressor: zstandard.ZstdCompressor) -> bool:
    """False when a sample of a big chunk does not shrink by at least 1/32."""
    if len(plain) < SAMPLE_FROM:
        return True
    view, step = memoryview(plain), len(plain) // SAMPLE_SLICES
    sample = b"".join(view[i * step:i * step + SAMPLE_SLICE] for i in range(SAMPLE_SLICES))
    return len(compressor.compress(sample)) < len(sample) * 31 // 32
