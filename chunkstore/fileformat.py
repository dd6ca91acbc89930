"""On-disk naming and the fixed chunk-file header of the local backend.

    <root>/chunks/ab/cd/<64 hex>            a chunk (token abcd...)
    <root>/chunks/ab/cd/.tmp-<hex>-<pid>-<rand>    a put in progress, or left by a crash
                                           (named temp files; see local_batch.py)
    <root>/chunks/ab/cd/.trash-<hex>-<rand>        a conditional delete in progress
    <root>/quarantine/<hex>.<time_ns>      a chunk that failed verification

Only names of exactly 64 lowercase hex digits are chunks, so a temp or trash file left by
a crash is never listed or served; GC sweeps dot-files older than its grace period.
The header ("<4sBBHQQ", 24 bytes, little-endian): magic b"BSCK", format version 1,
compression (0 none, 1 zstd), reserved 0, plain length, stored (payload) length.
"""

from __future__ import annotations

import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path

from chunkstore.protocol import Compression
from chunkstore.verify import MAX_PLAIN_LENGTH, MAX_STORED_LENGTH, corrupt

MAGIC = b"BSCK"
VERSION = 1
HEADER = struct.Struct("<4sBBHQQ")
HEADER_SIZE = HEADER.size
TEMP_PREFIX = ".tmp-"
TRASH_PREFIX = ".trash-"

_CODES = {Compression.NONE: 0, Compression.ZSTD: 1}
_BY_CODE = {code: compression for compression, code in _CODES.items()}
_TOKEN_NAME = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Header:
    compression: Compression
    plain_length: int
    stored_length: int


def chunk_path(chunks_dir: Path, token: bytes) -> Path:
    """Two levels of 256 directories keep each directory small at tens of millions of chunks."""
    name = token.hex()
    return chunks_dir / name[:2] / name[2:4] / name


def is_chunk_name(name: str) -> bool:
    return _TOKEN_NAME.fullmatch(name) is not None


def temp_name(token: bytes, prefix: str = TEMP_PREFIX) -> str:
    """Unique per writer, so concurrent puts of one token (any process) never share a file."""
    return f"{prefix}{token.hex()}-{os.getpid()}-{os.urandom(6).hex()}"


def pack_header(compression: Compression, plain_length: int, stored_length: int) -> bytes:
    return HEADER.pack(MAGIC, VERSION, _CODES[Compression(compression)], 0, plain_length, stored_length)


def unpack_header(token: bytes, raw: bytes, file_size: int) -> Header:
    """Parse and sanity-check a header; ChunkCorrupt if the file can not be this chunk."""
    if len(raw) < HEADER_SIZE:
        raise corrupt(token, f"file of {file_size} bytes is shorter than its header")
    magic, version, code, _reserved, plain_length, stored_length = HEADER.unpack_from(raw)
    if magic != MAGIC or version != VERSION or code not in _BY_CODE:
        raise corrupt(token, f"bad header (magic {magic!r}, version {version}, compression {code})")
    if plain_length > MAX_PLAIN_LENGTH or stored_length > MAX_STORED_LENGTH:
        raise corrupt(token, f"header lengths out of range ({plain_length}, {stored_length})")
    if file_size != HEADER_SIZE + stored_length:
        raise corrupt(token, f"file is {file_size} bytes, header says {HEADER_SIZE + stored_length}")
    return Header(_BY_CODE[code], plain_length, stored_length)
