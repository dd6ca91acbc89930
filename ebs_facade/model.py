"""What the facade's domain code returns: plain records the routes turn into JSON.

Owns `ListedBlock`, `ChangedBlock`, `BlockPage`, `BlockData` and the GiB size rule.
Rule: no aiohttp or JSON here; the routes (ebs_facade/routes*.py) convert at the edge.
"""

from __future__ import annotations

from dataclasses import dataclass

KIB, GIB = 1 << 10, 1 << 30
BLOCK_SIZE = 512 * KIB        # EBS direct's block size; EBS-made volumes use it as chunk size


@dataclass(frozen=True)
class ListedBlock:
    index: int
    token: str                # BlockToken


@dataclass(frozen=True)
class ChangedBlock:
    index: int
    first: str | None         # None: the block is absent from that snapshot
    second: str | None


@dataclass(frozen=True)
class BlockPage:
    volume_size_gib: int
    blocks: list              # ListedBlock or ChangedBlock
    next_token: str


@dataclass(frozen=True)
class BlockData:
    data: bytes
    checksum: str             # SHA256, base64


def size_gib(size_bytes: int) -> int:
    """EBS reports sizes in GiB; a volume made through gRPC may end inside one."""
    return -(-size_bytes // GIB)
