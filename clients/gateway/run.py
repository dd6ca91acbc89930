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
import logging
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from clients.aio import AsyncClient
from clients.gateway.cache import ChunkCache
from clients.gateway.handshake import Export
from clients.gateway.primary import CachedVolume
from clients.gateway.remote import Layout, RemoteVolume
from clients.gateway.server import NbdServer
from clients.gateway.status import Stats
from clients.gateway.wal import WriteLog

log = logging.getLogger("blockstore.gateway")


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
    stats = Stats(volume_id=volume.volume_id)
    remote = RemoteVolume(client, volume.volume_id, layout)
    await remote.load()
    cache = ChunkCache(home / "chunks", config.cache_size)
    cache.open()
    wlog = WriteLog(home / "wal")
    disk = CachedVolume(remote, cache, wlog, stats)
    replayed = await disk.open()
    if replayed:
        print(f"blockstore: replayed {replayed} logged writes", file=sys.stderr, flush=True)
    server = NbdServer(disk, Export(frozenset({"", volume.volume_id}), layout.size))
    host, port = await server.start(config.host, config.port)
    stats.uri = format_uri(host, port)
    print(f"blockstore: gateway serving {stats.uri}", flush=True)
    try:
        await _until_stopped(stats, config)
    finally:
        await server.close()
        with contextlib.suppress(Exception):
            await disk.flush()
        _write_status(stats, config)
        wlog.close()
        os.close(lock_fd)


async def _until_stopped(stats: Stats, config: GatewayConfig) -> None:
    loop, stop = asyncio.get_running_loop(), asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGUSR1, _write_status, stats, config)
    try:
        while not stop.is_set():
            _write_status(stats, config)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), config.status_interval)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1):
            loop.remove_signal_handler(sig)


def _write_status(stats: Stats, config: GatewayConfig) -> None:
    if config.json_status:
        try:
            stats.write(config.json_status)
        except OSError as err:
            log.warning("gateway: cannot write %s: %s", config.json_status, err.strerror)
