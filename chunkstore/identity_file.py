"""The local backend's identity file, `<root>/identity`: which manifest the store belongs to.

Written once when the store is bound (services/identity.py), read at every start. It is
replaced whole or not at all: a temp file is written and fsynced, renamed over the old
name, and the directory fsynced, so a crash leaves the old identity or the new one,
never an empty file that would make a bound store look unbound.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from chunkstore.local_io import fsync_dir

NAME = "identity"


def read_identity(root: Path) -> str | None:
    try:
        text = (root / NAME).read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    except UnicodeDecodeError:
        text = ""
    if not text or not text.isprintable() or " " in text:
        raise ValueError(f"chunk store identity file {root / NAME} is unreadable; "
                         "restore it from a backup")
    return text


def write_identity(root: Path, identity: str, durable: bool) -> None:
    tmp = root / f".{NAME}.{secrets.token_hex(6)}"
    try:
        with open(tmp, "x", encoding="ascii") as f:
            f.write(identity + "\n")
            f.flush()
            if durable:
                os.fsync(f.fileno())
        os.replace(tmp, root / NAME)
    finally:
        tmp.unlink(missing_ok=True)
    if durable:
        fsync_dir(root)
