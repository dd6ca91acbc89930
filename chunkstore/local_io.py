"""Blocking file operations of the local backend; `local.py` runs them off the event loop.

Here: reading chunk files, directories made durable, the no-clobber link, and the GC
delete that can not lose a chunk a put has just refreshed. The insert protocol itself
(what makes a put atomic and durable) is `local_batch.py`.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from blockstore.errors import ChunkCorrupt, ChunkMissing

from chunkstore.fileformat import HEADER_SIZE, TRASH_PREFIX, Header
from chunkstore.fileformat import is_chunk_name, temp_name, unpack_header
from chunkstore.verify import corrupt

# Filesystems without hard links (some FUSE/SMB mounts) fall back to a clobbering rename.
_NO_LINK = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK}


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_dir(path: Path, durable: bool) -> None:
    """mkdir -p that fsyncs each parent it adds an entry to, so new chunks stay reachable."""
    if path.is_dir():
        return
    parents: set[Path] = set()
    make_dirs(path, parents)
    if durable:
        for parent in parents:
            fsync_dir(parent)


def make_dirs(path: Path, parents: set[Path]) -> None:
    """mkdir -p; adds to `parents` each directory that got a new entry (to fsync)."""
    if path.is_dir():
        return
    make_dirs(path.parent, parents)
    try:
        os.mkdir(path)
    except FileExistsError:
        return
    parents.add(path.parent)


def read_header(token: bytes, path: Path) -> tuple[Header, os.stat_result]:
    """Header and stat of a chunk file; FileNotFoundError if absent, ChunkCorrupt if broken."""
    with open(path, "rb") as f:
        st = os.fstat(f.fileno())
        return unpack_header(token, f.read(HEADER_SIZE), st.st_size), st


def read_chunk(token: bytes, path: Path) -> tuple[Header, bytes]:
    """Header and payload; the read is bounded by the (sanity-checked) header."""
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            header = unpack_header(token, f.read(HEADER_SIZE), st.st_size)
            payload = f.read(header.stored_length + 1)
    except FileNotFoundError:
        raise ChunkMissing(f"chunk {token.hex()} is missing", token=token.hex()) from None
    if len(payload) != header.stored_length:
        raise corrupt(token, f"payload is {len(payload)} bytes, header says {header.stored_length}")
    return header, payload


def existing_is_sound(token: bytes, path: Path) -> bool | None:
    """Refresh an existing chunk's mtime: None if absent, False if its file is broken."""
    try:
        os.utime(path)
        read_header(token, path)
    except FileNotFoundError:
        return None
    except ChunkCorrupt:
        return False
    return True


def write_all(fd: int, header: bytes, payload: bytes) -> None:
    written = os.writev(fd, [header, payload])     # one syscall in the common case
    if written < len(header) + len(payload):         # a short write: finish plainly
        rest = memoryview(header + payload)[written:]
        while rest:
            rest = rest[os.write(fd, rest):]


def link_no_clobber(tmp: Path, final: Path) -> bool:
    """Link unless the chunk exists (then refresh it); retried if GC removes it meanwhile."""
    for _ in range(3):
        try:
            os.link(tmp, final)
            return True
        except FileExistsError:
            pass
        except OSError as exc:
            if exc.errno not in _NO_LINK:
                raise
            os.replace(tmp, final)
            return True
        try:
            os.utime(final)
            return False
        except FileNotFoundError:
            continue
    raise OSError(errno.EAGAIN, f"chunk file {final} keeps vanishing during put")


def delete_if_older(token: bytes, path: Path, older_than: float, durable: bool = True) -> bool:
    """GC delete that can not lose a chunk a concurrent put has just refreshed.

    The chunk is first renamed aside (atomic); a put that refreshed its mtime before the
    rename is seen in the renamed file's mtime and the chunk is put back, and a put after
    the rename finds it absent and writes it again. A put-back is made durable (the
    directory fsynced) before the trash name goes: otherwise a power cut could keep the
    unlink and lose the link, and the chunk with both names. A crash between the rename
    and the link back leaves the chunk under its trash name only: `restore_trash`, run
    by GC before it removes anything, puts it back.
    """
    trash = path.parent / temp_name(token, TRASH_PREFIX)
    try:
        os.rename(path, trash)
    except FileNotFoundError:
        return False
    try:
        if os.stat(trash).st_mtime < older_than:
            return True              # losing this unlink to a power cut only brings back garbage
        _link_back(trash, path)
        if durable:
            fsync_dir(path.parent)
        return False
    finally:
        trash.unlink(missing_ok=True)


def _link_back(trash: Path, path: Path) -> None:
    try:
        os.link(trash, path)
    except FileExistsError:
        pass                         # a put wrote it afresh meanwhile
    except OSError as exc:
        if exc.errno not in _NO_LINK:
            raise
        os.rename(trash, path)       # no hard links here: same content, so clobbering is fine


def restore_trash(trash: Path, durable: bool) -> bool:
    """Give a chunk found only under a trash name (`.trash-<token>-...`) its name back.

    Left by a GC delete that crashed between its rename and its link back. The chunk may
    have been garbage (the delete had decided) or a chunk a put had just refreshed;
    restoring it is right in both cases: garbage is swept again by a later run.
    """
    final = trash.parent / trash.name[len(TRASH_PREFIX):len(TRASH_PREFIX) + 64]
    if not is_chunk_name(final.name) or final.exists():
        return False
    try:
        _link_back(trash, final)
    except FileNotFoundError:
        return False                 # another sweeper got there first
    if durable:
        fsync_dir(final.parent)
    return True
