"""Assembles and runs one gateway: volume, lease, cache, log, disk, NBD server, status.

Rules kept: the gateway serves only while it holds the volume's lease; the cache
directory is locked (flock) so two gateways never share one write-back log; on SIGTERM
or SIGINT it stops accepting, commits what is dirty (best effort: what fails stays in the
log for the next start) and releases the lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from clients.aio import AsyncClient
from clients.gateway.basis import Basis
from clients.gateway.cache import ChunkCache
from clients.gateway.handshake import Export
from clients.gateway.lease import FencedDisk, LeaseKeeper, identity
from clients.gateway.metrics import serve_metrics
from clients.gateway.primary import CachedVolume
from clients.gateway.remote import Layout, RemoteVolume
from clients.gateway.server import NbdServer
from clients.gateway.shadow import DirtyMap, ShadowDisk
from clients.gateway.shadowsync import ShadowSync
from clients.gateway.status import StatusReporter, Stats
from clients.gateway.wal import WriteLog



@dataclass(frozen=True)
class GatewayConfig:
    volume_id: str
    host: str
    port: int
    cache_dir: Path
    cache_size: int
    shadow: Path | None = None
    snapshot_every: float = 0.0
    json_status: Path | None = None
    status_interval: float = 1.0
    lease_ttl: int = 30
    metrics_listen: str = ""             # HOST:PORT of /metrics (clients/gateway/metrics.py)


class CacheDirBusy(Exception):
    """Another gateway on this machine uses the same cache directory for the volume."""


def lock_dir(path: Path) -> int:
    path.mkdir(parents=True, exist_ok=True)
    fd = os.open(path / "lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise CacheDirBusy(f"cache directory {path} is in use by another gateway") from None
    return fd


def format_uri(host: str, port: int) -> str:
    return f"nbd://[{host}]:{port}" if ":" in host else f"nbd://{host}:{port}"


async def serve(client: AsyncClient, config: GatewayConfig) -> None:
    volume = await client.get_volume(config.volume_id)
    layout = Layout(volume.size_bytes, volume.chunk_size)
    home = config.cache_dir / volume.volume_id
    lock_fd = lock_dir(home)
    try:
        lease = LeaseKeeper(client, volume.volume_id, identity(config.cache_dir), config.lease_ttl)
        await lease.acquire()
        keeper = asyncio.create_task(lease.keep())
        try:
            await _serve_leased(client, config, volume, layout, home, lease)
        finally:
            keeper.cancel()
    finally:
        os.close(lock_fd)


async def _serve_leased(client, config, volume, layout, home, lease) -> None:
    stats = Stats(volume_id=volume.volume_id, mode="shadow" if config.shadow else "primary")
    remote = RemoteVolume(client, volume.volume_id, layout, lease.holder)
    await remote.load()
    build = _shadow if config.shadow else _primary
    async with build(client, config, remote, home, stats) as (disk, background, pending):
        reporter = StatusReporter(stats, config.json_status, config.status_interval)
        fenced = FencedDisk(disk, lease)
        server = NbdServer(fenced, Export(frozenset({"", volume.volume_id}), layout.size))
        host, port = await server.start(config.host, config.port)
        stats.uri = format_uri(host, port)
        metrics = _serve_metrics(stats, config.metrics_listen)
        tasks = [asyncio.create_task(job) for job in background]
        print(f"blockstore: gateway serving {stats.uri}", flush=True)
        try:
            await reporter.until_stopped()
        finally:
            if metrics:
                metrics.shutdown()
            await server.close()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            with contextlib.suppress(Exception):
                await fenced.flush()
            reporter.close()
            left = pending()
    if not left:
        with contextlib.suppress(Exception):
            await lease.release()   # else keep it: only this directory knows those writes


def _serve_metrics(stats: Stats, listen: str):
    """The /metrics listener if asked for (its address printed before the NBD one,
    which tools wait for); None otherwise."""
    if not listen:
        return None
    server, port = serve_metrics(stats, listen)
    print(f"blockstore: gateway metrics on http://{listen.rpartition(':')[0]}:{port}/metrics",
          flush=True)
    return server


@contextlib.asynccontextmanager
async def _primary(client, config, remote, home, stats):
    cache = ChunkCache(home / "chunks", config.cache_size)
    cache.open()
    wlog = WriteLog(home / "log")
    try:
        disk = CachedVolume(remote, cache, wlog, stats)
        replayed = await disk.open(Basis(home / "basis"))
        if replayed:
            print(f"blockstore: replayed {replayed} logged writes", file=sys.stderr, flush=True)
        yield disk, [], lambda: len(disk.dirty)
    finally:
        wlog.close()


@contextlib.asynccontextmanager
async def _shadow(client, config, remote, home, stats):
    dirty = DirtyMap(home / "shadow.map", remote.layout.chunks)
    try:
        disk = ShadowDisk(config.shadow, remote.layout, dirty)
    except (OSError, ValueError):
        dirty.close()
        raise
    sync = ShadowSync(client, remote, disk, stats)
    jobs = [sync.run(), _bootstrap(sync)]
    if config.snapshot_every:
        jobs.append(sync.snapshot_every(config.snapshot_every))
    try:
        yield disk, jobs, lambda: len(dirty.dirty)
    finally:
        disk.close()
        dirty.close()


async def _bootstrap(sync: ShadowSync) -> None:
    differ = await sync.bootstrap()
    print(f"blockstore: bootstrap found {differ} chunks to upload", file=sys.stderr, flush=True)
