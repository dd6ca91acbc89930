"""EBS block tokens, page tokens and checksums, in the alphabet EBS allows ([A-Za-z0-9+/=]).

A BlockToken is base64 of the block's BLAKE3 chunk token (the same identity the gRPC
ListBlocks returns), or of 32 zero bytes for a block written as zeros. It is opaque to
clients and scoped by checking, not by secrecy: GetSnapshotBlock serves it only when the
caller's own snapshot holds exactly that token at that index, so a token copied from
another account, another snapshot or another index is INVALID_BLOCK_TOKEN (or the
snapshot is simply not found). Equal tokens mean equal data, as in EBS.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

from ebs_facade.errors import InvalidBlockToken, InvalidPageToken

TOKEN_BYTES = 32
ZERO_TOKEN = bytes(TOKEN_BYTES)


def block_token(token: bytes | None) -> str:
    """None (written zeros) or a 32-byte chunk token -> BlockToken."""
    return base64.b64encode(token or ZERO_TOKEN).decode()


def parse_block_token(text: str, where: str) -> bytes | None:
    try:
        raw = base64.b64decode(text.encode(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != TOKEN_BYTES:
        raise InvalidBlockToken(f"block token {text[:60]!r} for {where} is malformed")
    return None if raw == ZERO_TOKEN else raw


def page_token(ours: str) -> str:
    """Our base64url page token re-encoded in EBS's alphabet ("" stays "")."""
    return base64.b64encode(ours.encode()).decode() if ours else ""


def parse_page_token(text: str) -> str:
    if not text:
        return ""
    try:
        return base64.b64decode(text.encode(), validate=True).decode("ascii")
    except (binascii.Error, ValueError):
        raise InvalidPageToken(f"page token {text[:60]!r} is malformed") from None


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()
