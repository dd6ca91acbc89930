"""A chunk store is used only with its own manifest (services/identity.py), through the
installed console script: a lost, empty or foreign manifest never gets to sweep it."""

from __future__ import annotations

from pathlib import Path

import pytest

from blockstore.urls import file_url, sqlite_url
from tests.serverproc import ServerProcess, blockstore_cmd
from tests.stores.helpers import IMAGE_BYTES, gc_report, make_store, refused, run

SERVE = ("serve", "--listen", "127.0.0.1:0")


@pytest.fixture(scope="module")
def odd_store(tmp_path_factory):
    """`#`, `?` and `%` in the data dir: each once moved the chunk store elsewhere."""
    return make_store(tmp_path_factory.mktemp("odd") / "bk#1?x=%41")


def test_a_hash_question_mark_or_percent_in_data_dir_keeps_chunks_inside_it(odd_store):
    root = odd_store.data_dir.parent
    assert sorted(p.name for p in root.iterdir()) == ["bk#1?x=%41", "image-1.img"], (
        "nothing is created beside the data dir (a cut URL made `bk`)")
    assert len(odd_store.chunk_files()) == IMAGE_BYTES >> 16
    assert odd_store.identity() == odd_store.manifest_identity()
    assert run("verify", "--data-dir", str(odd_store.data_dir)).returncode == 0


@pytest.mark.parametrize("damage", ["empty", "missing"])
def test_a_lost_manifest_is_refused_by_serve_gc_and_verify(tmp_path, damage):
    store = make_store(tmp_path / "data")
    chunks_id, before = store.identity(), store.chunk_files()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{store.manifest}{suffix}").unlink(missing_ok=True)
    if damage == "empty":
        store.manifest.write_bytes(b"")
    where = ("--data-dir", str(store.data_dir))
    refused(run(*SERVE, *where), chunks_id, "--init")
    refused(run("gc", *where, "--grace", "0"), chunks_id)
    refused(run("verify", *where), chunks_id)
    assert store.chunk_files() == before, "a refused start deletes nothing"
    # The operator restores nothing and really wants a fresh start:
    fresh = ServerProcess([*SERVE, *where, "--init"]).start()
    assert fresh.stop() == 0
    assert "created account default" in "".join(fresh.output), "a new store, a new account"
    assert store.identity() == store.manifest_identity() != chunks_id
    assert gc_report(*where)["chunks_swept"] == len(before), "the old chunks are garbage now"


def test_a_mispointed_chunk_store_is_refused_naming_both_ids(tmp_path):
    a, b = make_store(tmp_path / "a", seed=1), make_store(tmp_path / "b", seed=2)
    crossed = ("--db", sqlite_url(a.manifest), "--chunks", file_url(b.chunk_dir))
    for command in (SERVE, ("data-plane", "--listen", "127.0.0.1:0"), ("gc", "--grace", "0"),
                    ("verify",)):
        refused(run(*command, *crossed), a.manifest_identity(), b.identity())
    refused(run(*SERVE, *crossed, "--init"), a.manifest_identity(), b.identity())
    assert len(b.chunk_files()) == IMAGE_BYTES >> 16, "b's chunks were not swept"
    assert gc_report("--data-dir", str(b.data_dir))["chunks_swept"] == 0


@pytest.mark.parametrize("command", [SERVE, ("gc",), ("verify",)])
def test_a_malformed_manifest_exits_non_zero_at_once(tmp_path, command):
    (tmp_path / "manifest.db").write_bytes(b"not a database " * 1000)
    done = run(*command, "--data-dir", str(tmp_path), timeout=30)   # a hang fails here
    assert done.returncode != 0 and "not a database" in done.stderr, done.stderr


def test_init_is_never_taken_from_the_environment_or_a_config_file(tmp_path):
    """A standing `init` would re-create a lost manifest on every start: the very wipe the
    binding prevents. It counts only as a flag typed for one start."""
    store = make_store(tmp_path / "data")
    before = store.chunk_files()
    store.manifest.unlink()
    where = ("--data-dir", str(store.data_dir))
    done = blockstore_cmd(*SERVE, *where, check=False, timeout=60,
                          env={"BLOCKSTORE_INIT": "1"})
    refused(done, store.identity(), "--init")
    config = tmp_path / "blockstore.toml"
    config.write_text("init = true\n")
    done = run(*SERVE, *where, "--config", str(config))
    assert done.returncode == 2 and "init" in done.stderr, done.stderr
    assert store.chunk_files() == before
