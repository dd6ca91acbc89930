"""The local backend's two ways of writing a new chunk file: unnamed (O_TMPFILE, then
`linkat`) where the filesystem has it, named temp files elsewhere (local_batch.py)."""

from __future__ import annotations

import errno
import multiprocessing
import os
import signal
from pathlib import Path

import pytest

from chunkstore import ChunkPut, LocalChunkStore, local_unnamed
from chunkstore.local_batch import FilePut, put_files
from chunkstore.protocol import Compression
from tests.chunkstore.conftest import make_chunk


@pytest.fixture(params=["unnamed", "named"])
def local(request, tmp_path: Path) -> LocalChunkStore:
    store = LocalChunkStore(tmp_path, unnamed_files=request.param == "unnamed")
    if request.param == "unnamed" and not store.unnamed_files:
        pytest.skip("this filesystem (or kernel) can not name an O_TMPFILE file")
    return store


def put_of(chunk, overwrite: bool = False) -> ChunkPut:
    token, compression, payload, plain = chunk
    return ChunkPut(token, payload, compression, len(plain), overwrite)


async def test_every_kind_of_put_leaves_only_the_chunks_name(local):
    chunk = make_chunk(60)
    assert await local.put_many([put_of(chunk, overwrite=True)]) == [True]
    assert await local.put_many([put_of(chunk)]) == [False]
    before = local.path_of(chunk[0]).stat().st_ino
    assert await local.put_many([put_of(chunk, overwrite=True)]) == [True]
    assert local.path_of(chunk[0]).stat().st_ino != before, "an overwrite is a new file"
    assert os.listdir(local.path_of(chunk[0]).parent) == [chunk[0].hex()]
    assert (await local.get(chunk[0])).plain == chunk[3]


async def test_a_broken_copy_is_replaced_by_a_plain_put(local):
    """A file whose header is broken is replaced (its name is taken, so an unnamed
    file goes through a temp name and a rename) and no temp name is left."""
    chunk = make_chunk(61)
    await local.put_many([put_of(chunk)])
    local.path_of(chunk[0]).write_bytes(b"BSC")
    assert await local.put_many([put_of(chunk)]) == [True]
    assert (await local.get(chunk[0])).plain == chunk[3]
    assert os.listdir(local.path_of(chunk[0]).parent) == [chunk[0].hex()]


def _crash_before_naming(root: str, seed: int, unnamed: bool) -> None:
    """Writes and fsyncs the chunk's file, then dies by SIGKILL before it has its name."""
    store = LocalChunkStore(Path(root), unnamed_files=unnamed)
    token, compression, payload, plain = make_chunk(seed)

    def killed(_fd: int, _dest: Path) -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    put_files([FilePut(token, store.path_of(token), payload, Compression(compression),
                       len(plain), True)], True, killed if unnamed else None)


def _crash_named(root: str, seed: int) -> None:
    """The named way names an overwrite by `os.replace`: it dies there instead."""
    os.replace = lambda *_: os.kill(os.getpid(), signal.SIGKILL)      # noqa: E731
    _crash_before_naming(root, seed, unnamed=False)


async def test_a_crash_before_naming_leaves_no_file_when_unnamed(local, tmp_path):
    """A real SIGKILL between the fsync and the naming: an unnamed file is freed by the
    kernel (nothing to sweep), a named temp file stays for GC's sweep."""
    ctx = multiprocessing.get_context("spawn")
    unnamed = local.unnamed_files
    child = ctx.Process(target=_crash_before_naming if unnamed else _crash_named,
                        args=(str(tmp_path), 62, True) if unnamed else (str(tmp_path), 62))
    child.start()
    child.join(60)
    assert child.exitcode == -signal.SIGKILL
    chunk = make_chunk(62)
    left = os.listdir(local.path_of(chunk[0]).parent)
    if unnamed:
        assert left == [], "an unnamed file dies with its writer"
    else:
        assert len(left) == 1 and left[0].startswith(".tmp-"), left
    assert await local.contains_many([chunk[0]]) == set()
    assert await local.put_many([put_of(chunk)]) == [True]
    assert (await local.get(chunk[0])).plain == chunk[3]


@pytest.mark.parametrize("code", [errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL])
async def test_a_filesystem_without_o_tmpfile_gets_named_temp_files(tmp_path, monkeypatch, code):
    """No filesystem here lacks O_TMPFILE, so its refusal is simulated (NFS answers
    EOPNOTSUPP; kernels before 3.11 EISDIR): the store takes the named way and works."""
    def refused(directory: Path) -> int:
        raise OSError(code, os.strerror(code), str(directory))

    monkeypatch.setattr(local_unnamed, "open_unnamed", refused)
    store = LocalChunkStore(tmp_path)
    assert not store.unnamed_files
    chunk = make_chunk(63)
    assert await store.put_many([put_of(chunk, overwrite=True)]) == [True]
    assert (await store.get(chunk[0])).plain == chunk[3]
    assert os.listdir(tmp_path / "chunks") != [] and not list(tmp_path.rglob(".tmp-*"))


async def test_the_probe_skips_a_way_of_naming_that_is_refused(tmp_path, monkeypatch):
    """linkat(AT_EMPTY_PATH) without the capability answers ENOENT (kernels before
    6.10); /proc/self/fd links answer EXDEV in some containers. The probe takes a way
    that works or none, and leaves no probe file."""
    def refused(_fd: int, dest: Path) -> None:
        raise OSError(errno.ENOENT, "refused", str(dest))

    monkeypatch.setattr(local_unnamed, "_link_empty_path", refused)
    link = local_unnamed.probe(tmp_path)
    assert link is not refused and os.listdir(tmp_path) == []
    store = LocalChunkStore(tmp_path)
    assert store.unnamed_files == (link is not None)
    chunk = make_chunk(64)
    assert await store.put_many([put_of(chunk)]) == [True]
    assert (await store.get(chunk[0])).plain == chunk[3]
