"""`blockstore snapshot create|get|list|progress|delete|share|unshare|shares`.

Owns the snapshot subcommands' flags and output (sharing: clients/commands/sharing.py).
Rule: a command module parses, calls the client library, renders (clients/render.py).
"""

from __future__ import annotations

from blockstore.v1 import common_pb2
from clients import render
from clients.cli import UsageError
from clients.commands import _args, sharing
from clients.sizes import format_size


def register(subparsers, common) -> None:
    group = _args.add_group(subparsers, "snapshot", "manage snapshots")
    p = group.add_parser("create", parents=[common], help="snapshot a volume")
    p.add_argument("volume_id", nargs="?", help="the volume (or --volume)")
    p.add_argument("--volume", dest="volume_flag", metavar="VOLUME_ID",
                   help="the volume, as a flag (same as the positional argument)")
    p.add_argument("--mode", choices=["point-in-time", "upload"], default="point-in-time",
                   help="point-in-time freezes the remote volume; upload starts a backup")
    p.add_argument("--description", default="")
    p.add_argument("--label", type=_args.label, action="append", default=[], metavar="K=V")
    p.add_argument("--idempotency-key", default="", help="repeat-safe key (default: random)")
    p.set_defaults(handler=create)
    p = group.add_parser("get", parents=[common], help="show one snapshot")
    p.add_argument("snapshot_id")
    p.set_defaults(handler=get)
    p = group.add_parser("list", parents=[common], help="list snapshots")
    p.add_argument("--volume", default=None, metavar="VOLUME_ID", help="only this volume's")
    p.add_argument("--page-size", type=int, default=0, help="snapshots per request")
    p.add_argument("--shared-with-me", action="store_true",
                   help="snapshots other accounts share with this one instead")
    p.set_defaults(handler=list_)
    p = group.add_parser("progress", parents=[common],
                         help="report an upload snapshot's progress (1.0 or 100%% completes it)")
    p.add_argument("snapshot_id")
    p.add_argument("progress", type=_args.progress, help="0..1 or 0%%..100%%")
    p.set_defaults(handler=progress)
    p = group.add_parser("delete", parents=[common], help="delete a snapshot")
    p.add_argument("snapshot_id")
    p.add_argument("--allow-missing", action="store_true", help="succeed if it does not exist")
    p.set_defaults(handler=delete)
    sharing.register(group, common)


async def create(client, args) -> None:
    if bool(args.volume_id) == bool(args.volume_flag):
        raise UsageError("give the volume once: `snapshot create VOLUME_ID` or `--volume VOLUME_ID`")
    snap = await client.create_snapshot(args.volume_id or args.volume_flag, mode=args.mode,
                                        idempotency_key=args.idempotency_key,
                                        description=args.description, labels=dict(args.label))
    render.emit(args, render.to_dict(snap), lambda: _fields(snap))


async def get(client, args) -> None:
    snap = await client.get_snapshot(args.snapshot_id)
    render.emit(args, render.to_dict(snap), lambda: _fields(snap))


async def list_(client, args) -> None:
    if args.shared_with_me:
        found = client.list_shared_snapshots(page_size=args.page_size)
    else:
        found = client.list_snapshots(args.volume, page_size=args.page_size)
    snaps = [s async for s in found]
    if args.shared_with_me and args.volume:
        snaps = [s for s in snaps if s.volume_id == args.volume]
    render.emit(args, [render.to_dict(s) for s in snaps], lambda: _table(snaps))


async def progress(client, args) -> None:
    snap = await client.report_snapshot_progress(args.snapshot_id, args.progress)
    render.emit(args, render.to_dict(snap), lambda: _fields(snap))


async def delete(client, args) -> None:
    await client.delete_snapshot(args.snapshot_id, allow_missing=args.allow_missing)
    payload = {"snapshot_id": args.snapshot_id, "deleted": True}
    render.emit(args, payload, lambda: f"deleted snapshot {args.snapshot_id}")


def _mode(s) -> str:
    return common_pb2.SnapshotMode.Name(s.mode).removeprefix("SNAPSHOT_MODE_").lower()


def _state(s) -> str:
    return common_pb2.SnapshotState.Name(s.state).removeprefix("SNAPSHOT_STATE_").lower()


def _fields(s) -> str:
    return render.fields([
        ("snapshot id", s.snapshot_id), ("volume id", s.volume_id),
        ("owner", s.owner_account_id or "-"), ("version", s.version),
        ("mode", _mode(s)), ("state", _state(s)), ("progress", f"{s.progress:.0%}"),
        ("size", f"{format_size(s.size_bytes)} ({s.size_bytes})"),
        ("chunk size", format_size(s.chunk_size)), ("parent", s.parent_snapshot_id or "-"),
        ("description", s.description or "-"), ("created", render.human_time(s.created_at)),
        ("completed", render.human_time(s.completed_at)),
        ("labels", render.labels(s.labels) or "-")])


def _table(snaps) -> str:
    if not snaps:
        return "no snapshots"
    rows = [(s.snapshot_id, s.volume_id, s.version, _mode(s), _state(s), f"{s.progress:.0%}",
             format_size(s.size_bytes), render.human_time(s.created_at), s.description)
            for s in snaps]
    return render.table(["SNAPSHOT ID", "VOLUME ID", "VERSION", "MODE", "STATE", "PROGRESS",
                         "SIZE", "CREATED", "DESCRIPTION"], rows)
