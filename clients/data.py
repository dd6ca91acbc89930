"""DataPlaneService methods of `AsyncClient`: thin wrappers the bulk-transfer tools build on.

They pass protobuf messages through unchanged: compression, hashing and verification
belong to the transfer code above, which knows what it asked for.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Iterable

import grpc

from blockstore.v1 import data_plane_pb2 as dp
from clients.errors import (BlockstoreError, Unavailable, from_rpc_error, from_status,
                            local_transport_failure)

# The server answers FindMissingChunks for at most this many tokens per call.
MAX_TOKENS_PER_CALL = 10_000


def volume_target(volume_id: str, data_version: int = 0) -> dp.UploadTarget:
    """Write a volume at `data_version`, which must be its open version; 0 means the open
    version when the stream opens: the server fixes it then, so a snapshot taken while the
    stream runs fails the stream (INVALID_DATA_VERSION) rather than moving its blocks on."""
    return dp.UploadTarget(volume_id=volume_id, data_version=data_version)


def snapshot_target(snapshot_id: str, version: int) -> dp.UploadTarget:
    """Write into a pending UPLOAD snapshot; `version` must be the snapshot's version."""
    return dp.UploadTarget(snapshot_id=snapshot_id, data_version=version)


def _source(volume_id: str | None, snapshot_id: str | None) -> dict:
    if bool(volume_id) == bool(snapshot_id):
        raise ValueError("give exactly one of volume_id or snapshot_id")
    return {"volume_id": volume_id} if volume_id else {"snapshot_id": snapshot_id}


class DataPlaneMethods:
    """Mixed into AsyncClient, which provides `planes` (clients/planes.py), `_data_unary`
    and `_stream_kwargs`."""

    async def find_missing_chunks(self, tokens: Iterable[bytes]) -> list[bytes]:
        """The tokens the account lacks; batches large sets so any size may be asked."""
        tokens, missing = list(tokens), []
        for i in range(0, len(tokens), MAX_TOKENS_PER_CALL):
            req = dp.FindMissingChunksRequest(tokens=tokens[i:i + MAX_TOKENS_PER_CALL])
            missing.extend((await self._data_unary("FindMissingChunks", req)).missing_tokens)
        return missing

    async def list_blocks_page(self, volume_id: str | None = None,
                               snapshot_id: str | None = None, start_offset: int = 0,
                               page_size: int = 0, page_token: str = ""
                               ) -> tuple[list[dp.BlockEntry], str]:
        req = dp.ListBlocksRequest(**_source(volume_id, snapshot_id), start_offset=start_offset,
                                   page_size=page_size, page_token=page_token)
        resp = await self._data_unary("ListBlocks", req)
        return list(resp.blocks), resp.next_page_token

    async def list_blocks(self, volume_id: str | None = None, snapshot_id: str | None = None,
                          start_offset: int = 0, page_size: int = 0
                          ) -> AsyncIterator[dp.BlockEntry]:
        """Written chunks, ascending; holes are absent, written zeros have `zero` set."""
        token = ""
        while True:
            blocks, token = await self.list_blocks_page(volume_id, snapshot_id, start_offset,
                                                        page_size, token)
            for block in blocks:
                yield block
            if not token:
                return

    async def list_changed_blocks_page(self, target_snapshot_id: str,
                                       base_snapshot_id: str = "", page_size: int = 0,
                                       page_token: str = "") -> tuple[list[dp.ChangedBlock], str]:
        req = dp.ListChangedBlocksRequest(base_snapshot_id=base_snapshot_id,
                                          target_snapshot_id=target_snapshot_id,
                                          page_size=page_size, page_token=page_token)
        resp = await self._data_unary("ListChangedBlocks", req)
        return list(resp.changes), resp.next_page_token

    async def list_changed_blocks(self, target_snapshot_id: str, base_snapshot_id: str = "",
                                  page_size: int = 0) -> AsyncIterator[dp.ChangedBlock]:
        """Chunks that differ between base and target (every written chunk without a base)."""
        token = ""
        while True:
            changes, token = await self.list_changed_blocks_page(
                target_snapshot_id, base_snapshot_id, page_size, token)
            for change in changes:
                yield change
            if not token:
                return

    async def upload_blocks(self, target: dp.UploadTarget,
                            blocks: AsyncIterable[dp.UploadBlock | dp.UploadBlocksRequest | bytes]
                            | Iterable[dp.UploadBlock | dp.UploadBlocksRequest | bytes],
                            *, timeout: float | None = None) -> dp.UploadBlocksResponse:
        """One stream, committed atomically when it returns. Not retried: see clients.aio.

        When `blocks` is a sized collection its length goes into `target.block_count`, so
        a stream cut short (a cancelled call ends like a normal one on the server side)
        can never commit part of its blocks.
        """
        if isinstance(blocks, (list, tuple)) and not target.block_count:
            sized = dp.UploadTarget()
            sized.CopyFrom(target)
            sized.block_count = len(blocks)
            target = sized
        # The stub's own method would serialize every message on the event loop; this
        # one takes bytes (see `_request`) and parses the reply as usual.
        async with self.planes.use() as plane:
            upload = plane.channel.stream_unary(
                UPLOAD_METHOD, request_serializer=None,
                response_deserializer=dp.UploadBlocksResponse.FromString)
            requests, first = _Requests(target, blocks), _FirstStatus()
            call = upload(requests, **self._stream_kwargs(timeout))
            call.add_done_callback(first)
            try:
                return await call
            except grpc.RpcError as rpc:
                # A server that refuses a stream early (STREAM_TOO_LONG on its target)
                # ends the call while we still send; grpc.aio may then report the failed
                # send (its own INTERNAL) over the status the server sent, which it had
                # already recorded first. That first status is the server's answer.
                if first.error is not None and local_transport_failure(
                        rpc.code(), rpc.details() or "", rpc.trailing_metadata() or ()):
                    raise first.error from rpc
                raise from_rpc_error(rpc) from rpc
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise                     # our caller cancelled us: let it through
                # grpc.aio cancels a stream-request call itself when anything goes wrong
                # while it feeds the request iterator, and then the await raises a bare
                # CancelledError. Either our own iterator failed (raise its error) or the
                # connection broke under a send (kill -9 of the plane): UNAVAILABLE, so the
                # plane is marked failed and the retry loop sends the stream again.
                if requests.error is not None:
                    raise requests.error from None
                raise Unavailable(grpc.StatusCode.UNAVAILABLE, "",
                                  f"the connection to data plane {plane.address} broke "
                                  "while the upload stream was being sent") from None

    async def download_blocks(self, volume_id: str | None = None,
                              snapshot_id: str | None = None,
                              ranges: Iterable[tuple[int, int]] = (),
                              accept_compression: Iterable[int] = (), *,
                              timeout: float | None = None, raw: bool = False
                              ) -> AsyncIterator[dp.DownloadBlocksResponse]:
        """Blocks of the (offset, length) ranges as the server sends them; not verified here.
        `raw`: each message's wire bytes instead (bulk transfer reads them in worker
        threads without copying the data, clients/transfer/wire.py)."""
        req = dp.DownloadBlocksRequest(
            **_source(volume_id, snapshot_id),
            ranges=[dp.ByteRange(offset=o, length=n) for o, n in ranges],
            accept_compression=list(accept_compression))
        async with self.planes.use() as plane:
            method = plane.channel.unary_stream(
                DOWNLOAD_METHOD, request_serializer=dp.DownloadBlocksRequest.SerializeToString,
                response_deserializer=None if raw else dp.DownloadBlocksResponse.FromString)
            try:
                async for block in method(req, **self._stream_kwargs(timeout)):
                    yield block
            except grpc.RpcError as rpc:
                raise from_rpc_error(rpc) from rpc


UPLOAD_METHOD = "/blockstore.v1.DataPlaneService/UploadBlocks"
DOWNLOAD_METHOD = "/blockstore.v1.DataPlaneService/DownloadBlocks"
# Blocks one UploadBlocks stream may carry: the service's default `max_blocks_per_stream`
# (docs/limits.md). A longer stream is INVALID_ARGUMENT STREAM_TOO_LONG and writes nothing.
MAX_STREAM_BLOCKS = 32_768


def _request(block: dp.UploadBlock | dp.UploadBlocksRequest | bytes) -> bytes:
    """Each stream message, serialized. Bulk transfer hands in messages it already
    serialized in worker threads, so the event loop that drives gRPC never copies a
    chunk's bytes; anything else is wrapped and serialized here."""
    if isinstance(block, bytes):
        return block
    if not isinstance(block, dp.UploadBlocksRequest):
        block = dp.UploadBlocksRequest(block=block)
    return block.SerializeToString()


def _settled(coro):
    """The value of a coroutine that finishes without waiting (the status accessors of a
    finished call do), else None."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value
    coro.close()
    return None


class _FirstStatus:
    """Done callback of an upload call: the first status the call finished with, as a
    typed error, unless it was OK or grpc.aio's own send failure."""

    def __init__(self) -> None:
        self.error: BlockstoreError | None = None

    def __call__(self, call) -> None:
        try:
            code = _settled(call.code())
            if code is None or code == grpc.StatusCode.OK:
                return
            details = _settled(call.details()) or ""
            trailers = _settled(call.trailing_metadata()) or ()
            if not local_transport_failure(code, details, trailers):
                self.error = from_status(code, details, trailers)
        except Exception:               # never break grpc's callback loop; no answer known
            self.error = None


class _Requests:
    """The target first, then one block per message, as the API requires; remembers an
    error the caller's blocks raised (grpc.aio swallows it and cancels the call)."""

    def __init__(self, target: dp.UploadTarget, blocks) -> None:
        self.target, self.blocks = target, blocks
        self.error: BaseException | None = None

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._messages()

    async def _messages(self) -> AsyncIterator[bytes]:
        yield dp.UploadBlocksRequest(target=self.target).SerializeToString()
        try:
            if hasattr(self.blocks, "__aiter__"):
                async for block in self.blocks:
                    yield _request(block)
            else:
                for block in self.blocks:
                    yield _request(block)
        except GeneratorExit:
            raise
        except Exception as err:
            self.error = err
            raise

