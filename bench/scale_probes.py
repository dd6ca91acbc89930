"""The measurements of bench/scale.py, one method per row of its table."""

from __future__ import annotations

import asyncio
import json
import os
import random
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import blake3

from bench import scale_setup as setup
from bench.common import BLOCKSTORE, REPO, ServerProc, create_account, start_server
from bench.stall import Stall
from blockstore.v1 import data_plane_pb2 as dp
from clients import AsyncClient, volume_target
from manifest import open_manifest

CHUNK = 64 << 10
BIG = 256 << 30
CHANGES = 100
GC_BATCH = 500
SPAN = (1 << 20) * CHUNK           # DownloadBlocks spans at most 2^20 chunks per call


@dataclass
class Result:
    name: str
    measured: str
    stall: str = ""
    before: str = ""


def data_block(offset: int, data: bytes) -> dp.UploadBlock:
    return dp.UploadBlock(offset=offset, length=len(data), checksum=blake3.blake3(data).digest(),
                          data=data)


def ref_block(offset: int, token: bytes) -> dp.UploadBlock:
    return dp.UploadBlock(offset=offset, length=CHUNK, checksum=token)


def db_bytes(data_dir: Path) -> int:
    return sum(p.stat().st_size for p in data_dir.glob("manifest.db*"))


class BigStore:
    """One server over a big manifest; the probes that need one run against it."""

    @classmethod
    async def start(cls, data_dir: Path, args) -> "BigStore":
        self = cls()
        self.dir, self.rows = data_dir, args.rows
        self.token = create_account(data_dir, "bench")
        self.server = start_server(data_dir)
        self.client = AsyncClient(self.server.address, self.token, timeout=3600)
        await self.client.__aenter__()
        self.store = await open_manifest(f"sqlite://{(data_dir / 'manifest.db').resolve()}")
        self.account = await setup.account_id(self.store, "bench")
        await self._build()
        return self

    async def _build(self) -> None:
        t0 = time.perf_counter()
        big, _ = await self.client.create_volume(size_bytes=BIG, chunk_size=CHUNK)
        small, _ = await self.client.create_volume(size_bytes=1 << 30, chunk_size=CHUNK)
        self.big, self.small = big.volume_id, small.volume_id
        one, two = os.urandom(CHUNK), os.urandom(CHUNK)
        await self.client.upload_blocks(volume_target(self.big),
                                         [data_block(0, one), data_block(CHUNK, two)])
        self.t1, self.t2 = blake3.blake3(one).digest(), blake3.blake3(two).digest()
        vid = await setup.vid_of(self.store, self.account, self.big)
        stride = max(1, (BIG // CHUNK - 2) // self.rows)
        self.indexes = range(2, 2 + self.rows * stride, stride)
        version = (await self.client.get_volume(self.big)).open_version
        await setup.write_rows(self.store, vid, version, self.indexes, self.t1)
        print(f"built {self.rows} rows in {time.perf_counter() - t0:.1f}s", flush=True)

    def stall(self) -> Stall:
        return Stall(self.server.address, self.token, self.small, self.server.proc.pid)

    async def stop(self) -> None:
        await self.client.__aexit__(None, None, None)
        await self.store.close()
        self.server.stop()

    async def idle(self) -> Result:
        with self.stall() as s:
            await asyncio.sleep(2)
        return Result("(idle server)", f"RSS {s.start_rss:.0f} MiB", s.summary)

    async def changed_blocks(self) -> Result:
        base = await self.client.create_snapshot(self.big)
        rng = random.Random(7)
        picked = sorted(rng.sample(range(len(self.indexes)), CHANGES))
        await self.client.upload_blocks(volume_target(self.big),
                                        [ref_block(self.indexes[i] * CHUNK, self.t2)
                                         for i in picked])
        target = await self.client.create_snapshot(self.big)
        with self.stall() as s:
            t0 = time.perf_counter()
            found = [c async for c in self.client.list_changed_blocks(
                target.snapshot_id, base.snapshot_id)]
            took = time.perf_counter() - t0
        assert len(found) == CHANGES, len(found)
        return Result(f"ListChangedBlocks, {CHANGES} changes in {self.rows} rows",
                      f"{took * 1000:.0f} ms, RSS {s.start_rss:.0f}->{s.peak_rss:.0f} MiB",
                      s.summary, "4.4-5.0 s, RSS 59->566 MB, p99 1.4 s")

    async def holes(self, size: int) -> Result:
        volume, _ = await self.client.create_volume(size_bytes=size, chunk_size=CHUNK)
        with self.stall() as s:
            t0 = time.perf_counter()
            messages = []
            for offset in range(0, size, SPAN):   # the server caps chunks per call
                messages += [b async for b in self.client.download_blocks(
                    volume.volume_id, ranges=[(offset, min(SPAN, size - offset))])]
            took = time.perf_counter() - t0
        assert all(b.zero for b in messages) and sum(b.length for b in messages) == size
        await self.client.delete_volume(volume.volume_id)
        return Result(f"DownloadBlocks, unwritten {size >> 30} GiB, 64 KiB",
                      f"{took:.3f} s, {-(-size // SPAN)} call(s), {len(messages)} message(s)",
                      s.summary,
                      "42 s / TiB, 158 s / 4 TiB")

    async def snapshots(self, most: int) -> list[Result]:
        out, have = [], 0
        before = {10: "3.2 ms", 1000: "31 ms", 4000: "97 ms"}
        for count in sorted({10, min(1000, most), most}):
            have = await setup.add_snapshots(self.store, self.account, self.small,
                                             max(0, count - have), int(time.time() * 1e6))
            took = []
            with self.stall() as s:
                for _ in range(20):
                    t0 = time.perf_counter()
                    await self.client.create_snapshot(self.small)
                    took.append(time.perf_counter() - t0)
            have += 20
            out.append(Result(f"CreateSnapshot at {count} snapshots",
                              f"{statistics.median(took) * 1000:.1f} ms (median of 20)",
                              s.summary, before.get(count, "")))
        return out

    async def gc_statements(self) -> list[Result]:
        async def referenced() -> float:
            async with self.store.read() as tx:
                t0 = time.perf_counter()
                assert await tx.referenced_tokens([self.t1]) == {self.t1}
                return time.perf_counter() - t0
        check = statistics.median([await referenced() for _ in range(5)])
        tokens = await setup.add_account_tokens(self.store, self.account, self.rows)
        batch = random.Random(3).sample(tokens, GC_BATCH)
        took = []
        for _ in range(3):
            try:
                async with self.store.write() as tx:
                    t0 = time.perf_counter()
                    await tx.delete_chunk_rows(batch)
                    took.append(time.perf_counter() - t0)
                    raise _Rollback
            except _Rollback:
                pass
        return [Result(f"GC token check, 1 token x {self.rows} rows",
                       f"{check * 1000:.2f} ms", "", "~105 ms"),
                Result(f"GC batch ({GC_BATCH} tokens), {self.rows} account_chunks",
                       f"{statistics.median(took) * 1000:.1f} ms", "", "0.14 s")]

    async def compaction(self) -> list[Result]:
        size_before = db_bytes(self.dir)
        async for snap in self.client.list_snapshots(volume_id=self.big):
            await self.client.delete_snapshot(snap.snapshot_id)
        await self.client.delete_volume(self.big)
        uploads = Uploads(self.client, self.small)
        task = asyncio.create_task(uploads.run())
        with self.stall() as s:
            t0 = time.perf_counter()
            proc = await asyncio.create_subprocess_exec(
                *BLOCKSTORE, "gc", "--data-dir", str(self.dir), "--json", cwd=REPO,
                stdout=subprocess.PIPE)
            out, _ = await proc.communicate()
            took = time.perf_counter() - t0
        uploads.stop = True
        await task
        gc = json.loads(out)
        size_after = db_bytes(self.dir)
        return [Result(f"GC compaction, {gc['rows_compacted']} rows",
                       f"{took:.1f} s; 1-block upload max {uploads.worst() * 1000:.0f} ms "
                       f"({len(uploads.took)} uploads)", s.summary,
                       "1-block upload waited 1.9 s"),
                Result("manifest file after deletes and GC",
                       f"{size_before / 2**20:.1f} -> {size_after / 2**20:.1f} MiB", "",
                       "never shrinks")]


class _Rollback(Exception):
    pass


class Uploads:
    """1-block uploads in a loop: how long a small commit waits behind maintenance."""

    def __init__(self, client: AsyncClient, volume_id: str) -> None:
        self.client, self.volume_id = client, volume_id
        self.took: list[float] = []
        self.stop = False

    async def run(self) -> None:
        i = 0
        while not self.stop:
            block = data_block((i % 1000) * CHUNK, os.urandom(CHUNK))
            t0 = time.perf_counter()
            await self.client.upload_blocks(volume_target(self.volume_id), [block])
            self.took.append(time.perf_counter() - t0)
            i += 1
            await asyncio.sleep(0.02)

    def worst(self) -> float:
        return max(self.took, default=float("nan"))


def ctx_switches(pid: int) -> int:
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            for line in (task / "status").read_text().splitlines():
                if "ctxt_switches" in line:
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total


def _upload(server: ServerProc, token: str, image: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "BLOCKSTORE_TOKEN": token, "BLOCKSTORE_ADDRESS": server.address}
    return subprocess.Popen([*BLOCKSTORE, "upload", str(image), "--create", "--no-progress",
                             *extra], env=env, cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def full_upload(data_dir: Path, image: Path) -> Result:
    token = create_account(data_dir, "bench")
    server = start_server(data_dir)
    try:
        size = image.stat().st_size
        cpu0, cs0, t0 = server.cpu_seconds(), ctx_switches(server.proc.pid), time.perf_counter()
        assert _upload(server, token, image, "--chunk-size", "64K").wait() == 0
        took = time.perf_counter() - t0
        chunks = size // CHUNK
        cpu = (server.cpu_seconds() - cpu0) / chunks * 1000
        cs = (ctx_switches(server.proc.pid) - cs0) / chunks
    finally:
        server.stop()
    return Result(f"full upload {size >> 20} MiB, 64 KiB chunks",
                  f"{size / took / 1e6:.0f} MB/s; {cpu:.2f} ms CPU, {cs:.0f} cs / chunk", "",
                  "61-69 MB/s, 1.4 ms, 35 cs")


def concurrent_uploads(data_dir: Path, images: list[Path]) -> Result:
    token = create_account(data_dir, "bench")
    server = start_server(data_dir)
    try:
        t0 = time.perf_counter()
        procs = [_upload(server, token, image) for image in images]
        assert all(p.wait() == 0 for p in procs)
        took = time.perf_counter() - t0
        rss = server.peak_rss_mib()
    finally:
        server.stop()
    total = sum(i.stat().st_size for i in images)
    before = {1: "146 MB", 8: "805 MB"}.get(len(images), "")
    return Result(f"{len(images)} uploading client(s), 1 MiB chunks",
                  f"peak RSS {rss:.0f} MiB; {total / took / 1e6:.0f} MB/s", "", before)
