"""The SQLite manifest file is private to its owner (mode 0600).

Owns `make_private`. Rule: the file and its -wal and -shm files are readable by their
owner only, from the moment the file exists.

It holds the SigV4 secret access keys as issued (a SigV4 verifier needs the secret
itself; docs/ebs.md), so no other local user may read it. A new file is created 0600
before SQLite opens it (SQLite gives its -wal and -shm files the database's mode); an
existing one that others can read (made before access keys existed) is tightened, with
its -wal and -shm files.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger("blockstore.manifest")
SIDE_FILES = ("", "-wal", "-shm")


def make_private(path: str) -> None:
    if not Path(path).exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    for suffix in SIDE_FILES:
        file = path + suffix
        try:
            mode = stat.S_IMODE(os.stat(file).st_mode)
        except FileNotFoundError:
            continue
        if mode & 0o077:
            os.chmod(file, mode & 0o700)
            log.warning("manifest file %s was readable by other users (mode %o); now %o",
                        Path(file).name, mode, mode & 0o700)
