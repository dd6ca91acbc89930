"""SigV4 secrets are stored as issued (a verifier needs them), so the manifest file that
holds them is readable by its owner only: created so, and tightened when an existing
database (made before access keys existed) is opened again."""

from __future__ import annotations

import os
import stat

from tests.serverproc import create_account


def _others_bits(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode) & 0o077


def test_a_new_manifest_is_readable_by_its_owner_only(tmp_path):
    account = create_account("private", data_dir=tmp_path / "data")
    db = tmp_path / "data" / "manifest.db"
    assert _others_bits(db) == 0, f"manifest.db mode {oct(os.stat(db).st_mode)}"
    assert account["secret_access_key"].encode() in db.read_bytes() + _wal(db), \
        "the secret is in this file (so the mode is what protects it)"
    for side in (db.with_name("manifest.db-wal"), db.with_name("manifest.db-shm")):
        if side.exists():
            assert _others_bits(side) == 0, f"{side.name} mode {oct(os.stat(side).st_mode)}"


def test_an_existing_world_readable_manifest_is_tightened_on_open(tmp_path):
    create_account("before", data_dir=tmp_path / "data")
    db = tmp_path / "data" / "manifest.db"
    os.chmod(db, 0o644)
    create_account("after", data_dir=tmp_path / "data")
    assert _others_bits(db) == 0


def _wal(db) -> bytes:
    wal = db.with_name("manifest.db-wal")
    return wal.read_bytes() if wal.exists() else b""
