"""The metering switch and the manifest wrapper's outcomes, in process on a real SQLite file.

Without `--metrics-listen` nothing is stacked (a server that exports no metrics pays
nothing); with it, each manifest transaction is timed once under the outcome it had.
"""

from __future__ import annotations

import pytest

from chunkstore import LocalChunkStore
from manifest import open_manifest
from services.metering import Metering
from tests.serverproc import sqlite_url


async def test_without_metrics_listen_nothing_is_stacked(tmp_path):
    metering = Metering("", sqlite_url(tmp_path / "m.db"), f"file://{tmp_path}")
    store, chunks = object(), LocalChunkStore(tmp_path)
    assert metering.manifest(store) is store and metering.chunks(chunks) is chunks
    assert metering.observers() == [] and metering.metrics is None
    closers: list = []
    assert await metering.serve(closers) == 0 and closers == []
    metering.gc_finished("ok")          # observers are no-ops, not errors
    metering.ebs_finished("StartSnapshot", "OK")


async def test_manifest_transactions_are_timed_by_outcome(tmp_path):
    url = sqlite_url(tmp_path / "m.db")
    metering = Metering("127.0.0.1:0", url, f"file://{tmp_path}")
    store = metering.manifest(await open_manifest(url))

    def count(kind: str, outcome: str) -> float:
        return metering.metrics.registry.get_sample_value(
            "blockstore_manifest_transaction_seconds_count",
            {"backend": "sqlite", "kind": kind, "outcome": outcome}) or 0.0
    try:
        async with store.read() as tx:
            assert await tx.account_count() == 0
        async with store.write() as tx:
            await tx.account_count()
        with pytest.raises(LookupError):
            async with store.write() as tx:
                raise LookupError("a refused request rolls back")
        assert (count("read", "commit"), count("write", "commit"),
                count("write", "rollback"), count("write", "error")) == (1, 1, 1, 0)
        waits = metering.metrics.registry.get_sample_value(
            "blockstore_manifest_transaction_wait_seconds_count",
            {"backend": "sqlite", "kind": "write"})
        assert waits == 2, "each write that began waited once"
    finally:
        await store.close()
