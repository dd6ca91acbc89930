"""/metrics scraped over HTTP while an upload stream is open, parsed with prometheus-client.

A real `blockstore serve` on loopback; the upload is held open after its blocks went in,
so the scrape sees the stream in flight and its chunk writes, but none of the figures
that count only at commit. Every checked figure is a delta between two scrapes, equal to
what this test did: N puts, the bytes of the chunk files it made, N blocks, one RPC.
"""

from __future__ import annotations

import asyncio
import os
import threading
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from blockstore.v1 import control_plane_pb2 as cpb
from blockstore.v1 import data_plane_pb2 as dpb
from chunkstore import LocalChunkStore, blake3_token
from tests.limits.conftest import CHUNK, Client, block, target
from tests.observe import chunks_stored, until
from tests.ops.test_operations import metrics_url
from tests.serverproc import serve

N = 4


def scrape(url: str) -> dict[tuple[str, frozenset], float]:
    """Every sample, keyed by (sample name, its labels)."""
    with urllib.request.urlopen(url, timeout=10) as reply:
        text = reply.read().decode()
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def delta(after: dict, before: dict, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def datas() -> list[bytes]:
    """Half random (stored raw), half compressible (stored as zstd): the stored sizes
    differ from the received ones, so only a real sum of the chunk files matches."""
    return [os.urandom(CHUNK) if i % 2 else (b"metric %d " % i) * (CHUNK // 9) + b"x" * (
        CHUNK % 9) for i in range(N)]


def stored_sizes(data_dir, blocks: list[bytes]) -> int:
    async def go() -> int:
        store = LocalChunkStore(data_dir / "chunks")
        try:
            return sum([(await store.stat(blake3_token(d))).stored_length for d in blocks])
        finally:
            await store.close()
    return asyncio.run(go())


@pytest.fixture
def server(tmp_path):
    proc = serve(tmp_path, "--metrics-listen", "127.0.0.1:0")
    yield proc
    proc.stop()


def test_scrape_during_upload_sees_stream_and_writes_then_commit_figures(server, tmp_path):
    url, client = metrics_url(server), Client(server.address, tmp_path)
    blocks, release = datas(), threading.Event()
    try:
        vol = client.volume()
        before = scrape(url)
        assert value(before, "blockstore_upload_streams_in_flight") == 0
        tokens = dict(name="blockstore_cache_lookups_total", cache="bearer_token")
        assert (value(before, **tokens, result="miss"), value(before, **tokens, result="hit")) \
            == (1, 0), "the first call (CreateVolume) looked the new token up in the manifest"

        def messages():
            yield target(vol)
            yield from (block(i * CHUNK, d, CHUNK) for i, d in enumerate(blocks))
            release.wait(60)
        call = client.dp.stub.UploadBlocks.future(messages(), metadata=client.dp.md,
                                                  timeout=60)
        until(lambda: call.done() or chunks_stored(tmp_path, blocks), "blocks went in")
        stored = stored_sizes(tmp_path, blocks)
        # An upload stream stores its chunks in batches (`put_many`), timed per call.
        puts = dict(name="blockstore_chunk_store_operation_seconds_count",
                    backend="dir", operation="put_many")
        written = dict(name="blockstore_chunk_store_bytes_written_total", backend="dir")
        during = until(lambda: (s := scrape(url)) and delta(s, before, **puts) >= 1
                       and delta(s, before, **written) == stored and s,
                       "the scrape shows the chunk writes")
        assert stored != N * CHUNK, "the test data stores smaller than it arrives"
        assert value(during, "blockstore_upload_streams_in_flight") == 1
        assert delta(during, before, "blockstore_chunk_store_bytes_written_total",
                     backend="dir") == stored
        ok = dict(service="DataPlaneService", method="UploadBlocks", code="OK")
        for name in ("blockstore_rpc_total", "blockstore_blocks_written_total",
                     "blockstore_bytes_received_total", "blockstore_bytes_stored_total"):
            assert delta(during, before, name, **(ok if name == "blockstore_rpc_total"
                                                  else {})) == 0, f"{name} counts at commit"

        release.set()
        reply = call.result(timeout=60)
        after = scrape(url)
        assert value(after, "blockstore_upload_streams_in_flight") == 0
        assert delta(after, before, "blockstore_rpc_total", **ok) == 1
        assert delta(after, before, "blockstore_rpc_duration_seconds_count", **ok) == 1
        assert delta(after, before, "blockstore_blocks_written_total") == N
        assert delta(after, before, "blockstore_bytes_received_total") == N * CHUNK
        assert delta(after, before, "blockstore_bytes_stored_total") == stored \
            == reply.bytes_stored
        assert delta(after, before, "blockstore_dedup_hits_total") == 0
        commits = dict(backend="sqlite", kind="write", outcome="commit")
        assert delta(after, during, "blockstore_manifest_transaction_seconds_count",
                     **commits) >= 1, "the upload's commit transaction"
    finally:
        release.set()
        client.close()


def test_download_and_dedup_move_their_counters_exactly(server, tmp_path):
    url, client = metrics_url(server), Client(server.address, tmp_path)
    blocks = datas()
    try:
        vol = client.volume()
        messages = [target(vol), *(block(i * CHUNK, d, CHUNK) for i, d in enumerate(blocks))]
        client.dp.UploadBlocks(iter(messages))
        before = scrape(url)
        again = [target(vol), *(block((N + i) * CHUNK, d, CHUNK)
                                for i, d in enumerate(blocks))]
        assert client.dp.UploadBlocks(iter(again)).dedup_hits == N
        got = list(client.dp.DownloadBlocks(dpb.DownloadBlocksRequest(
            volume_id=vol, ranges=[dpb.ByteRange(offset=0, length=N * CHUNK)])))
        assert b"".join(r.data for r in got) == b"".join(blocks)
        client.cp.DeleteVolume(cpb.DeleteVolumeRequest(volume_id=vol))
        after = scrape(url)
        assert delta(after, before, "blockstore_dedup_hits_total") == N
        assert delta(after, before, "blockstore_bytes_stored_total") == 0
        assert delta(after, before, "blockstore_chunk_store_bytes_written_total",
                     backend="dir") == 0, "a dedup put writes nothing"
        assert delta(after, before, "blockstore_bytes_sent_total") == N * CHUNK
        # How often the upload path reads a chunk is the data plane's business (today it
        # re-verifies each deduplicated one); the download reads each block at least once.
        assert delta(after, before, "blockstore_chunk_store_operation_seconds_count",
                     backend="dir", operation="get") >= N
        assert delta(after, before, "blockstore_rpc_total", service="ControlPlaneService",
                     method="DeleteVolume", code="OK") == 1
        tokens = dict(name="blockstore_cache_lookups_total", cache="bearer_token")
        assert (delta(after, before, **tokens, result="hit"),
                delta(after, before, **tokens, result="miss")) == (3, 0), \
            "the account's token, known since its first call, is found in the cache by " \
            "its upload, download and delete"
    finally:
        client.close()


def test_gc_runs_and_what_they_freed_are_counted(tmp_path):
    proc = serve(tmp_path, "--metrics-listen", "127.0.0.1:0", "--gc-interval", "0.2",
                 "--gc-grace", "0.01")
    client = Client(proc.address, tmp_path)
    try:
        url, data = metrics_url(proc), os.urandom(CHUNK)
        vol = client.volume()
        client.dp.UploadBlocks(iter([target(vol), block(0, data, CHUNK)]))
        stored = stored_sizes(tmp_path, [data])
        before = scrape(url)
        client.cp.DeleteVolume(cpb.DeleteVolumeRequest(volume_id=vol))
        after = until(lambda: (s := scrape(url)) and delta(
            s, before, "blockstore_gc_chunks_freed_total") and s, "GC swept the chunk")
        assert delta(after, before, "blockstore_gc_chunks_freed_total") == 1
        assert delta(after, before, "blockstore_gc_bytes_freed_total") == stored
        assert delta(after, before, "blockstore_gc_rows_compacted_total") == 1
        assert delta(after, before, "blockstore_gc_runs_total", outcome="ok") >= 1
        assert delta(after, before, "blockstore_chunk_store_operation_seconds_count",
                     backend="dir", operation="delete") == 1
    finally:
        client.close()
        proc.stop()
