"""Gateway counters and the `--json-status` file (rewritten atomically, also on SIGUSR1)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass
class Stats:
    mode: str = "primary"
    volume_id: str = ""
    uri: str = ""
    cache_hits: int = 0
    cache_misses: int = 0
    cache_bytes: int = 0
    dirty_chunks: int = 0
    dirty_bytes: int = 0
    flushes: int = 0
    flush_errors: int = 0
    chunks_uploaded: int = 0
    shadow_backlog_chunks: int = 0
    shadow_backlog_bytes: int = 0
    bootstrap_done: bool = False
    snapshots_taken: int = 0
    last_error: str = ""

    def write(self, path: Path) -> None:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(asdict(self), sort_keys=True) + "\n")
        os.replace(tmp, path)
