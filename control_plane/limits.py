"""Validation of control-plane request fields; every failure names the field and value.

Owns the bounds of volume and chunk sizes, progress, idempotency keys, labels and
descriptions. Rules: checked before any transaction starts; a failure is a domain error
(`InvalidVolumeSize`, `InvalidChunkSize`, ...) whose message names the field, the value
and the bound.
"""

from __future__ import annotations

import math

from blockstore.errors import (InvalidArgument, InvalidChunkSize, InvalidProgress,
                               InvalidVolumeSize)

KIB, MIB, GIB, TIB = 1 << 10, 1 << 20, 1 << 30, 1 << 40
MIN_VOLUME_SIZE = 1 * MIB
MAX_VOLUME_SIZE = 64 * TIB
DEFAULT_VOLUME_SIZE = 1 * GIB
SECTOR = 512
MIN_CHUNK_SIZE = 64 * KIB
MAX_CHUNK_SIZE = 4 * MIB
DEFAULT_CHUNK_SIZE = 1 * MIB
MAX_IDEMPOTENCY_KEY = 256
MAX_LABELS = 64
MAX_LABEL_KEY = 63
MAX_LABEL_VALUE = 256
MAX_DESCRIPTION = 1024


def check_volume_size(size: int, minimum: int = MIN_VOLUME_SIZE, what: str = "volume") -> int:
    if size % SECTOR or not MIN_VOLUME_SIZE <= size <= MAX_VOLUME_SIZE:
        raise InvalidVolumeSize(
            f"size_bytes {size} of {what} must be a multiple of {SECTOR} between "
            f"{MIN_VOLUME_SIZE} (1 MiB) and {MAX_VOLUME_SIZE} (64 TiB)", size_bytes=size)
    if size < minimum:
        raise InvalidVolumeSize(f"size_bytes {size} of {what} is below its source snapshot's "
                                f"size {minimum}", size_bytes=size, minimum=minimum)
    return size


def check_chunk_size(chunk: int) -> int:
    if chunk <= 0 or chunk & (chunk - 1) or not MIN_CHUNK_SIZE <= chunk <= MAX_CHUNK_SIZE:
        raise InvalidChunkSize(f"chunk_size {chunk} must be a power of two between "
                               f"{MIN_CHUNK_SIZE} (64 KiB) and {MAX_CHUNK_SIZE} (4 MiB)",
                               chunk_size=chunk)
    return chunk


def check_progress(progress: float, previous: float, snapshot_id: str) -> float:
    if math.isnan(progress) or not 0.0 <= progress <= 1.0:
        raise InvalidProgress(f"progress {progress} of snapshot {snapshot_id} is outside "
                              "0.0 .. 1.0", snapshot_id=snapshot_id)
    if progress < previous:
        raise InvalidProgress(f"progress {progress} of snapshot {snapshot_id} is lower than "
                              f"its last reported {previous}", snapshot_id=snapshot_id)
    return progress


def check_common(idempotency_key: str, labels: dict[str, str], description: str = "") -> None:
    if len(idempotency_key) > MAX_IDEMPOTENCY_KEY:
        raise InvalidArgument(f"idempotency_key is {len(idempotency_key)} characters; at most "
                              f"{MAX_IDEMPOTENCY_KEY}")
    if len(labels) > MAX_LABELS:
        raise InvalidArgument(f"{len(labels)} labels; at most {MAX_LABELS}")
    for key, value in labels.items():
        if not key or len(key) > MAX_LABEL_KEY or len(value) > MAX_LABEL_VALUE:
            raise InvalidArgument(f"label {key[:80]!r}: keys need 1..{MAX_LABEL_KEY} characters, "
                                  f"values at most {MAX_LABEL_VALUE}")
    if len(description) > MAX_DESCRIPTION:
        raise InvalidArgument(f"description is {len(description)} characters; at most "
                              f"{MAX_DESCRIPTION}")
