"""`DataPlaneService` over gRPC: validate, call the domain, convert. Nothing else.

Owns the RPC methods of the data plane and the message <-> record conversion of blocks
(DownloadBlocks yields `BlockOut` records, encoded by data_plane/servicer_wire.py).
Rules: the work of uploads and downloads is the domain's (data_plane/upload.py,
download.py); the servicer admits a stream (per-account slots, idle bound, upload
memory), converts, and lets domain errors reach the one error table (services/errors.py).
"""

from __future__ import annotations

import asyncio
import contextlib

from blockstore.caller import current_account
from blockstore.errors import InvalidArgument, StreamTooLong
from blockstore.v1 import common_pb2 as pb
from blockstore.v1 import data_plane_pb2 as dp
from blockstore.v1 import data_plane_pb2_grpc as dp_grpc
from data_plane.blocks import BlockIn
from data_plane.download import Downloader
from data_plane.listing import find_missing, list_blocks, list_changes
from data_plane.stream_idle import IdleBounded
from data_plane.stream_slots import StreamSlots
from data_plane.targets import check_target
from data_plane.upload import UploadSession
from data_plane.upload_memory import UploadMemory
from data_plane.views import source_view

COMPRESSION_NAME = {pb.COMPRESSION_UNSPECIFIED: "none", pb.COMPRESSION_NONE: "none",
                    pb.COMPRESSION_ZSTD: "zstd"}


def block_in(msg: dp.UploadBlock) -> BlockIn:
    return BlockIn(msg.offset, msg.length, msg.checksum,
                   COMPRESSION_NAME.get(msg.compression, f"#{msg.compression}"), msg.data,
                   msg.zero)


async def _not_cancelled(context) -> None:
    """grpc.aio ends the request iterator of a failed call (client cancel, a message over
    the size limit, shutdown) like a normal half-close and cancels the handler a moment
    later. Sending the initial metadata is one round trip through gRPC's completion queue:
    on a dead call the cancellation lands during it (a bare `sleep(0)` let about one such
    stream in ten commit part of its blocks); on a live one it costs a few microseconds."""
    try:
        await context.send_initial_metadata(())
    except Exception:
        raise asyncio.CancelledError("the UploadBlocks call failed before commit") from None
    if context.cancelled() or context.done():
        raise asyncio.CancelledError("client cancelled the UploadBlocks stream")


def _too_long(name: str, cap: int, announced: int = 0) -> StreamTooLong:
    carries = f"announces {announced} blocks" if announced else "carries more blocks"
    return StreamTooLong(f"{name} {carries}; one UploadBlocks stream takes at most {cap}: "
                         "split the upload into several streams (nothing was written)",
                         limit=cap)


class DataPlaneServicer(dp_grpc.DataPlaneServiceServicer):
    def __init__(self, store, chunks, executor, config, operations) -> None:
        self.store, self.chunks, self.executor, self.config = store, chunks, executor, config
        self.operations = operations
        self.downloader = Downloader(store, chunks, executor, config, operations)
        self.upload_slots = StreamSlots(config.max_upload_streams_per_account,
                                        config.limit_retry_after_s, config.max_upload_streams)
        self.upload_memory = UploadMemory(config.upload_memory)

    async def UploadBlocks(self, request_iterator, context):
        # The slot is taken only once the target has arrived and checks out, and every
        # message is awaited for at most the idle timeout: a client that opens streams
        # and sends nothing, or stalls midway, holds no slot for long (docs/limits.md).
        messages = IdleBounded(request_iterator, self.config.stream_idle_timeout_s,
                               "UploadBlocks stream")
        first = await messages.next()
        if first is None:
            raise InvalidArgument("empty UploadBlocks stream: the first message must set target")
        # Recorded as an active operation before its first block (GC keeps what it relies
        # on); the slot goes back before the record is removed (a write).
        async with self.operations.running("upload") as op:
            session = await self._open(first, op)
            messages.name = f"UploadBlocks stream to {session.target.name}"
            with self.upload_slots.hold(current_account()):
                return await self._upload(session, messages, context)

    async def _upload(self, session: UploadSession, messages: IdleBounded, context):
        cap = self.config.max_blocks_per_stream
        try:
            async for msg in messages:
                if msg.WhichOneof("message") != "block":
                    raise InvalidArgument("only the first message of a stream sets target; "
                                          "every later one sets block")
                if messages.count > cap + 1:      # the target is message 1
                    raise _too_long(session.target.name, cap)
                await session.add(block_in(msg.block))
            await _not_cancelled(context)
            r = await session.finish()
        except BaseException:
            await session.abort()
            raise
        return dp.UploadBlocksResponse(blocks_written=r.blocks_written,
                                       bytes_received=r.bytes_received,
                                       bytes_stored=r.bytes_stored, dedup_hits=r.dedup_hits,
                                       tokens=r.tokens)

    async def _open(self, msg: dp.UploadBlocksRequest, op) -> UploadSession:
        if msg.WhichOneof("message") != "target":
            raise InvalidArgument("the first message of an UploadBlocks stream must set target")
        t = msg.target
        async with self.store.read() as tx:
            target = await check_target(tx, current_account(), t.volume_id, t.snapshot_id,
                                        t.data_version, t.lease_holder_id,
                                        self.config.clock.now_us())
        if t.block_count > self.config.max_blocks_per_stream:
            raise _too_long(f"the stream to {target.name}", self.config.max_blocks_per_stream,
                            t.block_count)
        await self.operations.record_alone(op, target.name)   # before any chunk is relied on
        return UploadSession(target, self.chunks, self.store, self.executor, self.config,
                             expected_blocks=t.block_count,
                             operation=(self.operations, op), memory=self.upload_memory)

    async def DownloadBlocks(self, request, context):
        ranges = [(r.offset, r.length) for r in request.ranges]
        accept_zstd = pb.COMPRESSION_ZSTD in request.accept_compression
        # aclosing: a cancelled call ends the download (and its operation record) now.
        async with contextlib.aclosing(self.downloader.blocks(
                current_account(), request.volume_id, request.snapshot_id, ranges,
                accept_zstd)) as blocks:
            async for block in blocks:
                yield block             # encoded by servicer_wire.block_wire

    async def FindMissingChunks(self, request, context):
        missing = await find_missing(self.store, current_account(), list(request.tokens),
                                     self.config.max_find_tokens)
        return dp.FindMissingChunksResponse(missing_tokens=missing)

    async def ListBlocks(self, request, context):
        async with self.store.read() as tx:
            view = await source_view(tx, current_account(), request.volume_id,
                                     request.snapshot_id)
        entries, token = await list_blocks(self.store, view, request.start_offset,
                                           request.page_size, request.page_token)
        return dp.ListBlocksResponse(
            blocks=[dp.BlockEntry(offset=e.offset, token=e.token or b"", zero=e.token is None)
                    for e in entries], next_page_token=token)

    async def ListChangedBlocks(self, request, context):
        changes, token = await list_changes(self.store, current_account(),
                                            request.base_snapshot_id,
                                            request.target_snapshot_id, request.page_size,
                                            request.page_token)
        return dp.ListChangedBlocksResponse(changes=[
            dp.ChangedBlock(offset=c.offset, base_token=c.base or b"",
                            target_token=c.target or b"", base_zero=c.base is None,
                            target_zero=c.target is None) for c in changes],
            next_page_token=token)
