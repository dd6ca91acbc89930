"""`blockstore gc` and `blockstore verify`: chunk maintenance against the stores directly.

Owns the two commands' flags, their runs and their output; the rules are below.

    blockstore gc (--data-dir DIR | --db URL --chunks URL) [--grace SECONDS] [--json]
    blockstore verify (--data-dir DIR | --db URL --chunks URL) [--no-repair] [--json]
    (both also take --metrics-file FILE: the run's figures for a textfile collector)

Both may run while servers use the same stores. Both first check that the chunk store
belongs to the manifest (services/identity.py, `_on_partner_stores`) and refuse to touch
either otherwise.
`verify` exits 1 when it found anything wrong (0 when clean); both exit 2 on usage
errors, a busy lease or a refused store pairing.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from blockstore.urls import redacted
from chunkstore import open_chunk_store
from manifest import open_manifest
from services.gc import DEFAULT_GRACE_S, GcConfig, collect_garbage
from services.identity import Names, bind_stores
from services.metrics_file import write_gc, write_verify
from services.verify import VerifyConfig, VerifyReport, verify_store


def add_parsers(sub: argparse._SubParsersAction) -> None:
    gc = sub.add_parser("gc", help="compact unreadable block rows, sweep unreferenced chunks")
    _add_stores(gc)
    gc.add_argument("--grace", type=float, default=DEFAULT_GRACE_S,
                    help="keep unreferenced chunks seen within this many seconds for dedup "
                         "(default 3600); any value is safe while servers run: chunks "
                         "that running streams use are kept regardless")
    gc.add_argument("--wait", type=float, default=60.0,
                    help="seconds to wait for a running gc/verify to finish")
    verify = sub.add_parser("verify", help="re-read every chunk, report and set aside bad ones")
    _add_stores(verify)
    verify.add_argument("--no-repair", action="store_true",
                        help="report only: do not quarantine or forget bad chunks")
    verify.add_argument("--wait", type=float, default=60.0,
                        help="seconds to wait for a running gc/verify to finish")


def _add_stores(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", type=Path)
    p.add_argument("--db", help="manifest database URL: sqlite:///path or "
                   "postgresql://USER[:PASSWORD]@HOST:PORT/DBNAME")
    p.add_argument("--chunks", help="chunk store URL: file:///path or "
                       "s3://BUCKET[/PREFIX]?endpoint=http://HOST:PORT[&region=REGION]")
    p.add_argument("--json", action="store_true")
    p.add_argument("--config", type=Path,
                   help="a server's TOML settings file: its data-dir, db, chunks (and "
                        "gc-grace for gc) apply, its other keys are skipped; "
                        "BLOCKSTORE_DB etc. and flags override it")
    p.add_argument("--print-config", nargs="?", const="toml", choices=("toml", "json"),
                   help="print the effective store settings, secrets masked, and exit")
    p.add_argument("--metrics-file", type=Path, metavar="FILE",
                   help="write the run's figures to FILE as Prometheus text (for "
                        "node_exporter's textfile collector; replaced atomically)")


async def _on_partner_stores(urls: tuple[str, str], work):
    """`work(store, chunks)` on the manifest and chunk store of `urls`, once they are known
    to be partners (services/identity.py); both are closed after, whatever happens."""
    chunks = open_chunk_store(urls[1])
    store = await open_manifest(urls[0])
    try:
        await bind_stores(store, chunks, names=Names(*map(redacted, urls)))
        return await work(store, chunks)
    finally:
        await chunks.close()
        await store.close()


async def run_gc(args: argparse.Namespace, urls: tuple[str, str]) -> int:
    config = GcConfig(grace_s=args.grace, lease_wait_s=args.wait)
    report = await _on_partner_stores(
        urls, lambda store, chunks: collect_garbage(store, chunks, config))
    if args.metrics_file:
        write_gc(args.metrics_file, report)
    if args.json:
        print(json.dumps(report.as_dict()))
    else:
        print(f"rows compacted: {report.rows_compacted}\n"
              f"chunks swept: {report.chunks_swept} ({report.bytes_freed} bytes freed)\n"
              f"unreferenced chunks kept (seen within {args.grace:g} s or in use): "
              f"{report.chunks_kept_fresh}\n"
              f"rows of vanished chunks forgotten: {report.chunk_rows_forgotten}\n"
              f"temp files removed: {report.temp_files_removed} "
              f"({report.temp_bytes_removed} bytes)\n"
              f"active operations (their chunks kept): {report.active_operations}")
    return 0


async def run_verify(args: argparse.Namespace, urls: tuple[str, str]) -> int:
    config = VerifyConfig(repair=not args.no_repair, lease_wait_s=args.wait)
    report = await _on_partner_stores(
        urls, lambda store, chunks: verify_store(store, chunks, config))
    if args.metrics_file:
        write_verify(args.metrics_file, report)
    print(json.dumps(report.as_dict()) if args.json else _human(report))
    return 0 if report.ok else 1


def _human(report: VerifyReport) -> str:
    lines = [f"database integrity: {', '.join(report.integrity)}",
             f"chunks read: {report.chunks_read}; referenced by block rows: "
             f"{report.referenced_chunks}"]
    for p in report.problems:
        lines.append(f"{p.kind.upper()} chunk {p.token}: {p.detail}")
        lines.append(f"  affects volumes: {', '.join(p.volumes) or '-'}; snapshots: "
                     f"{', '.join(p.snapshots) or '-'}")
        if p.quarantined:
            lines.append("  moved to quarantine/")
    if report.problems and report.repaired:
        lines.append("bad chunks were forgotten: uploading the same data again repairs them")
    lines.append("OK" if report.ok else f"FAILED: {len(report.problems)} bad chunk(s)")
    return "\n".join(lines)
