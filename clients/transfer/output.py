"""The output of a download (a file or block device): holes, zeros and write-behind.

Rules kept: a range is made zero by punching a hole where the filesystem can, else by
writing zeros; written data is handed to the kernel's writeback at once
(`start_writeback`), so the caller's closing fsync waits for little instead of the
whole image. Durability is still that fsync's job: starting writeback promises nothing.
"""

from __future__ import annotations

import ctypes
import errno
import os

from clients.transfer.tuning import MIB

_FALLOC_PUNCH = 0x01 | 0x02     # FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE
_SYNC_FILE_RANGE_WRITE = 0x02
_libc = ctypes.CDLL(None, use_errno=True)    # the loaded C library; no ldconfig lookup
_sync_file_range = getattr(_libc, "sync_file_range", None)     # Linux only


def fill_zeros(fd: int, offset: int, length: int, punch: bool) -> None:
    """Make [offset, offset+length) read as zeros: punch a hole, else write zeros."""
    if punch and _libc.fallocate(fd, _FALLOC_PUNCH, ctypes.c_long(offset),
                                 ctypes.c_long(length)) == 0:
        return
    zeros = bytes(min(length, 4 * MIB))
    end = offset + length
    while offset < end:
        n = min(len(zeros), end - offset)
        os.pwrite(fd, zeros[:n], offset)
        offset += n


def can_punch(fd: int) -> bool:
    """True for a regular file on a filesystem with hole punching (probed harmlessly)."""
    if not os.path.isfile(f"/proc/self/fd/{fd}"):
        return False
    size = os.fstat(fd).st_size
    rc = _libc.fallocate(fd, _FALLOC_PUNCH, ctypes.c_long(size), ctypes.c_long(1))
    return rc == 0 or ctypes.get_errno() not in (errno.EOPNOTSUPP, errno.ENOSYS)


def output_size(fd: int) -> int:
    return os.lseek(fd, 0, os.SEEK_END)


def start_writeback(fd: int, offset: int, length: int) -> None:
    """Start writing [offset, offset+length) to the device now, without waiting.

    A download writes faster than the page cache flushes by itself, so without this
    the closing fsync wrote the whole image (~0.4 s per GiB here) after the transfer;
    now the disk works while the transfer runs. Called per request range (tens of
    MiB): per 1 MiB block it cost about twice the kernel time. Advisory: failure is
    ignored.
    """
    if _sync_file_range is not None:
        _sync_file_range(fd, ctypes.c_longlong(offset), ctypes.c_longlong(length),
                         ctypes.c_uint(_SYNC_FILE_RANGE_WRITE))
