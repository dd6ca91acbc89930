"""upload / backup / download / diff end to end: the CLI as a subprocess, a real server."""

from __future__ import annotations

import os
import random

from tests.cli.conftest import (CHUNK, chunk_tokens, create_volume, make_image, ok_json,
                                rewrite_chunks)


def test_upload_then_download_is_byte_identical_with_a_partial_last_chunk(run, tmp_path):
    size = 3 * (1 << 20) + 1536                # 512-aligned, not a multiple of the chunk
    image = make_image(tmp_path / "disk.img", size)
    up = ok_json(run("upload", str(image), "--create", "--chunk-size", "64K", "--json"))
    assert up["created"] and up["logical_bytes"] == size
    assert up["server_bytes_received"] == up["sent_bytes"], "summary counts what went on the wire"
    tokens = [t for t in chunk_tokens(image) if t]
    assert up["data_blocks"] == len(set(tokens)), "each distinct chunk sent once, repeats referenced"

    out = tmp_path / "restored.img"
    down = ok_json(run("download", "--volume", up["volume_id"], str(out), "--json"))
    assert out.read_bytes() == image.read_bytes()
    assert down["logical_bytes"] == size
    assert not [p for p in os.listdir(tmp_path) if ".partial-" in p], "temp file renamed away"


def test_upload_create_rounds_an_unaligned_image_up_to_512(run, tmp_path):
    image = tmp_path / "odd.img"
    image.write_bytes(random.Random(1).randbytes((1 << 20) + 1000))
    vid = run("upload", str(image), "--create", "--chunk-size", "64K").stdout.strip()
    volume = ok_json(run("volume", "get", vid, "--json"))
    assert volume["size_bytes"] == (1 << 20) + 1024
    out = tmp_path / "out.img"
    assert run("download", "--volume", vid, str(out)).returncode == 0
    assert out.read_bytes() == image.read_bytes() + bytes(24), "image then zero padding"


def test_reupload_sends_nothing_the_volume_holds(run, tmp_path):
    image = make_image(tmp_path / "disk.img", 2 << 20)
    vid = ok_json(run("upload", str(image), "--create", "--chunk-size", "64K", "--json"))["volume_id"]
    again = ok_json(run("upload", str(image), "--volume", vid, "--json"))
    assert again["sent_blocks"] == 0 and again["sent_bytes"] == 0
    assert again["logical_bytes"] == 2 << 20


def test_incremental_backup_sends_only_changed_chunks_and_both_restore(run, tmp_path):
    size = 4 << 20
    image = make_image(tmp_path / "disk.img", size, seed=11)
    vid = create_volume(run, size)
    first = ok_json(run("backup", str(image), "--volume", vid, "--json"))
    assert first["complete"] and not first["resumed"]
    parent = ok_json(run("snapshot", "get", first["parent_snapshot_id"], "--json"))
    assert parent["version"] == 1, "the first backup's parent is the volume's initial snapshot"
    v1 = image.read_bytes()

    tokens = chunk_tokens(image)
    data_idx = [i for i, t in enumerate(tokens) if t]
    zero_idx = [i for i, t in enumerate(tokens) if t is None]
    rng = random.Random(5)
    changes = {i: rng.randbytes(CHUNK) for i in data_idx[1:4]}
    changes[data_idx[5]] = None                # data -> zeros: must be sent as a zero block
    changes[zero_idx[0]] = rng.randbytes(CHUNK)
    rewrite_chunks(image, changes)

    second = ok_json(run("backup", str(image), "--volume", vid, "--json"))
    assert second["parent_snapshot_id"] == first["snapshot_id"]
    assert second["sent_blocks"] == len(changes), "only the changed chunks are sent"
    assert second["data_blocks"] == 4 and second["reference_blocks"] == 0
    assert second["sent_bytes"] <= 4 * CHUNK + 4096
    assert second["unchanged_blocks"] == len(data_idx) - 4

    diff = ok_json(run("diff", first["snapshot_id"], second["snapshot_id"], "--json"))
    assert [c["offset"] for c in diff["changes"]] == sorted(i * CHUNK for i in changes)
    assert [c["target_zero"] for c in diff["changes"]] == \
        [changes[i] is None for i in sorted(changes)]

    for snap, expected in ((first["snapshot_id"], v1), (second["snapshot_id"], image.read_bytes())):
        out = tmp_path / f"{snap}.img"
        assert run("download", "--snapshot", snap, str(out)).returncode == 0
        assert out.read_bytes() == expected
    snap = ok_json(run("snapshot", "get", second["snapshot_id"], "--json"))
    assert snap["state"] == "SNAPSHOT_STATE_COMPLETED" and snap["progress"] == 1.0


def test_download_incremental_from_updates_an_old_copy(run, tmp_path):
    size = 2 << 20
    image = make_image(tmp_path / "disk.img", size, seed=3)
    vid = create_volume(run, size)
    s1 = run("backup", str(image), "--volume", vid).stdout.strip()
    old = tmp_path / "copy.img"
    assert run("download", "--snapshot", s1, str(old)).returncode == 0
    tokens = chunk_tokens(image)
    data_idx = [i for i, t in enumerate(tokens) if t]
    rewrite_chunks(image, {data_idx[0]: None, data_idx[2]: os.urandom(CHUNK),
                           [i for i, t in enumerate(tokens) if t is None][-1]: os.urandom(CHUNK)})
    s2 = run("backup", str(image), "--volume", vid).stdout.strip()

    inc = ok_json(run("download", "--snapshot", s2, str(old), "--incremental-from", s1, "--json"))
    assert old.read_bytes() == image.read_bytes()
    assert inc["logical_bytes"] == 3 * CHUNK, "only the changed chunks are fetched"


def test_sparse_download_of_a_mostly_zero_image(run, tmp_path):
    size = 16 << 20
    image = tmp_path / "sparse.img"
    with open(image, "wb") as f:
        f.truncate(size)
        for offset in (0, 5 << 20, size - CHUNK):
            f.seek(offset)
            f.write(os.urandom(CHUNK))
    vid = ok_json(run("upload", str(image), "--create", "--chunk-size", "64K", "--json"))["volume_id"]
    out = tmp_path / "out.img"
    down = ok_json(run("download", "--volume", vid, str(out), "--json"))
    st = out.stat()
    assert st.st_size == size and out.read_bytes() == image.read_bytes()
    assert st.st_blocks * 512 <= 1 << 20, f"{st.st_blocks * 512} bytes allocated: not sparse"
    assert down["zero_bytes"] == size - 3 * CHUNK


def test_human_output_prints_the_id_and_a_summary_line(run, tmp_path):
    image = make_image(tmp_path / "disk.img", 1 << 20)
    vid = create_volume(run, 1 << 20)
    proc = run("backup", str(image), "--volume", vid)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().startswith("snap-")
    assert "logical" in proc.stderr and "MB/s" in proc.stderr and "\r" not in proc.stderr

    table = run("diff", proc.stdout.strip(), proc.stdout.strip())
    assert table.returncode == 0 and table.stdout.startswith("0 changed chunks")


def test_exit_codes(run, tmp_path):
    image = make_image(tmp_path / "disk.img", 2 << 20)
    assert run("upload", str(image), "--volume", "vol-missing").returncode == 3
    assert run("upload", str(tmp_path / "nope.img"), "--create").returncode == 2
    vid = create_volume(run, 1 << 20)
    too_big = run("backup", str(image), "--volume", vid)
    assert too_big.returncode == 2 and "more than" in too_big.stderr
    assert run("download", "--volume", vid, str(tmp_path / "o"), "--incremental-from",
               "snap-x").returncode == 2
    assert run("diff", "snap-a", "snap-b").returncode == 3


def test_repeated_chunks_across_parallel_streams_are_sent_once(run, tmp_path):
    """4-chunk streams, 4 at a time: repeats of a chunk land in streams running at once."""
    image = make_image(tmp_path / "disk.img", 4 << 20, seed=9)
    up = ok_json(run("upload", str(image), "--create", "--chunk-size", "64K",
                     "--max-inflight", "1", "--streams", "4", "--json"))
    tokens = [t for t in chunk_tokens(image) if t]
    assert len(tokens) > len(set(tokens)), "the image has repeated chunks"
    assert up["data_blocks"] == len(set(tokens)), "a chunk's data crosses the wire once"
    assert up["reference_blocks"] == len(tokens) - len(set(tokens))
    out = tmp_path / "out.img"
    assert run("download", "--volume", up["volume_id"], str(out), "--streams", "4").returncode == 0
    assert out.read_bytes() == image.read_bytes()
