"""`blockstore backup FILE --volume ID`: an incremental UPLOAD snapshot of a local image.

An UPLOAD snapshot starts with the volume's content, which for a volume written only by
backups is its previous snapshot's. The upload compares the image with what the pending
snapshot holds now (`ListBlocks` of the snapshot itself), so it sends only chunks that
changed since the parent, and on a rerun after an interruption also skips everything
already committed into it. Resuming: the earliest PENDING UPLOAD snapshot of the volume
is continued instead of creating a new one.
"""

from __future__ import annotations

import argparse
import sys
import time

from blockstore.v1 import common_pb2 as pb
from clients import render
from clients.commands import _args, _transfer
from clients.exitcodes import ExitCode
from clients.transfer import TransferStats, snapshot_target, upload_image


def register(subparsers, common) -> None:
    p = subparsers.add_parser("backup", parents=[common],
                              help="back up a local image as an incremental upload snapshot",
                              description=__doc__.splitlines()[0].replace("`", ""))
    p.add_argument("file", metavar="FILE", help="image file or block device")
    p.add_argument("--volume", required=True, metavar="ID", help="the volume backed up")
    p.add_argument("--description", default="", help="of a new snapshot")
    p.add_argument("--label", type=_args.label, action="append", default=[], metavar="K=V")
    _transfer.add_tuning(p, compress=True)
    # Tests: stop cleanly, as after Ctrl-C, once N upload streams committed.
    p.add_argument("--stop-after-streams", type=int, default=None, help=argparse.SUPPRESS)
    p.set_defaults(handler=backup)


async def backup(client, args) -> int | None:
    size = _transfer.image_size(args.file)
    snap, resumed = await pending_or_new(client, args)
    _transfer.check_fits(args.file, size, snap.size_bytes, f"snapshot {snap.snapshot_id}")
    sid = snap.snapshot_id
    reporter = ProgressReporter(client, sid, snap.size_bytes, snap.progress)
    with _transfer.bar(args, snap.size_bytes, "backup") as bar:
        stats = await upload_image(client, args.file, snap.size_bytes, snap.chunk_size,
                                   snapshot_target(sid, snap.version),
                                   tuning=_transfer.tuning(args),
                                   compare_with={"snapshot_id": sid},
                                   on_progress=bar.advance, on_commit=reporter.report,
                                   stop_after_streams=args.stop_after_streams)
    ids = {"snapshot_id": sid, "volume_id": snap.volume_id,
           "parent_snapshot_id": snap.parent_snapshot_id, "resumed": resumed}
    if stats.logical_bytes < snap.size_bytes:
        return _stopped(args, stats, ids)
    await client.report_snapshot_progress(sid, 1.0)
    _transfer.finish(args, stats, "backed up", {**ids, "complete": True}, sid)
    return None


async def pending_or_new(client, args):
    """(snapshot, resumed): the earliest pending UPLOAD snapshot, else a new one."""
    pending = [s async for s in client.list_snapshots(args.volume)
               if s.state == pb.SNAPSHOT_STATE_PENDING and s.mode == pb.SNAPSHOT_MODE_UPLOAD]
    if pending:
        return min(pending, key=lambda s: s.version), True
    snap = await client.create_snapshot(args.volume, mode="upload",
                                        description=args.description, labels=dict(args.label))
    return snap, False


class ProgressReporter:
    """ReportSnapshotProgress as streams commit: at most once a second, never backwards,
    and below 1.0 (which would complete the snapshot) until everything is in."""

    def __init__(self, client, snapshot_id: str, total: int, reported: float,
                 interval: float = 1.0) -> None:
        self.client, self.snapshot_id, self.total = client, snapshot_id, max(total, 1)
        self.reported, self.interval = reported, interval
        self.last, self.busy = 0.0, False

    async def report(self, stats: TransferStats) -> None:
        fraction = min(0.999, stats.logical_bytes / self.total)
        now = time.monotonic()
        if self.busy or fraction <= self.reported or now - self.last < self.interval:
            return
        self.busy, self.last = True, now
        try:
            await self.client.report_snapshot_progress(self.snapshot_id, fraction)
            self.reported = fraction
        finally:
            self.busy = False


def _stopped(args, stats: TransferStats, ids: dict) -> int:
    """Stopped before the end (test hook): the snapshot stays pending, a rerun resumes it."""
    if args.json:
        render.print_json({**ids, "complete": False, **stats.to_dict()})
    else:
        print(f"stopped after {stats.streams} streams; snapshot {ids['snapshot_id']} is "
              f"pending: run the same command again to resume it", file=sys.stderr)
    return int(ExitCode.INTERRUPTED)
