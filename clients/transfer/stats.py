"""What a transfer did, for the summary line, `--json` and tests.

Savings are counted in logical bytes: `unchanged` (already at that offset remotely, not
sent at all), `dedup` (sent as a reference to a chunk the account holds), `zero` (sent
as a zero block) and `compression` (data bytes minus their wire size).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

from blockstore.v1 import data_plane_pb2 as dp
from clients.transfer.image import DATA, REFERENCE, ZERO, Chunk


@dataclass
class TransferStats:
    logical_bytes: int = 0         # image bytes covered (sent or found unchanged)
    sent_bytes: int = 0            # block payload bytes put on the wire
    sent_blocks: int = 0           # blocks put in committed streams (any kind)
    data_blocks: int = 0
    data_bytes: int = 0            # plain bytes of the data blocks
    reference_blocks: int = 0
    reference_bytes: int = 0
    zero_blocks: int = 0           # sent as zero, or zeros already there
    zero_bytes: int = 0
    unchanged_blocks: int = 0      # data equal to what the target held: not sent
    unchanged_bytes: int = 0
    streams: int = 0               # upload streams committed / download requests done
    server_bytes_received: int = 0
    server_bytes_stored: int = 0
    server_dedup_hits: int = 0
    started: float = field(default_factory=time.monotonic)
    seconds: float = 0.0

    def count_unchanged(self, chunk: Chunk) -> None:
        """Not sent: already there. Zeros over zeros count as zero savings."""
        self.logical_bytes += chunk.length
        if chunk.token is None:
            self.zero_blocks += 1
            self.zero_bytes += chunk.length
        else:
            self.unchanged_blocks += 1
            self.unchanged_bytes += chunk.length

    def count_block(self, kind: str, length: int, wire: int) -> None:
        self.logical_bytes += length
        self.sent_bytes += wire
        self.sent_blocks += 1
        if kind == ZERO:
            self.zero_blocks += 1
            self.zero_bytes += length
        elif kind == REFERENCE:
            self.reference_blocks += 1
            self.reference_bytes += length
        elif kind == DATA:
            self.data_blocks += 1
            self.data_bytes += length

    def add_reply(self, reply: dp.UploadBlocksResponse) -> None:
        self.streams += 1
        self.server_bytes_received += reply.bytes_received
        self.server_bytes_stored += reply.bytes_stored
        self.server_dedup_hits += reply.dedup_hits

    def finish(self) -> "TransferStats":
        self.seconds = time.monotonic() - self.started
        return self

    def mb_per_s(self) -> float:
        return self.logical_bytes / self.seconds / 1e6 if self.seconds > 0 else 0.0

    def to_dict(self) -> dict:
        out = {k: v for k, v in asdict(self).items() if k != "started"}
        out["compression_saved_bytes"] = max(0, self.data_bytes - self.sent_bytes)
        out["mb_per_s"] = round(self.mb_per_s(), 1)
        out["seconds"] = round(self.seconds, 3)
        return out

    def summary(self, verb: str, moved: str = "sent") -> str:
        """One line for people: what moved, what was saved, how fast."""
        saved = [f"unchanged {_mib(self.unchanged_bytes)}" if self.unchanged_bytes else "",
                 f"dedup {_mib(self.reference_bytes)}" if self.reference_bytes else "",
                 f"zero {_mib(self.zero_bytes)}" if self.zero_bytes else "",
                 f"compression {_mib(self.data_bytes - self.sent_bytes)}"
                 if self.data_bytes > self.sent_bytes else ""]
        saved_text = ", ".join(s for s in saved if s) or "nothing"
        return (f"{verb} {_mib(self.logical_bytes)} logical, {_mib(self.sent_bytes)} {moved} "
                f"(saved: {saved_text}) in {self.seconds:.1f} s, {self.mb_per_s():.0f} MB/s")


def _mib(n: int) -> str:
    return f"{n / (1 << 20):.1f} MiB"
