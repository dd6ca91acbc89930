"""Checks shared by every backend, so "verify on read" means the same thing everywhere.

Owns token and put validation, the bounds on lengths a header may claim, and
`verified_chunk`, the decode-and-BLAKE3 check of a stored payload. Rules: no backend
hands out bytes that did not pass `verified_chunk`; every backend reports a failure as
the same `ChunkCorrupt`, naming the chunk; a token is checked before it becomes a file
name or object key.
"""

from __future__ import annotations

from blockstore.errors import ChunkCorrupt

from chunkstore.codec import TOKEN_LENGTH, DecodeError, blake3_token, decode
from chunkstore.protocol import Compression, StoredChunk

# Far above the largest chunk size (4 MiB): a header claiming more is corrupt, and a
# bogus length can never make a reader allocate gigabytes.
MAX_PLAIN_LENGTH = 64 << 20
MAX_STORED_LENGTH = MAX_PLAIN_LENGTH + (1 << 20)


def check_token(token: bytes) -> bytes:
    """Reject anything that is not a 32-byte token before it becomes a file name or key."""
    if not isinstance(token, (bytes, bytearray)) or len(token) != TOKEN_LENGTH:
        raise ValueError(f"chunk token must be {TOKEN_LENGTH} bytes, got {token!r:.80}")
    return bytes(token)


def check_put(token: bytes, payload: bytes, compression: Compression, plain_length: int) -> None:
    """Cheap structural checks on a put; the caller has already verified the BLAKE3."""
    check_token(token)
    compression = Compression(compression)
    if not 0 <= plain_length <= MAX_PLAIN_LENGTH:
        raise ValueError(f"chunk {token.hex()}: plain_length {plain_length} out of range")
    if len(payload) > MAX_STORED_LENGTH:
        raise ValueError(f"chunk {token.hex()}: payload of {len(payload)} bytes is too large")
    if compression is Compression.NONE and len(payload) != plain_length:
        raise ValueError(
            f"chunk {token.hex()}: raw payload is {len(payload)} bytes, plain_length {plain_length}"
        )


def corrupt(token: bytes, why: str) -> ChunkCorrupt:
    """The error every backend raises for a chunk that fails verification."""
    return ChunkCorrupt(f"chunk {token.hex()} is corrupt: {why}", token=token.hex(), cause=why)


def verified_chunk(
    token: bytes, compression: Compression, payload: bytes | memoryview, plain_length: int
) -> StoredChunk:
    """Decode and hash a stored payload (bytes or a view of a buffer); ChunkCorrupt unless
    it is exactly `token`."""
    try:
        plain = decode(compression, payload, plain_length)
    except DecodeError as exc:
        raise corrupt(token, str(exc)) from exc
    if blake3_token(plain) != token:
        raise corrupt(token, "BLAKE3 of the plain bytes does not match the token")
    # An uncompressed payload is the plain bytes (already a copy if it was a view).
    stored = plain if Compression(compression) is Compression.NONE else bytes(payload)
    return StoredChunk(token, Compression(compression), plain_length, stored, plain)
