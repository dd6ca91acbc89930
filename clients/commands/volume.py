"""`blockstore volume create|get|list|delete`.

Owns the volume subcommands' flags and output. Rule: a command module parses, calls the
client library, renders (clients/render.py).
"""

from __future__ import annotations

from clients import render
from clients.commands import _args
from clients.sizes import format_size


def register(subparsers, common) -> None:
    group = _args.add_group(subparsers, "volume", "manage volumes")
    p = group.add_parser("create", parents=[common], help="create a volume (blank or a clone)")
    p.add_argument("--size", type=_args.size, default=0,
                   help="size, e.g. 10G (default 1G, or the source snapshot's size)")
    p.add_argument("--chunk-size", type=_args.size, default=0,
                   help="chunk size, power of two 64K..4M (default 1M or the source's)")
    p.add_argument("--from-snapshot", dest="source", default="", metavar="SNAPSHOT_ID",
                   help="clone this snapshot")
    p.add_argument("--label", type=_args.label, action="append", default=[], metavar="K=V")
    p.add_argument("--idempotency-key", default="", help="repeat-safe key (default: random)")
    p.set_defaults(handler=create)
    p = group.add_parser("get", parents=[common], help="show one volume")
    p.add_argument("volume_id")
    p.set_defaults(handler=get)
    p = group.add_parser("list", parents=[common], help="list the account's volumes")
    p.add_argument("--page-size", type=int, default=0, help="volumes per request")
    p.set_defaults(handler=list_)
    p = group.add_parser("delete", parents=[common], help="delete a volume")
    p.add_argument("volume_id")
    p.add_argument("--allow-missing", action="store_true", help="succeed if it does not exist")
    p.set_defaults(handler=delete)


async def create(client, args) -> None:
    volume, initial = await client.create_volume(
        size_bytes=args.size, chunk_size=args.chunk_size, source_snapshot_id=args.source,
        idempotency_key=args.idempotency_key, labels=dict(args.label))
    payload = {"volume": render.to_dict(volume), "initial_snapshot_id": initial}
    extra = [("initial snapshot", initial)] if initial else []
    render.emit(args, payload, lambda: _fields(volume, extra))


async def get(client, args) -> None:
    volume = await client.get_volume(args.volume_id)
    render.emit(args, render.to_dict(volume), lambda: _fields(volume))


async def list_(client, args) -> None:
    volumes = [v async for v in client.list_volumes(page_size=args.page_size)]
    render.emit(args, [render.to_dict(v) for v in volumes], lambda: _table(volumes))


async def delete(client, args) -> None:
    await client.delete_volume(args.volume_id, allow_missing=args.allow_missing)
    payload = {"volume_id": args.volume_id, "deleted": True}
    render.emit(args, payload, lambda: f"deleted volume {args.volume_id}")


def _fields(v, extra=()) -> str:
    return render.fields([
        ("volume id", v.volume_id), ("size", f"{format_size(v.size_bytes)} ({v.size_bytes})"),
        ("chunk size", format_size(v.chunk_size)), ("open version", v.open_version),
        ("source snapshot", v.source_snapshot_id or "-"),
        ("created", render.human_time(v.created_at)), ("labels", render.labels(v.labels) or "-"),
        *extra])


def _table(volumes) -> str:
    if not volumes:
        return "no volumes"
    rows = [(v.volume_id, format_size(v.size_bytes), format_size(v.chunk_size), v.open_version,
             v.source_snapshot_id or "-", render.human_time(v.created_at),
             render.labels(v.labels)) for v in volumes]
    return render.table(["VOLUME ID", "SIZE", "CHUNK", "VERSION", "SOURCE", "CREATED", "LABELS"],
                        rows)
