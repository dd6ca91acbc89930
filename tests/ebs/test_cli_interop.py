"""One store, two doors, through the `blockstore` CLI: a `blockstore backup` of a volume
with 512 KiB chunks is read block by block through GetSnapshotBlock and its increment
through ListChangedBlocks; a snapshot written through EBS is downloaded and cloned by
the CLI. Both doors are the same `serve` process (tests/ebs/conftest.py)."""

from __future__ import annotations

import json
import os

from tests.cli.conftest import cli
from tests.ebs.conftest import BLOCK, all_blocks, all_changes, get, put

SIZE = 8 * BLOCK


def run_json(server, account: dict, *args: str) -> dict:
    done = cli(server.address, account["token"], *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def blocks_of(image: bytes) -> dict[int, bytes]:
    """index -> data of the blocks a backup writes (all-zero blocks it leaves as holes
    in a first backup)."""
    return {i: image[i * BLOCK:(i + 1) * BLOCK] for i in range(len(image) // BLOCK)
            if image[i * BLOCK:(i + 1) * BLOCK].count(0) != BLOCK}


def test_blockstore_backup_is_readable_through_ebs(server, account, ebs, tmp_path):
    vid = run_json(server, account, "volume", "create", "--size", str(SIZE),
                   "--chunk-size", "512K")["volume"]["volume_id"]
    image = bytearray(os.urandom(SIZE))
    image[2 * BLOCK:4 * BLOCK] = bytes(2 * BLOCK)             # a hole
    image[5 * BLOCK:6 * BLOCK] = image[0:BLOCK]               # a repeat
    path = tmp_path / "disk.img"
    path.write_bytes(image)
    first = run_json(server, account, "backup", str(path), "--volume", vid)["snapshot_id"]
    tokens = all_blocks(ebs, first)
    assert tokens.keys() == blocks_of(image).keys()
    for i, data in blocks_of(image).items():
        assert get(ebs, first, i, tokens[i])[0] == data, f"block {i} of the backup"

    image[1 * BLOCK:2 * BLOCK] = os.urandom(BLOCK)
    image[3 * BLOCK:4 * BLOCK] = os.urandom(BLOCK)            # the hole gets data
    image[6 * BLOCK:7 * BLOCK] = bytes(BLOCK)                 # data becomes zeros
    path.write_bytes(image)
    second = run_json(server, account, "backup", str(path), "--volume", vid)["snapshot_id"]
    changes = all_changes(ebs, second, first)
    assert sorted(changes) == [1, 3, 6], "exactly the blocks the second backup changed"
    assert changes[3][0] is None, "block 3 was a hole in the first backup"
    second_tokens = all_blocks(ebs, second)
    for i in (1, 3, 6):
        assert changes[i][1] == second_tokens[i]
        assert get(ebs, second, i, second_tokens[i])[0] == image[i * BLOCK:(i + 1) * BLOCK]


def test_an_ebs_snapshot_downloads_and_clones_through_the_cli(server, account, ebs,
                                                             tmp_path):
    sid = ebs.start_snapshot(VolumeSize=1)["SnapshotId"]
    written = {0: os.urandom(BLOCK), 6: os.urandom(BLOCK)}
    for i, data in written.items():
        put(ebs, sid, i, data)
    ebs.complete_snapshot(SnapshotId=sid, ChangedBlocksCount=len(written))
    listed = run_json(server, account, "snapshot", "list")
    assert sid in json.dumps(listed), "the CLI lists the EBS snapshot"
    out = tmp_path / "restored.img"
    assert cli(server.address, account["token"], "download", "--snapshot", sid,
               str(out)).returncode == 0
    expected = written[0] + bytes(5 * BLOCK) + written[6]
    with open(out, "rb") as f:
        assert f.read(7 * BLOCK) == expected
    assert out.stat().st_size == 1 << 30
    clone = run_json(server, account, "volume", "create", "--from-snapshot", sid)
    cloned = clone["volume"]["volume_id"]
    back = tmp_path / "clone.img"
    assert cli(server.address, account["token"], "download", "--volume", cloned,
               str(back)).returncode == 0
    with open(back, "rb") as f:
        assert f.read(7 * BLOCK) == expected, "the clone reads the EBS snapshot's data"
