"""Which state of the volume the write-back log applies to (`DIR/VOL/basis`).

The log's records are writes on top of the volume as this gateway last committed it.
If another writer changed the volume meanwhile (this directory's gateway crashed, its
lease expired, another gateway wrote), replaying the old records would paste stale
writes over newer data. So the gateway keeps the digest of the volume's chunk map
(`RemoteVolume.digest`) as of its last commit, and the one the stream in flight will give
(a crash may come before or after the service applied it). A commit of several streams
saves the pair before each stream, so a crash between two of them is covered too. A start whose log has records
while the volume matches neither is refused with `StaleLog`; nothing is replayed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path


class StaleLog(Exception):
    """The log was written against a state of the volume that is not the current one."""


class Basis:
    def __init__(self, path: Path) -> None:
        self.path = path

    def allowed(self) -> set[int] | None:
        """The digests the volume may have for the log to apply; None before any record."""
        try:
            saved = json.loads(self.path.read_text())
        except FileNotFoundError:
            return None
        return {int(saved[k], 16) for k in ("committed", "pending") if saved.get(k)}

    def save(self, committed: int, pending: int | None = None) -> None:
        """Durably (the check after a crash relies on it): temp file, fsync, rename."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "w") as f:
            json.dump({"committed": f"{committed:032x}",
                       "pending": f"{pending:032x}" if pending is not None else ""}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
