"""`blockstore download (--volume ID | --snapshot ID) OUT`: restore to a file or device.

A file is written sparse (pre-sized, zero blocks left as holes) under OUT.partial-<random>
and renamed to OUT only when complete and synced, so OUT is never half-written. A block
device is written in place, zeros included. `--incremental-from BASE` updates an existing
copy of snapshot BASE in place, writing only the chunks that differ (ListChangedBlocks).
"""

from __future__ import annotations

import contextlib
import os
import secrets

from clients.cli import UsageError
from clients.commands import _transfer
from clients.transfer import changed_ranges, download_to_fd


def register(subparsers, common) -> None:
    p = subparsers.add_parser("download", parents=[common],
                              help="restore a volume or snapshot to a file or block device",
                              description=__doc__.splitlines()[0].replace("`", ""))
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--volume", metavar="ID", help="the volume's current content")
    source.add_argument("--snapshot", metavar="ID", help="a snapshot")
    p.add_argument("out", metavar="OUT", help="output file or block device")
    p.add_argument("--incremental-from", metavar="SNAPSHOT_ID", default="",
                   help="OUT holds this snapshot: write only what changed since")
    _transfer.add_tuning(p, compress=False)
    p.set_defaults(handler=download)


async def download(client, args) -> None:
    if args.incremental_from and not args.snapshot:
        raise UsageError("--incremental-from needs --snapshot (changes are between snapshots)")
    src = await (client.get_snapshot(args.snapshot) if args.snapshot
                 else client.get_volume(args.volume))
    source = {"snapshot_id": args.snapshot} if args.snapshot else {"volume_id": args.volume}
    if args.incremental_from:
        stats = await _incremental(client, args, src, source)
    elif _transfer.is_device(args.out):
        stats = await _into(client, args, src, source, args.out, fill=True)
    else:
        stats = await _fresh_file(client, args, src, source)
    _transfer.finish(args, stats, "downloaded", {**source, "out": args.out}, args.out,
                     moved="received")


async def _fresh_file(client, args, src, source):
    """Into OUT.partial-<random>, pre-sized and sparse; renamed to OUT when complete."""
    tmp = f"{args.out}.partial-{secrets.token_hex(4)}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except OSError as err:
        raise UsageError(f"cannot create {tmp}: {err.strerror}") from err
    try:
        try:
            os.ftruncate(fd, src.size_bytes)
            stats = await _run(client, args, src, source, fd, fill=False)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, args.out)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return stats


async def _incremental(client, args, src, source):
    """Only the chunks that differ from --incremental-from, written into OUT in place."""
    if not os.path.exists(args.out):
        raise UsageError(f"{args.out} does not exist: --incremental-from updates an old copy")
    offsets = [c.offset async for c in client.list_changed_blocks(
        args.snapshot, base_snapshot_id=args.incremental_from, page_size=10_000)]
    ranges = changed_ranges(offsets, src.chunk_size, src.size_bytes)
    return await _into(client, args, src, source, args.out, fill=True, ranges=ranges,
                       resize=not _transfer.is_device(args.out))


async def _into(client, args, src, source, path, *, fill, ranges=None, resize=False):
    try:
        fd = os.open(path, os.O_WRONLY)
    except OSError as err:
        raise UsageError(f"cannot open {path} for writing: {err.strerror}") from err
    try:
        if resize:
            os.ftruncate(fd, src.size_bytes)
        stats = await _run(client, args, src, source, fd, fill=fill, ranges=ranges)
        os.fsync(fd)
        return stats
    finally:
        os.close(fd)


async def _run(client, args, src, source, fd, *, fill, ranges=None):
    total = sum(n for _, n in ranges) if ranges is not None else src.size_bytes
    with _transfer.bar(args, total, "download") as bar:
        return await download_to_fd(client, fd, src.size_bytes, tuning=_transfer.tuning(args),
                                    chunk_size=src.chunk_size, ranges=ranges, fill=fill,
                                    on_progress=bar.advance, **source)
