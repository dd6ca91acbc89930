"""Shared by the GC tests: the stores of a server's data dir, sizes, the CLI commands."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from blockstore.urls import file_url
from tests.observe import until
from tests.serverproc import blockstore_cmd


def chunk_files(data_dir: Path) -> list[Path]:
    return [p for p in (Path(data_dir) / "chunks" / "chunks").rglob("*")
            if p.is_file() and len(p.name) == 64]


def chunk_bytes(data_dir: Path) -> int:
    return sum(p.stat().st_size for p in chunk_files(data_dir))


def clock_past_every_chunk(data_dir: Path) -> None:
    """GC with grace 0 sweeps chunks last seen before it started; on a file system with
    coarse timestamps a chunk written just now may carry the same second. Wait until the
    clock is past the newest chunk's last-seen time, so a GC started now may sweep all."""
    newest = max((p.stat().st_mtime for p in chunk_files(data_dir)), default=0.0)
    until(lambda: time.time() > newest, "the clock passed the newest chunk's mtime")


def _stores(data_dir: Path, db: str | None) -> list[str]:
    """--data-dir alone, or the manifest elsewhere (`db`, e.g. PostgreSQL) with the data
    dir's chunk store."""
    if db is None:
        return ["--data-dir", str(data_dir)]
    return ["--db", db, "--chunks", file_url(Path(data_dir) / "chunks")]


def gc_cli(data_dir: Path, grace: float = 0, db: str | None = None, *extra: str) -> dict:
    out = blockstore_cmd("gc", *_stores(data_dir, db), "--grace", str(grace), "--json", *extra)
    return json.loads(out.stdout)


def verify_cli(data_dir: Path, db: str | None = None, *extra: str):
    """(exit code, report dict) of `blockstore verify --json`."""
    out = blockstore_cmd("verify", *_stores(data_dir, db), "--json", *extra, check=False)
    assert out.returncode in (0, 1), out.stderr
    return out.returncode, json.loads(out.stdout)


def block_rows(data_dir: Path, volume_id: str) -> list[tuple[int, int, bytes | None]]:
    """(chunk_index, version, token) of a volume's rows, straight from the manifest."""
    conn = sqlite3.connect(f"file:{Path(data_dir) / 'manifest.db'}?mode=ro", uri=True)
    try:
        return [(i, v, bytes(t) if t is not None else None) for i, v, t in conn.execute(
            "SELECT b.chunk_index, b.version, b.token FROM blocks b JOIN volumes v "
            "ON v.vid = b.vid WHERE v.volume_id = ? ORDER BY 1, 2", (volume_id,))]
    finally:
        conn.close()


def integrity(data_dir: Path) -> str:
    conn = sqlite3.connect(Path(data_dir) / "manifest.db")
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()
