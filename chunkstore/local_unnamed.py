"""Unnamed chunk files (Linux O_TMPFILE): written and fsynced before they have any name.

Why: a new chunk then costs one directory entry (its final name, given by `linkat`)
instead of three (a temp name created, renamed or linked to the chunk's name, removed),
the file's fsync has no new entry to write with it (ext4 without a journal writes the
parent directory's block at the fsync of each newly named file), and a crash leaves no
temp file: an inode that never got a name is freed by the kernel.

The rule kept: a chunk's name is only ever given to a complete, fsynced file.

Support is probed once per store (`probe`): O_TMPFILE needs a filesystem that has it
(ext4, XFS, btrfs, tmpfs; not NFS, SMB or most FUSE mounts), and naming the file needs
`linkat(fd, "", AT_EMPTY_PATH)` (before Linux 6.10 only with CAP_DAC_READ_SEARCH) or
`linkat` of `/proc/self/fd/N` with AT_SYMLINK_FOLLOW (refused with EXDEV in some
containers). When neither works the store uses named temp files (`local_batch.py`).
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
from pathlib import Path
from typing import Callable

from chunkstore.fileformat import TEMP_PREFIX

Linker = Callable[[int, Path], None]
"""Gives the unnamed file open as `fd` the name `dest`; FileExistsError if taken."""

# O_TMPFILE refused: no such flag (old kernels: EISDIR), or not on this filesystem.
UNSUPPORTED = {errno.EOPNOTSUPP, errno.ENOTSUP, errno.EISDIR, errno.EINVAL}
# A way of naming an open file that is not allowed here.
_NOT_ALLOWED = UNSUPPORTED | {errno.ENOENT, errno.EPERM, errno.EACCES, errno.EXDEV,
                              errno.ENOSYS}
_AT_FDCWD = -100
_AT_EMPTY_PATH = 0x1000


def open_unnamed(directory: Path) -> int:
    """A new file without a name in `directory`, open for writing (OSError if not)."""
    return os.open(directory, os.O_TMPFILE | os.O_WRONLY, 0o644)


@functools.cache
def _linkat() -> Callable[..., int]:
    linkat = ctypes.CDLL(None, use_errno=True).linkat       # a CDLL call releases the GIL
    linkat.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                       ctypes.c_int]
    return linkat


def _link_empty_path(fd: int, dest: Path) -> None:
    if _linkat()(fd, b"", _AT_FDCWD, os.fsencode(dest), _AT_EMPTY_PATH) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), str(dest))


def _link_proc(fd: int, dest: Path) -> None:
    os.link(f"/proc/self/fd/{fd}", dest, follow_symlinks=True)


def probe(directory: Path) -> Linker | None:
    """The first way of naming an unnamed file that works in `directory`, or None.

    Names one empty probe file (a temp name, removed at once) per way tried."""
    if not hasattr(os, "O_TMPFILE"):
        return None
    for link in (_link_empty_path, _link_proc):
        try:
            fd = open_unnamed(directory)
        except OSError as exc:
            if exc.errno in UNSUPPORTED:
                return None
            raise
        name = directory / f"{TEMP_PREFIX}probe-{os.getpid()}-{os.urandom(6).hex()}"
        try:
            link(fd, name)
        except (OSError, AttributeError) as exc:     # AttributeError: no linkat in libc
            if isinstance(exc, OSError) and exc.errno not in _NOT_ALLOWED:
                raise
            continue
        finally:
            os.close(fd)
        name.unlink()
        return link
    return None
