"""Builds the data plane for services/server.py: chunk store, worker threads, servicer."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from chunkstore import open_chunk_store
from chunkstore.reserve import ReservingChunkStore
from data_plane.config import DataPlaneConfig
from data_plane.operations import Operations
from data_plane.servicer import DataPlaneServicer


async def build_data_plane(config, store, dp_config: DataPlaneConfig | None = None,
                           space_check=None):
    """Returns the servicer and an async close function. `space_check(what)`, if given,
    raises StorageFull when new chunk data must be refused (services/space.py)."""
    dp_config = dp_config or DataPlaneConfig()
    executor = ThreadPoolExecutor(dp_config.workers, thread_name_prefix="blockstore-io")
    chunks = open_chunk_store(config.chunks_url, fsync=config.fsync, executor=executor)
    if space_check is not None:
        chunks = ReservingChunkStore(chunks, space_check)
    operations = Operations(store, dp_config.operation_ttl_s)

    async def close() -> None:
        await operations.close()
        await chunks.close()
        executor.shutdown(wait=True)

    return DataPlaneServicer(store, chunks, executor, dp_config, operations), close
