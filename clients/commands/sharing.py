"""`blockstore snapshot share|unshare|shares`: who else may use a snapshot.

Owns the sharing subcommands' flags and output. Rule: a command module parses, calls the
client library (clients/sharing.py), renders; the owner-only rules are the service's.
"""

from __future__ import annotations

from clients import render


def register(group, common) -> None:
    p = group.add_parser("share", parents=[common],
                         help="let another account use (and read out) a completed snapshot")
    p.add_argument("snapshot_id")
    p.add_argument("account_id", help="the grantee (`blockstore account list` shows ids)")
    p.add_argument("--no-export", action="store_true",
                   help="the grantee may clone it but never read its data out")
    p.set_defaults(handler=share)
    p = group.add_parser("unshare", parents=[common], help="stop sharing a snapshot")
    p.add_argument("snapshot_id")
    p.add_argument("account_id")
    p.set_defaults(handler=unshare)
    p = group.add_parser("shares", parents=[common], help="accounts a snapshot is shared with")
    p.add_argument("snapshot_id")
    p.set_defaults(handler=shares)


async def share(client, args) -> None:
    granted = await client.share_snapshot(args.snapshot_id, args.account_id,
                                          allow_export=not args.no_export)
    payload = {"snapshot_id": args.snapshot_id, **render.to_dict(granted)}
    render.emit(args, payload, lambda: f"shared snapshot {args.snapshot_id} with "
                f"{granted.account_id} ({_export(granted)})")


async def unshare(client, args) -> None:
    await client.unshare_snapshot(args.snapshot_id, args.account_id)
    payload = {"snapshot_id": args.snapshot_id, "account_id": args.account_id,
               "shared": False}
    render.emit(args, payload, lambda: f"unshared snapshot {args.snapshot_id} from "
                f"{args.account_id}")


async def shares(client, args) -> None:
    found = await client.list_snapshot_shares(args.snapshot_id)
    render.emit(args, [render.to_dict(s) for s in found], lambda: _table(found))


def _export(share) -> str:
    return "export allowed" if share.allow_export else "no export"


def _table(found) -> str:
    if not found:
        return "not shared"
    rows = [(s.account_id, _export(s), render.human_time(s.created_at)) for s in found]
    return render.table(["ACCOUNT ID", "EXPORT", "SHARED"], rows)
