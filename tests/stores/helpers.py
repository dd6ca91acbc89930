"""A small real store on disk for the binding tests: `blockstore serve`, one account, one
uploaded image, then the server stopped, all through the installed console script."""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from tests.serverproc import blockstore_cmd, create_account, serve

IMAGE_BYTES = 256 << 10              # four 64 KiB chunks


@dataclass
class Store:
    data_dir: Path

    @property
    def manifest(self) -> Path:
        return self.data_dir / "manifest.db"

    @property
    def chunk_dir(self) -> Path:
        return self.data_dir / "chunks"

    def chunk_files(self) -> list[Path]:
        return sorted(p for p in (self.chunk_dir / "chunks").rglob("*")
                      if p.is_file() and len(p.name) == 64)

    def identity(self) -> str:
        return (self.chunk_dir / "identity").read_text().strip()

    def manifest_identity(self) -> str:
        with sqlite3.connect(self.manifest) as db:
            return db.execute("SELECT store_id FROM store_identity").fetchone()[0]


def make_store(data_dir: Path, seed: int = 1) -> Store:
    """A store with one volume holding IMAGE_BYTES of random data; the server is stopped."""
    server = serve(data_dir)
    try:
        token = create_account(f"owner-{seed}", data_dir=data_dir)["token"]
        image = data_dir.parent / f"image-{seed}.img"
        image.write_bytes(os.urandom(IMAGE_BYTES))
        env = {"BLOCKSTORE_ADDRESS": server.address, "BLOCKSTORE_TOKEN": token}
        blockstore_cmd("upload", str(image), "--create", "--chunk-size", "64K", "--json",
                       "--no-progress", env=env, timeout=60)
    finally:
        assert server.stop() == 0, "".join(server.output)
    store = Store(data_dir)
    assert len(store.chunk_files()) == IMAGE_BYTES >> 16, "the upload stored its chunks"
    return store


def run(*args: str, timeout: float = 60):
    """The console script with a deadline: a refusal must exit, never hang."""
    return blockstore_cmd(*args, check=False, timeout=timeout)


def refused(done, *needles: str) -> None:
    """Exit 2 with one `blockstore: error:` line naming each of `needles`."""
    assert done.returncode == 2, f"refused with exit 2, got {done.returncode}:\n{done.stderr}"
    errors = [ln for ln in done.stderr.splitlines() if ln.startswith("blockstore: error:")]
    assert errors, f"one error line: {done.stderr}"
    for needle in needles:
        assert needle in errors[0], f"the error names {needle!r}: {errors[0]}"
    assert "Traceback" not in done.stderr


def gc_report(*args: str) -> dict:
    done = run("gc", *args, "--grace", "0", "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
