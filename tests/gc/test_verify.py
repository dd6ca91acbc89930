"""`blockstore verify` on a corrupted store: reads fail with DATA_LOSS (never wrong
bytes), verify names the chunk and what it affects and exits 1, and a re-upload of the
same data heals it (content addressing), after which verify exits 0."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families

from chunkstore.fileformat import HEADER_SIZE, chunk_path
from tests.data_plane.helpers import (CHUNK, MIB, b3, clone, missing, new_volume, rand, read,
                                      snapshot, upload)
from tests.control_plane.helpers import initial_snapshot_id
from tests.gc.helpers import verify_cli


def textfile(path: Path) -> dict[str, float]:
    """The samples of a --metrics-file, parsed by prometheus-client, but the timestamp."""
    samples = {}
    for family in text_string_to_metric_families(path.read_text()):
        for s in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
            samples[f"{s.name}{{{labels}}}" if labels else s.name] = s.value
    assert samples.pop("blockstore_verify_last_run_timestamp_seconds") > 0
    return samples


def chunk_file(data_dir: str, token: bytes) -> Path:
    return chunk_path(Path(data_dir) / "chunks" / "chunks", token)


def flip_payload_byte(path: Path) -> None:
    raw = bytearray(path.read_bytes())
    raw[HEADER_SIZE + 100] ^= 0x01
    path.write_bytes(bytes(raw))


async def test_corrupt_chunks_are_data_loss_named_by_verify_and_healed_by_reupload(
        server, cp, dp):
    vol = await new_volume(cp, size=MIB)
    blocks = [(i * CHUNK, rand(CHUNK)) for i in range(3)]
    await upload(dp, vol, blocks)
    snap = await snapshot(cp, vol.volume_id)
    cloned = await clone(cp, snap.snapshot_id)
    clone_snap = await snapshot(cp, cloned.volume_id)        # reads through to `snap`
    grandchild = await clone(cp, clone_snap.snapshot_id)     # and so does this clone
    (_, found_by_verify), (_, found_by_read) = blocks[1], blocks[2]
    for data in (found_by_verify, found_by_read):
        flip_payload_byte(chunk_file(server.data_dir, b3(data)))

    with pytest.raises(grpc.aio.AioRpcError) as err:
        await read(dp, snapshot_id=snap.snapshot_id, offset=2 * CHUNK, length=CHUNK)
    assert err.value.code() == grpc.StatusCode.DATA_LOSS, "never wrong bytes"
    assert await read(dp, volume_id=vol.volume_id, offset=0, length=CHUNK) == blocks[0][1], \
        "other blocks still read"

    results = Path(server.data_dir) / "verify.prom"
    code, report = verify_cli(server.data_dir, None, "--metrics-file", str(results))
    assert code == 1 and not report["ok"]
    assert textfile(results) == {
        "blockstore_verify_ok": 0, "blockstore_verify_integrity_ok": 1,
        "blockstore_verify_chunks_read": report["chunks_read"],
        "blockstore_verify_referenced_chunks": report["referenced_chunks"],
        'blockstore_verify_problems{kind="corrupt"}': 1,
        'blockstore_verify_problems{kind="missing"}': 1}, "--metrics-file: the same results"
    by_token = {p["token"]: p for p in report["problems"]}
    assert set(by_token) == {b3(found_by_verify).hex(), b3(found_by_read).hex()}
    # The read above already moved its rotten chunk aside: verify finds it missing.
    assert (by_token[b3(found_by_verify).hex()]["kind"],
            by_token[b3(found_by_verify).hex()]["quarantined"]) == ("corrupt", True)
    assert by_token[b3(found_by_read).hex()]["kind"] == "missing"
    for problem in report["problems"]:
        assert set(problem["volumes"]) == {vol.volume_id, cloned.volume_id,
                                           grandchild.volume_id}, \
            "verify names every volume that reads the chunk, through clones of clones"
        assert problem["snapshots"] == sorted([
            snap.snapshot_id, clone_snap.snapshot_id, clone_snap.parent_snapshot_id,
            await initial_snapshot_id(cp, grandchild.volume_id)]), \
            "and every snapshot, the clones' initial snapshots included"
    assert list((Path(server.data_dir) / "chunks" / "quarantine").iterdir())
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await read(dp, volume_id=cloned.volume_id, offset=CHUNK, length=CHUNK)
    assert err.value.code() == grpc.StatusCode.DATA_LOSS

    bad = [b3(found_by_verify), b3(found_by_read)]
    assert await missing(dp, [*bad, b3(blocks[0][1])]) == bad, \
        "FindMissingChunks now asks for the data again"
    other = await new_volume(cp, size=MIB)              # the upload path re-sends it
    await upload(dp, other, [(0, found_by_verify), (CHUNK, found_by_read)])
    assert await read(dp, snapshot_id=snap.snapshot_id, size=MIB) == bytes(vol.image), \
        "every row pointing at the tokens reads again"
    assert await read(dp, volume_id=cloned.volume_id, offset=CHUNK, length=2 * CHUNK) == \
        found_by_verify + found_by_read
    code, report = verify_cli(server.data_dir, None, "--metrics-file", str(results))
    assert (code, report["problems"], report["integrity"]) == (0, [], ["ok"])
    assert textfile(results)["blockstore_verify_ok"] == 1, "the file is replaced by each run"


async def test_missing_chunk_is_reported_with_its_readers(server, cp, dp):
    vol = await new_volume(cp, size=MIB)
    data = rand(CHUNK)
    await upload(dp, vol, [(0, data)])
    chunk_file(server.data_dir, b3(data)).unlink()
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await read(dp, volume_id=vol.volume_id, offset=0, length=CHUNK)
    assert err.value.code() == grpc.StatusCode.DATA_LOSS
    code, report = verify_cli(server.data_dir)
    assert code == 1
    [problem] = report["problems"]
    assert (problem["kind"], problem["volumes"], problem["snapshots"]) == \
        ("missing", [vol.volume_id], [])
    await upload(dp, vol, [(CHUNK, data)])              # same data elsewhere heals offset 0
    assert await read(dp, volume_id=vol.volume_id, offset=0, length=CHUNK) == data
    assert verify_cli(server.data_dir)[0] == 0
