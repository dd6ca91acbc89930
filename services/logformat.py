"""Log output of the server commands: `--log-format text` (default) or `json`.

JSON lines carry `ts` (RFC 3339, UTC), `level`, `logger`, `message` and, when present,
`exc` and the figures a line was logged with (`extra={"fields": {...}}`, e.g. the per-RPC
lines of services/rpclog.py): one object per line, for collectors that parse logs. Tokens never reach a log
line in either format (services/auth.py logs no metadata).
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FORMATS = ("text", "json")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc)
                          .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in getattr(record, "fields", {}).items():
            entry.setdefault(key, value)       # never over the standard keys
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str, fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"--log-format {fmt!r}: expected one of {', '.join(FORMATS)}")
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # aiosqlite logs every statement with its parameters at DEBUG: token hashes, ids,
    # labels. --log-level DEBUG is for our own loggers; keep that one at INFO or above.
    logging.getLogger("aiosqlite").setLevel(max(logging.INFO, root.level))
