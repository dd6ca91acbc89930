"""UploadBlocks: one stream, checked block by block, committed in one transaction.

Order of events for a stream (invariants 2-5 of docs/design.md):
1. The target is resolved: a volume at its open version (data_version 0 or equal to
   it) or the earliest outstanding UPLOAD snapshot at its version.
2. Each block is checked (range, alignment, length, duplicates). Data blocks are
   gathered into batches of about `upload_batch_bytes`; a batch is decoded within each
   block's length and verified against its BLAKE3 in one worker-thread hop, all-zero
   data becomes a ZERO row, and its new chunks are stored durably in one `put_many`
   (the chunk store fsyncs) before anything refers to them. Per batch, not per block,
   because at 64 KiB chunks the thread hops, account lookups and fsyncs per block cost
   more than the hashing. At most `upload_window` batches are in flight, so a stream's
   memory is bounded whatever its length, and all streams of the process together hold
   at most `upload_memory` bytes of block data (hand-off and budget rules:
   data_plane/upload_batches.py, data_plane/upload_memory.py). Whether the account
   already holds a chunk is looked up for several batches at once
   (data_plane/held_lookups.py).
3. When the client half-closes, every chunk write has finished; one manifest write
   transaction re-checks the target (a snapshot taken meanwhile, a completion or a
   deletion makes the stream fail), re-checks references against the account's chunk
   set, and writes all rows, or none. A stream that fails or is cancelled writes no
   row; chunks it stored stay unreferenced until garbage collection.

The stream is recorded as an active operation before its first block
(data_plane/operations.py), so GC keeps every chunk it puts or touches until it ends;
the commit transaction checks that the record is still there (else CHUNK_COLLECTED,
retryable) and removes it.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace

from blockstore.errors import (BlockCountMismatch, ChunkCollected, InvalidArgument,
                               InvalidBlockData, UnknownChunkReference)
from chunkstore import ChunkPut, ChunkStore, Compression, Recheck, recheck
from data_plane.blocks import BlockIn, Prepared, check_shape, prepare_batch
from data_plane.config import DataPlaneConfig
from data_plane.held_lookups import HeldLookups
from data_plane.operations import Operation, Operations
from data_plane.targets import Target, check_target
from data_plane.upload_batches import Batches
from data_plane.upload_memory import UploadMemory
from manifest import ManifestStore, ManifestTx


@dataclass
class UploadResult:
    blocks_written: int = 0
    bytes_received: int = 0
    bytes_stored: int = 0
    dedup_hits: int = 0
    tokens: list[bytes] = field(default_factory=list)


class UploadSession:
    """Blocks of one stream in flight; `finish` commits them, `abort` drops them."""

    def __init__(self, target: Target, chunks: ChunkStore, store: ManifestStore,
                 executor: Executor, config: DataPlaneConfig, expected_blocks: int = 0,
                 operation: tuple[Operations, Operation] | None = None,
                 memory: UploadMemory | None = None) -> None:
        if expected_blocks < 0:
            raise InvalidArgument(f"block_count {expected_blocks} of the stream to "
                                  f"{target.name} is negative")
        self.expected_blocks = expected_blocks
        self.target, self.chunks, self.store = target, chunks, store
        self.executor, self.config = executor, config
        self.operation = operation
        self._batches = Batches(self._store, memory or UploadMemory(config.upload_memory),
                                config.upload_window, config.upload_batch_bytes,
                                config.upload_batch_blocks)
        self.result = UploadResult()
        self._seen: set[int] = set()
        self._zeros = bytes(target.chunk_size)
        self._rows: list[tuple[int, bytes | None]] = []   # (chunk_index, token|None) in order
        self._new: dict[bytes, tuple[int, int]] = {}      # token -> (plain, stored) lengths
        self._refs: dict[bytes, tuple[int, int]] = {}     # token -> (offset, length)
        self._unchecked: list[bytes] = []
        self._reference_blocks = 0
        self._incoming: dict[bytes, int] = {}             # checksum -> length of data blocks
        self._held = HeldLookups(store, target.account_id)

    async def add(self, block: BlockIn) -> None:
        t = self.target
        if self.expected_blocks and len(self._rows) >= self.expected_blocks:
            raise BlockCountMismatch(f"the stream to {t.name} announced {self.expected_blocks} "
                                     f"blocks and carries more", offset=block.offset)
        index = check_shape(block, t.size_bytes, t.chunk_size, self._seen, t.name)
        self.result.bytes_received += len(block.data)
        if block.zero:
            self._rows.append((index, None))
        elif block.is_reference:
            self._rows.append((index, block.checksum))
            self._reference_blocks += 1
            self._refs.setdefault(block.checksum, (block.offset, block.length))
            self._unchecked.append(block.checksum)
            if len(self._unchecked) >= self.config.reference_batch:
                await self._check_references(self._unchecked)
                self._unchecked = []
        else:
            self._rows.append((index, b""))      # filled in when its batch is stored
            self._incoming[block.checksum] = block.length
            self._held.arrived(block.checksum)
            await self._batches.add(block, len(self._rows) - 1)

    async def _store(self, batch: list[tuple[BlockIn, int]]) -> None:
        """One worker-thread hop verifies and encodes the batch, one `put_many` stores
        its new chunks (after an account lookup, shared with later batches)."""
        loop = asyncio.get_running_loop()
        done = await loop.run_in_executor(
            self.executor, prepare_batch, [block for block, _ in batch],
            self.target.name, self._zeros, self.config.zstd_level)
        for (_, slot), (prepared, _) in zip(batch, done):
            self._rows[slot] = (self._rows[slot][0], prepared.token)
        await self._put([(prepared, *stored) for prepared, stored in done
                         if prepared.token is not None])

    async def _put(self, chunks: list[tuple[Prepared, Compression, bytes]]) -> None:
        """Store verified chunks and count them against the caller's own account.

        Account scope: a chunk counts as a dedup hit only if the caller's account already
        holds it (or the stream carried it before). One that only another account holds is
        new to the caller: charged as stored, exactly as if the store had never seen it.
        """
        puts = []
        for prepared, compression, payload in chunks:
            token = prepared.token
            assert token is not None
            if token in self._new:
                self.result.dedup_hits += 1
                continue
            self._new[token] = (len(prepared.plain), len(payload))
            puts.append(ChunkPut(token, payload, compression, len(prepared.plain)))
        if not puts:
            return
        held = await self._held.held([p.token for p in puts])
        # New to the caller, whether or not another account stores it: written and
        # charged like any new chunk, and with the same work, so neither the reply nor
        # its timing tells (bench/dedup_timing.py measures what is left).
        puts = [replace(p, overwrite=p.token not in held) for p in puts]
        for put, written in zip(puts, await self.chunks.put_many(puts)):
            if not put.overwrite:
                written = await self._heal(put, written)
            if written:
                self.result.bytes_stored += len(put.payload)
            else:
                self.result.dedup_hits += 1

    async def _heal(self, put: ChunkPut, written: bool) -> bool:
        """Data deduplicated against a stored chunk is only as good as that chunk, so it is
        read and verified once (clients avoid sending known data, so this is rare); a
        rotten or vanished copy is replaced by the verified data in hand."""
        if written or await recheck(self.chunks, put.token) is Recheck.SOUND:
            return written
        await self.chunks.put(put.token, put.payload, put.compression, put.plain_length)
        return True

    async def _check_references(self, tokens: list[bytes], tx: ManifestTx | None = None) -> None:
        """References must name chunks of the caller's own account, of the block's length."""
        # A reference to data sent earlier in this stream is fine: that block is verified
        # before the stream can commit, and the stream fails as a whole if it is not.
        wanted = []
        for token in set(tokens):
            if token not in self._incoming:
                wanted.append(token)
            elif self._incoming[token] != self._refs[token][1]:
                offset, length = self._refs[token]
                raise InvalidBlockData(f"block at offset {offset} references chunk "
                                       f"{token.hex()} of {self._incoming[token]} bytes; the "
                                       f"block is {length}", offset=offset)
        if not wanted:
            return
        if tx is None:
            async with self.store.read() as rtx:
                known, lengths = await _known(rtx, self.target.account_id, wanted)
        else:
            known, lengths = await _known(tx, self.target.account_id, wanted)
        for token in wanted:
            offset, length = self._refs[token]
            # The touch, after this stream's record committed, is what keeps the chunk
            # from GC until the stream ends (services/gc.py, point 3). At commit (`tx`)
            # the record still stands, so the chunk is still there: no file I/O while
            # the write lock is held, only the account check.
            if token not in known or (tx is None and not await self.chunks.touch(token)):
                raise UnknownChunkReference(
                    f"block at offset {offset} of {self.target.name} references chunk "
                    f"{token.hex()}, which this account does not hold; send its data",
                    offset=offset)
            if lengths.get(token) != length:
                raise InvalidBlockData(f"block at offset {offset} references chunk "
                                       f"{token.hex()} of {lengths.get(token)} bytes; the "
                                       f"block is {length}", offset=offset)

    async def finish(self) -> UploadResult:
        """Wait for every chunk write, then commit all rows in one transaction."""
        try:
            await self._batches.finish()
        except BaseException:
            await self.abort()
            raise
        if self.expected_blocks and len(self._rows) != self.expected_blocks:
            raise BlockCountMismatch(f"the stream to {self.target.name} announced "
                                     f"{self.expected_blocks} blocks but carried "
                                     f"{len(self._rows)}; nothing was written",
                                     expected=self.expected_blocks, received=len(self._rows))
        await self._check_references(self._unchecked)
        t = self.target
        async with self.store.write() as tx:
            await check_target(tx, t.account_id, "" if t.snapshot_id else t.volume_id,
                               t.snapshot_id, t.version, t.lease_holder,
                               self.config.clock.now_us())
            await self._check_references(list(self._refs), tx)
            await self._end_operation(tx)
            await self._commit(tx)
        if self.operation:
            self.operation[0].ended(self.operation[1])
        return self._finish_result()

    async def _end_operation(self, tx: ManifestTx) -> None:
        """GC kept what this stream relied on only while its record stood."""
        if self.operation is None:
            return
        operations, op = self.operation
        if not await tx.operation_alive(op.op_id):
            raise ChunkCollected(f"the stream to {self.target.name} outlived its record as an "
                                 "active operation, so garbage collection may have taken "
                                 "chunks it relies on; retry the stream")
        await operations.end_in(tx, op)

    async def _commit(self, tx: ManifestTx) -> None:
        now = self.config.clock.now_us()
        # A reference to a block of this stream whose data turned out all zeros is zero too:
        # that token was never stored.
        zeroed = set(self._incoming) - set(self._new)
        if zeroed:
            self._rows = [(i, None if t in zeroed else t) for i, t in self._rows]
        if self._rows:
            await tx.upsert_blocks(self.target.vid, self.target.version, self._rows)
        new = [(tok, plain, stored) for tok, (plain, stored) in self._new.items()]
        await tx.record_chunks(new, now)
        await tx.add_account_tokens(self.target.account_id, self._new)

    def _finish_result(self) -> UploadResult:
        r = self.result
        r.blocks_written = len(self._rows)
        r.dedup_hits += self._reference_blocks
        r.tokens = [tok or b"" for _, tok in self._rows]
        return r

    async def abort(self) -> None:
        await self._batches.abort()


async def _known(tx: ManifestTx, account_id: str,
                 tokens: list[bytes]) -> tuple[set[bytes], dict[bytes, int]]:
    return await tx.tokens_known(account_id, tokens), await tx.chunk_lengths(tokens)
