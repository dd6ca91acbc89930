"""A reference the server can no longer honour is re-sent as data, and that heals.

FindMissingChunks answers from the account's chunk set; if the chunk file has since
vanished (garbage-collected, quarantined, lost), the upload's references to it are
refused with UNKNOWN_CHUNK_TOKEN. The transfer then re-reads those chunks from the image
and sends their bytes, which stores the chunk again for every row that names it.
"""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import chunk_tokens, make_image, ok_json


def chunk_file(data_dir: str, token: bytes) -> Path:
    found = [p for p in Path(data_dir, "chunks").rglob(token.hex()) if p.is_file()]
    assert len(found) == 1, f"one stored file for chunk {token.hex()}, found {found}"
    return found[0]


def test_upload_resends_data_when_a_promised_chunk_has_vanished(run, server, tmp_path):
    image = make_image(tmp_path / "disk.img", 1 << 20)
    first = ok_json(run("upload", str(image), "--create", "--chunk-size", "64K", "--json"))
    lost = next(t for t in chunk_tokens(image) if t)
    chunk_file(server.data_dir, lost).unlink()

    second = ok_json(run("upload", str(image), "--create", "--chunk-size", "64K", "--json"))
    assert second["data_blocks"] >= 1, "the vanished chunk went out as data, not a reference"
    for vid in (second["volume_id"], first["volume_id"]):
        out = tmp_path / f"{vid}.img"
        assert run("download", "--volume", vid, str(out)).returncode == 0
        assert out.read_bytes() == image.read_bytes(), \
            f"volume {vid} reads back whole: the re-sent bytes healed the shared chunk"
