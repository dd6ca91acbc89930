"""Protobuf wire-format pieces for messages framed by hand around a block's data (the
client's UploadBlocksRequest, the server's DownloadBlocksResponse), where the data is
appended after the generated class's encoding of the small fields to copy it once.

Rule: only the encoding of a varint lives here; each framer owns its field tags, and the
framed bytes are checked against the generated class by their tests.
"""

from __future__ import annotations


def varint(n: int) -> bytes:
    """`n` (>= 0) as a protobuf base-128 varint."""
    out = bytearray()
    while n > 0x7F:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)
