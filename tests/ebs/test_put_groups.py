"""Group commit of PutSnapshotBlock (ebs_facade/groups.py): puts to one snapshot that
arrive while a group is being written go together into the next one, a group never
holds an index twice, and one bad block fails only its own put. The writer here stands
in for the upload (it records the groups it is given and fails a group holding a block
it calls bad); the end-to-end cases over HTTP are in test_workflow.py and below."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from data_plane.blocks import BlockIn
from ebs_facade.groups import PutGroups
from tests.ebs.conftest import BLOCK, all_blocks, get, put

BAD = 666


class Writer:
    """Records each group; the first waits for `release`; a group with BAD fails."""

    def __init__(self) -> None:
        self.groups: list[list[int]] = []
        self.release = asyncio.Event()

    async def __call__(self, account_id: str, snapshot_id: str, blocks: list[BlockIn]):
        self.groups.append([b.offset for b in blocks])
        if len(self.groups) == 1:
            await self.release.wait()
        if BAD in self.groups[-1]:
            raise ValueError(f"block {BAD} is bad")


def block(offset: int) -> BlockIn:
    return BlockIn(offset, 1, b"t", "none", b"x", False)


async def test_puts_waiting_behind_a_group_commit_together_and_fail_alone():
    writer = Writer()
    groups = PutGroups(writer, parallel=1)
    first = asyncio.create_task(groups.put("acct", "snap", block(0)))
    while not writer.groups:                      # the first group is being written
        await asyncio.sleep(0)
    later = [asyncio.create_task(groups.put("acct", "snap", block(o)))
             for o in (1, 2, BAD, 3, 2, 4)]
    other = asyncio.create_task(groups.put("acct", "other-snap", block(9)))
    while groups.waiting("acct", "snap") < len(later):
        await asyncio.sleep(0)
    writer.release.set()
    results = await asyncio.gather(first, *later, other, return_exceptions=True)
    assert [type(r).__name__ for r in results] == \
        ["NoneType"] * 3 + ["ValueError"] + ["NoneType"] * 4, "only the bad put fails"
    assert writer.groups[0] == [0] and [9] in writer.groups
    ours = [g for g in writer.groups[1:] if g != [9]]
    assert ours[0] == [1, 2, BAD, 3], "waiting puts form one group, up to a repeated index"
    assert ours[1:5] == [[1], [2], [BAD], [3]], "a failed group: each put again alone"
    assert ours[5] == [2, 4], "the second put of index 2 comes after the first"


async def test_a_caller_that_went_away_is_not_written():
    writer = Writer()
    groups = PutGroups(writer, parallel=1)
    first = asyncio.create_task(groups.put("acct", "snap", block(0)))
    while not writer.groups:
        await asyncio.sleep(0)
    gone = asyncio.create_task(groups.put("acct", "snap", block(1)))
    kept = asyncio.create_task(groups.put("acct", "snap", block(2)))
    while groups.waiting("acct", "snap") < 2:
        await asyncio.sleep(0)
    gone.cancel()
    writer.release.set()
    await asyncio.gather(first, kept)
    assert writer.groups == [[0], [2]]
    with pytest.raises(asyncio.CancelledError):
        await gone


async def test_a_second_group_is_written_while_the_first_still_is():
    writer = Writer()
    groups = PutGroups(writer, parallel=2)
    first = asyncio.create_task(groups.put("acct", "snap", block(0)))
    while not writer.groups:
        await asyncio.sleep(0)
    await asyncio.wait_for(groups.put("acct", "snap", block(1)), 30)
    assert not first.done(), "the second group committed while the first was held"
    third = asyncio.create_task(groups.put("acct", "snap", block(2)))
    writer.release.set()
    await asyncio.gather(first, third)
    assert sorted(map(sorted, writer.groups)) == [[0], [1], [2]]


def test_concurrent_puts_with_one_bad_block_over_http(ebs):
    sid = ebs.start_snapshot(VolumeSize=1)["SnapshotId"]
    blocks = {i: os.urandom(BLOCK) for i in range(24)}
    blocks[2048] = os.urandom(BLOCK)              # past the end of 1 GiB

    def attempt(i: int) -> str:
        try:
            put(ebs, sid, i, blocks[i])
            return "ok"
        except ClientError as err:
            return err.response.get("Reason", "?")

    with ThreadPoolExecutor(12) as pool:
        outcomes = dict(zip(blocks, pool.map(attempt, blocks)))
    assert outcomes == {**{i: "ok" for i in range(24)}, 2048: "INVALID_BLOCK"}
    ebs.complete_snapshot(SnapshotId=sid, ChangedBlocksCount=24)
    listed = all_blocks(ebs, sid)
    assert sorted(listed) == list(range(24))
    assert all(get(ebs, sid, i, listed[i])[0] == blocks[i] for i in (0, 11, 23))
