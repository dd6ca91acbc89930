"""`blockstore diff BASE TARGET`: the chunks that differ between two snapshots.

Owns the command's flags and its output. Rule: a command module parses, calls the
client library, renders (clients/render.py); what differs is the service's answer
(ListChangedBlocks), never recomputed here.
"""

from __future__ import annotations

from clients import render
from clients.sizes import format_size


def register(subparsers, common) -> None:
    p = subparsers.add_parser("diff", parents=[common],
                              help="list the chunks that changed between two snapshots",
                              description=__doc__.splitlines()[0].replace("`", ""))
    p.add_argument("base", metavar="BASE", help="base snapshot id")
    p.add_argument("target", metavar="TARGET", help="target snapshot id")
    p.set_defaults(handler=diff)


async def diff(client, args) -> None:
    target = await client.get_snapshot(args.target)
    changes = [_change(c, target.chunk_size, target.size_bytes) async for c in
               client.list_changed_blocks(args.target, base_snapshot_id=args.base,
                                          page_size=10_000)]
    payload = {"base_snapshot_id": args.base, "target_snapshot_id": args.target,
               "chunk_size": target.chunk_size, "changed_blocks": len(changes),
               "changed_bytes": sum(c["length"] for c in changes), "changes": changes}
    render.emit(args, payload, lambda: _human(payload))


def _change(c, chunk_size: int, size: int) -> dict:
    return {"offset": c.offset, "length": max(0, min(chunk_size, size - c.offset)),
            "base_token": c.base_token.hex(), "target_token": c.target_token.hex(),
            "base_zero": c.base_zero, "target_zero": c.target_zero}


def _side(token: str, zero: bool) -> str:
    return "zero" if zero else (token[:16] if token else "hole")


def _human(p: dict) -> str:
    summary = (f"{p['changed_blocks']} changed chunks, {format_size(p['changed_bytes'])} "
               f"({p['base_snapshot_id']} -> {p['target_snapshot_id']})")
    if not p["changes"]:
        return summary
    rows = [(c["offset"], c["length"], _side(c["base_token"], c["base_zero"]),
             _side(c["target_token"], c["target_zero"])) for c in p["changes"]]
    return render.table(["OFFSET", "LENGTH", "BASE", "TARGET"], rows) + "\n" + summary
