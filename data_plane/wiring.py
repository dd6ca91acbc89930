"""Builds the data plane for services/server.py: chunk store, worker threads, servicer.

Owns the assembly of one data plane and its close. Rule: the chunk-store wrappers are
not chosen here; services/server.py passes `stack`, so they are stacked in one place.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from chunkstore import open_chunk_store
from data_plane.config import DataPlaneConfig
from data_plane.operations import Operations
from data_plane.servicer import DataPlaneServicer


async def build_data_plane(config, store, dp_config: DataPlaneConfig | None = None,
                           stack=None):
    """Returns the servicer and an async close function. `stack(chunks)`, if given,
    returns the chunk store the plane uses: services/server.py stacks its wrappers
    (space reserve, tracing) around the backend there, in one place."""
    dp_config = dp_config or DataPlaneConfig()
    executor = ThreadPoolExecutor(dp_config.workers, thread_name_prefix="blockstore-io")
    chunks = open_chunk_store(config.chunks_url, fsync=config.fsync, executor=executor)
    if stack is not None:
        chunks = stack(chunks)
    operations = Operations(store, dp_config.operation_ttl_s)

    async def close() -> None:
        await operations.close()
        await chunks.close()
        executor.shutdown(wait=True)

    return DataPlaneServicer(store, chunks, executor, dp_config, operations), close
