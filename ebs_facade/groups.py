"""Group commit for PutSnapshotBlock: concurrent puts to one snapshot share one upload.

EBS clients put one 512 KiB block per request, many in parallel. Committed one by one,
each put would cost its own active-operation record, target check and manifest write
transaction, several times the cost of the block itself (bench/ebs_api.py). So the puts
to a snapshot that arrive while earlier groups of them are being written wait and go
together into the next group: one UploadSession (the same checks, durability and single
commit transaction as an UploadBlocks stream). Up to `parallel` groups of a snapshot are
written at once, so the chunk writes of one overlap the commit of another, as the
streams of `blockstore backup` do. Rules kept:
- a put is answered only after the transaction holding its row committed;
- a group never holds the same block index twice; a put sent after another put of its
  index was answered lands after it (concurrent puts of one index land in either order,
  as at EBS);
- one put's bad block never fails another: if a group fails, each of its puts is tried
  again alone and gets its own outcome;
- a put whose caller went away before its group started is dropped (nothing was
  acknowledged to anyone).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Awaitable, Callable

from data_plane.blocks import BlockIn

Key = tuple[str, str]                                   # (account id, snapshot id)
WriteGroup = Callable[[str, str, list[BlockIn]], Awaitable[None]]


@dataclass
class _Put:
    block: BlockIn
    answer: asyncio.Future


class PutGroups:
    def __init__(self, write: WriteGroup, max_group: int = 64, parallel: int = 2) -> None:
        self.write, self.max_group, self.parallel = write, max_group, parallel
        self._queued: dict[Key, list[_Put]] = {}
        self._writers: dict[Key, set[asyncio.Task]] = {}  # at most `parallel` per snapshot

    async def put(self, account_id: str, snapshot_id: str, block: BlockIn) -> None:
        """Returns once the block is committed; raises what writing it raised."""
        key = (account_id, snapshot_id)
        answer = asyncio.get_running_loop().create_future()
        self._queued.setdefault(key, []).append(_Put(block, answer))
        writers = self._writers.setdefault(key, set())
        if len(writers) < self.parallel:
            writers.add(asyncio.create_task(self._drain(key)))
        await answer

    def waiting(self, account_id: str, snapshot_id: str) -> int:
        """Puts queued for the snapshot's next group."""
        return len(self._queued.get((account_id, snapshot_id), []))

    async def _drain(self, key: Key) -> None:
        try:
            while self._queued.get(key):
                group = self._take(key)
                if group:
                    await self._write(key, group)
        finally:                    # no await from the last check to here: no put is lost
            writers = self._writers[key]
            writers.discard(asyncio.current_task())
            if not writers:         # the last writer: what is left had its writers cancelled
                del self._writers[key]
                for put in self._queued.pop(key, []):
                    put.answer.cancel()

    def _take(self, key: Key) -> list[_Put]:
        queue, group, offsets = self._queued[key], [], set()
        while queue and len(group) < self.max_group and queue[0].block.offset not in offsets:
            put = queue.pop(0)
            if not put.answer.done():                   # its caller is still waiting
                offsets.add(put.block.offset)
                group.append(put)
        return group

    async def _write(self, key: Key, group: list[_Put]) -> None:
        try:
            await self.write(*key, [p.block for p in group])
        except Exception as exc:
            if len(group) == 1:
                _answer(group[0], exc)
                return
            for put in group:                           # whose block was it? each alone
                await self._write(key, [put])
            return
        except BaseException:                           # cancelled: the server stops
            for put in group:
                put.answer.cancel()
            raise
        for put in group:
            _answer(put, None)


def _answer(put: _Put, exc: Exception | None) -> None:
    if put.answer.done():
        return
    if exc is None:
        put.answer.set_result(None)
    else:
        put.answer.set_exception(exc)
