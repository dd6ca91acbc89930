"""Data-plane configuration, validated when built.

Owns `DataPlaneConfig`: the windows, batches, worker threads, per-request caps and
per-account fairness limits of one data-plane process. Rules: frozen; a bad value fails
when the object is built, naming the field; every cap bounds memory or work per stream
or per account, so no single caller can take the process.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from blockstore.clock import Clock, SystemClock


@dataclass(frozen=True)
class DataPlaneConfig:
    # Batches of one upload stream being verified/stored at once: bounds a stream's
    # memory to about window x batch (plain bytes, plus the wire copy while decoded).
    upload_window: int = 4
    # Data blocks of one stream are verified, encoded and stored in batches of up to this
    # many plain bytes and blocks (at least one block): one worker-thread hop, one account
    # lookup and one `put_many` per batch instead of per block (64 KiB chunks: 16 a batch,
    # 1 MiB chunks: 4). A batch only fills while an earlier one of the stream is in flight.
    # 4 MiB, not 1: at 1 MiB chunks a batch per block spent ~0.4 s of server CPU per GiB
    # on thread hops and lookups (bench/backup_cpu.py). 16 blocks at most: a batch's
    # fsyncs run one after another in one thread, so 64 small chunks a batch made a
    # 64 KiB upload slower (bench/upload_chunks.py).
    upload_batch_bytes: int = 4 << 20
    upload_batch_blocks: int = 16
    # Chunks read ahead per download stream.
    download_window: int = 8
    # zstd level for data that arrives raw (1-3: fast; stored only when it saves space).
    zstd_level: int = 1
    # Threads for hashing, (de)compression and file I/O; blake3 and zstd release the GIL.
    workers: int = 4
    max_find_tokens: int = 10_000
    max_ranges: int = 10_000
    # Chunk positions one DownloadBlocks call may span over all its ranges (1 TiB at
    # 1 MiB chunks): bounds its work whatever its ranges cover; split bigger reads.
    max_download_chunks: int = 1 << 20
    # DownloadBlocks calls of one account running at once; more wait their turn.
    max_downloads_per_account: int = 4
    # References are checked against the account's chunk set in batches of this size
    # while the stream runs (fail fast), and once more in the commit transaction.
    reference_batch: int = 256
    # Fairness: UploadBlocks streams one account may have open at once on this process
    # (each holds up to `upload_window` chunks in memory). Beyond it a new stream is
    # RESOURCE_EXHAUSTED with a RetryInfo of `limit_retry_after_s`.
    max_upload_streams_per_account: int = 16
    # All accounts together: bounds upload memory at about this x upload_window chunks.
    max_upload_streams: int = 64
    # Bytes of block data all upload streams of the process hold at once (wire bytes
    # plus the plain copy, data_plane/upload_memory.py): the process-wide memory bound.
    upload_memory: int = 96 << 20
    limit_retry_after_s: float = 1.0
    # Blocks one UploadBlocks stream may carry: bounds its rows held until the commit
    # (about 200 bytes a block, so ~7 MB) and the length of that one write transaction.
    max_blocks_per_stream: int = 32_768
    # An UploadBlocks stream that sends nothing for this long ends (STREAM_IDLE_TIMEOUT).
    stream_idle_timeout_s: float = 30.0
    # Expiry of an active-operation record (data_plane/operations.py), renewed every
    # quarter of it: a crashed process holds GC back for at most this long.
    operation_ttl_s: float = 60.0
    clock: Clock = field(default_factory=SystemClock)

    def __post_init__(self) -> None:
        for name in ("upload_window", "upload_batch_bytes", "upload_batch_blocks",
                     "download_window", "workers",
                     "max_find_tokens", "max_ranges", "reference_batch", "upload_memory",
                     "max_upload_streams_per_account",
                     "max_upload_streams", "max_blocks_per_stream", "max_download_chunks",
                     "max_downloads_per_account"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not 1 <= self.zstd_level <= 22:
            raise ValueError(f"zstd_level must be 1..22, got {self.zstd_level}")
        if self.stream_idle_timeout_s <= 0:
            raise ValueError(f"stream_idle_timeout_s must be > 0, got "
                             f"{self.stream_idle_timeout_s}")
        if self.operation_ttl_s <= 0:
            raise ValueError(f"operation_ttl_s must be > 0, got {self.operation_ttl_s}")
        if self.limit_retry_after_s <= 0:
            raise ValueError(f"limit_retry_after_s must be > 0, got {self.limit_retry_after_s}")
