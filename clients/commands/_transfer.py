"""Options and output shared by upload, backup and download.

Human mode prints the id the command produced on stdout (so `id=$(blockstore backup ...)`
works) and the summary line on stderr; `--json` prints one object on stdout instead.
"""

from __future__ import annotations

import argparse
import os
import sys

from blockstore.malloc import reuse_freed_buffers
from clients import render
from clients.cli import UsageError
from clients.progress import progress_bar
from clients.transfer import TransferStats, Tuning
from clients.transfer.image import file_size
from clients.transfer.tuning import MIB


def add_tuning(parser: argparse.ArgumentParser, *, compress: bool) -> None:
    group = parser.add_argument_group("transfer")
    group.add_argument("--streams", type=_positive_int, default=2,
                       help="parallel gRPC streams (default %(default)s)")
    group.add_argument("--max-inflight", type=_positive_int, default=256, metavar="MiB",
                       help="chunk data held in memory at once, all streams together "
                            "(default %(default)s); sets chunks per stream")
    if compress:
        group.add_argument("--compress-level", type=int, default=1, choices=range(0, 23),
                           metavar="0..22", help="zstd level for sent data, 0 = off "
                                                 "(default %(default)s)")
    group.add_argument("--threads", type=int, default=0, metavar="N",
                       help="hashing/compression threads (default: one per CPU)")
    group.add_argument("--no-progress", action="store_true",
                       help="no progress bar even on a terminal")


def tuning(args) -> Tuning:
    reuse_freed_buffers()
    return Tuning(streams=args.streams, max_inflight=args.max_inflight * MIB,
                  compress_level=getattr(args, "compress_level", 1), workers=args.threads)


def bar(args, total: int, label: str):
    return progress_bar(total, label, enabled=False if args.no_progress or args.json else None)


def image_size(path: str) -> int:
    try:
        return file_size(path)
    except OSError as err:
        raise UsageError(f"cannot read image {path}: {err.strerror}") from err


def check_fits(path: str, size: int, volume_size: int, what: str) -> None:
    if size > volume_size:
        raise UsageError(f"image {path} has {size} bytes, more than the {volume_size} "
                         f"bytes of {what}")


def finish(args, stats: TransferStats, verb: str, ids: dict, printed_id: str,
           moved: str = "sent") -> None:
    """The final output: JSON object, or the id on stdout and the summary on stderr."""
    if args.json:
        render.print_json({**ids, **stats.to_dict()})
        return
    print(printed_id)
    print(stats.summary(verb, moved), file=sys.stderr)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def is_device(path: str) -> bool:
    """An existing path that is not a regular file (a block device): written in place."""
    try:
        return not os.path.isfile(path) and os.path.exists(path) and not os.path.isdir(path)
    except OSError:
        return False
