"""EBS direct through the real botocore `ebs` client: the full round trip, incremental
snapshots, checksums, paging and ChangedBlocksCount."""

from __future__ import annotations

import base64
import hashlib
import os

import pytest
from botocore.exceptions import ClientError

from tests.ebs.conftest import BLOCK, all_blocks, all_changes, get, put, sha

ZEROS = bytes(BLOCK)


def blocks_of(seed: int, indexes) -> dict[int, bytes]:
    return {i: os.urandom(BLOCK) for i in indexes} if seed else {}


def test_round_trip_many_blocks_byte_exact(ebs):
    start = ebs.start_snapshot(VolumeSize=1, Description="round trip",
                               Tags=[{"Key": "team", "Value": "storage"}])
    sid = start["SnapshotId"]
    assert (start["Status"], start["VolumeSize"], start["BlockSize"]) == ("pending", 1, BLOCK)
    assert start["Tags"] == [{"Key": "team", "Value": "storage"}]
    written = {i: os.urandom(BLOCK) for i in (0, 1, 7, 100, 2047)}
    written[5] = ZEROS                               # written zeros: listed, not stored
    written[9] = written[7]                          # same data twice: one chunk, one token
    for i, data in written.items():
        reply = put(ebs, sid, i, data, Progress=50)
        assert reply["ResponseMetadata"]["HTTPStatusCode"] == 201
        assert reply["Checksum"] == sha(data) and reply["ChecksumAlgorithm"] == "SHA256"
    assert ebs.complete_snapshot(SnapshotId=sid, ChangedBlocksCount=len(written),
                                 **linear(written))["Status"] == "completed"
    listed = all_blocks(ebs, sid)
    assert sorted(listed) == sorted(written), "exactly the written blocks are listed"
    assert listed[7] == listed[9] and listed[5] != listed[7]
    for i, data in written.items():
        body, reply = get(ebs, sid, i, listed[i])
        assert body == data, f"block {i} reads back byte-exact"
        assert reply["Checksum"] == sha(data) and reply["DataLength"] == BLOCK
        assert reply["ChecksumAlgorithm"] == "SHA256"
    assert all_changes(ebs, sid) == {i: (None, t) for i, t in listed.items()}


def test_incremental_snapshot_with_parent_lists_changed_blocks(ebs):
    base = ebs.start_snapshot(VolumeSize=1)["SnapshotId"]
    old = {i: os.urandom(BLOCK) for i in range(6)}
    for i, data in old.items():
        put(ebs, base, i, data)
    ebs.complete_snapshot(SnapshotId=base, ChangedBlocksCount=6)
    child = ebs.start_snapshot(VolumeSize=1, ParentSnapshotId=base)
    assert child["ParentSnapshotId"] == base
    new = {1: os.urandom(BLOCK), 4: ZEROS, 10: os.urandom(BLOCK)}
    for i, data in new.items():
        put(ebs, child["SnapshotId"], i, data)
    ebs.complete_snapshot(SnapshotId=child["SnapshotId"], ChangedBlocksCount=3)
    b_tokens, c_tokens = all_blocks(ebs, base), all_blocks(ebs, child["SnapshotId"])
    changes = all_changes(ebs, child["SnapshotId"], base)
    assert changes == {1: (b_tokens[1], c_tokens[1]), 4: (b_tokens[4], c_tokens[4]),
                       10: (None, c_tokens[10])}, "only the blocks written to the child"
    for i in (0, 2, 3, 5):
        assert c_tokens[i] == b_tokens[i], f"unchanged block {i} keeps its token"
        assert get(ebs, child["SnapshotId"], i, c_tokens[i])[0] == old[i]
    for i, data in new.items():
        assert get(ebs, child["SnapshotId"], i, c_tokens[i])[0] == data
    for i, data in old.items():
        assert get(ebs, base, i, b_tokens[i])[0] == data, "the parent never changes"


def test_two_children_of_one_parent_each_see_only_their_own_writes(ebs):
    """The second child cannot reuse the parent's volume (the first holds it): a clone."""
    base = ebs.start_snapshot(VolumeSize=1)["SnapshotId"]
    put(ebs, base, 0, b"p" * BLOCK)
    ebs.complete_snapshot(SnapshotId=base, ChangedBlocksCount=1)
    first = ebs.start_snapshot(VolumeSize=1, ParentSnapshotId=base)["SnapshotId"]
    second = ebs.start_snapshot(VolumeSize=2, ParentSnapshotId=base)["SnapshotId"]
    put(ebs, first, 1, b"a" * BLOCK)
    put(ebs, second, 1, b"b" * BLOCK)
    put(ebs, second, 3000, b"c" * BLOCK)             # beyond 1 GiB: the clone grew
    for sid, n in ((second, 2), (first, 1)):
        ebs.complete_snapshot(SnapshotId=sid, ChangedBlocksCount=n)
    f, s = all_blocks(ebs, first), all_blocks(ebs, second)
    assert sorted(f) == [0, 1] and sorted(s) == [0, 1, 3000]
    assert get(ebs, first, 1, f[1])[0] == b"a" * BLOCK
    assert get(ebs, second, 1, s[1])[0] == b"b" * BLOCK
    assert get(ebs, second, 0, s[0])[0] == b"p" * BLOCK
    assert sorted(all_changes(ebs, second, base)) == [1, 3000]


def test_bad_checksum_is_refused_and_nothing_is_stored(ebs, server):
    sid = ebs.start_snapshot(VolumeSize=1)["SnapshotId"]
    data = os.urandom(BLOCK)
    chunks_before = _chunk_files(server)
    with pytest.raises(ClientError) as err:
        put(ebs, sid, 3, data, checksum=sha(data[:-1] + b"x"))
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert err.value.response["Reason"] == "INVALID_BLOCK"
    assert "block 3" in err.value.response["Message"]
    assert all_blocks(ebs, sid) == {}, "no row for the refused block"
    assert _chunk_files(server) == chunks_before, "no chunk for the refused block"
    with pytest.raises(ClientError) as err:
        ebs.complete_snapshot(SnapshotId=sid, ChangedBlocksCount=1)
    assert err.value.response["Error"]["Code"] == "ValidationException"


def test_the_aggregate_checksum_is_checked_against_the_stored_blocks(ebs):
    sid = ebs.start_snapshot(VolumeSize=1)["SnapshotId"]
    written = {2: os.urandom(BLOCK), 0: os.urandom(BLOCK), 40: ZEROS}
    for i, data in written.items():
        put(ebs, sid, i, data)
    wrong = dict(written)
    wrong[40] = b"\1" * BLOCK
    for bad in (linear(wrong), linear({0: written[0], 2: written[2]}),
                {**linear(written), "ChecksumAggregationMethod": "LINEAR",
                 "Checksum": sha(b"x")}):
        with pytest.raises(ClientError) as err:
            ebs.complete_snapshot(SnapshotId=sid, ChangedBlocksCount=3, **bad)
        assert err.value.response["Error"]["Code"] == "ValidationException"
        assert sid in err.value.response["Message"]
    assert all_blocks(ebs, sid).keys() == written.keys(), "still pending, nothing lost"
    assert ebs.complete_snapshot(SnapshotId=sid, ChangedBlocksCount=3,
                                 **linear(written))["Status"] == "completed"


def test_changed_blocks_count_must_match_and_a_mismatch_leaves_it_pending(ebs):
    sid = ebs.start_snapshot(VolumeSize=1)["SnapshotId"]
    put(ebs, sid, 0, os.urandom(BLOCK))
    put(ebs, sid, 1, os.urandom(BLOCK))
    with pytest.raises(ClientError) as err:
        ebs.complete_snapshot(SnapshotId=sid, ChangedBlocksCount=3)
    assert err.value.response["Reason"] == "INVALID_PARAMETER_VALUE"
    assert "2 blocks" in err.value.response["Message"]
    assert ebs.complete_snapshot(SnapshotId=sid, ChangedBlocksCount=2)["Status"] == "completed"
    assert ebs.complete_snapshot(SnapshotId=sid, ChangedBlocksCount=2)["Status"] == "completed"
    with pytest.raises(ClientError) as err:
        put(ebs, sid, 2, os.urandom(BLOCK))
    assert err.value.response["Error"]["Code"] == "ConflictException", \
        "a completed snapshot never changes"


def test_listing_pages_and_starting_block_index(ebs):
    sid = ebs.start_snapshot(VolumeSize=1)["SnapshotId"]
    indexes = list(range(0, 250, 2))                 # 125 blocks: more than one page of 100
    for i in indexes:
        put(ebs, sid, i, ZEROS)
    ebs.complete_snapshot(SnapshotId=sid, ChangedBlocksCount=len(indexes))
    first = ebs.list_snapshot_blocks(SnapshotId=sid, MaxResults=100)
    assert len(first["Blocks"]) == 100 and first["NextToken"]
    assert sorted(all_blocks(ebs, sid, MaxResults=100)) == indexes
    assert sorted(all_blocks(ebs, sid, StartingBlockIndex=201)) == indexes[101:]
    assert sorted(all_changes(ebs, sid, StartingBlockIndex=240, MaxResults=100)) == \
        [240, 242, 244, 246, 248]
    with pytest.raises(ClientError) as err:
        ebs.list_snapshot_blocks(SnapshotId=sid, NextToken="bm90LWEtdG9rZW4=")
    assert err.value.response["Error"]["Code"] == "ValidationException"


def test_bad_input_is_a_validation_error_naming_the_object(ebs):
    sid = ebs.start_snapshot(VolumeSize=1)["SnapshotId"]
    for call, reason in [
            (lambda: put(ebs, sid, 2048, ZEROS), "INVALID_BLOCK"),          # past 1 GiB
            (lambda: put(ebs, sid, 0, b"short"), "INVALID_PARAMETER_VALUE"),
            (lambda: ebs.start_snapshot(VolumeSize=1, Encrypted=True), "INVALID_PARAMETER_VALUE"),
            (lambda: ebs.start_snapshot(VolumeSize=70000), "INVALID_VOLUME_SIZE"),
            (lambda: get(ebs, sid, 0, "AAAA"), "INVALID_BLOCK_TOKEN"),
            (lambda: ebs.start_snapshot(VolumeSize=1, ParentSnapshotId=sid),
             "INVALID_PARAMETER_VALUE")]:                                    # parent pending
        with pytest.raises(ClientError) as err:
            call()
        assert err.value.response["Error"]["Code"] == "ValidationException"
        assert err.value.response["Reason"] == reason, err.value.response


def test_start_snapshot_is_idempotent_by_client_token(ebs):
    one = ebs.start_snapshot(VolumeSize=1, ClientToken="ct-1")
    again = ebs.start_snapshot(VolumeSize=1, ClientToken="ct-1")
    assert again["SnapshotId"] == one["SnapshotId"]
    with pytest.raises(ClientError) as err:
        ebs.start_snapshot(VolumeSize=2, ClientToken="ct-1")
    assert err.value.response["Error"]["Code"] == "ConflictException"


def linear(blocks: dict[int, bytes]) -> dict:
    """CompleteSnapshot's aggregate as EBS clients compute it: SHA256 over the blocks'
    SHA256 digests in index order, base64."""
    total = hashlib.sha256()
    for i in sorted(blocks):
        total.update(hashlib.sha256(blocks[i]).digest())
    return {"Checksum": base64.b64encode(total.digest()).decode(),
            "ChecksumAlgorithm": "SHA256", "ChecksumAggregationMethod": "LINEAR"}


def _chunk_files(server) -> set[str]:
    root = os.path.join(server.data_dir, "chunks")
    return {os.path.join(d, f) for d, _, files in os.walk(root) for f in files}
