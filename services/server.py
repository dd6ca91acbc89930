"""Process wiring: stores, planes, interceptors, health and reflection on one grpc.aio server.

This is the one place where storage wrappers and RPC observers (metrics, log line,
span) are stacked and planes are assembled. Rule: a cross-cutting concern is a wrapper
or an observer added here, never code in a plane.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import time
from typing import Awaitable, Callable
from dataclasses import dataclass, field

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from blockstore.v1 import control_plane_pb2, control_plane_pb2_grpc, data_plane_pb2
from blockstore.urls import redacted
from chunkstore.reserve import ReservingChunkStore
from control_plane.config import ControlPlaneConfig
from control_plane.data_planes import DataPlanes
from control_plane.leases import VolumeLeases
from control_plane.servicer import ControlPlaneServicer
from control_plane.sharing import Sharing
from control_plane.snapshots import Snapshots
from control_plane.volumes import Volumes
from manifest import ManifestStore, open_manifest
from services.advertise import Registration, serve_address
from services.auth import AccountResolver, EdgeInterceptor
from services.config import MAX_MESSAGE_BYTES, ServerConfig
from services.connections import connection_options
from services.faults import domain_error
from services.metering import Metering
from services.gc import GcConfig, run_periodically
from services.https import server_context
from services.space import SpaceReserve, SpaceReserveInterceptor
from services import dependency_health
from services.identity import Names, bind_stores
from services.observed_calls import ObservedCalls
from services.rpclog import RpcLog
from services.traced_stores import TracedChunkStore, TracedManifestStore
from services.traced_calls import CallTracing
from services.tracing import Tracing, tracing_from_environment

log = logging.getLogger("blockstore.server")
CP_NAME = control_plane_pb2.DESCRIPTOR.services_by_name["ControlPlaneService"].full_name
DP_NAME = data_plane_pb2.DESCRIPTOR.services_by_name["DataPlaneService"].full_name


@dataclass
class Running:
    server: grpc.aio.Server
    port: int
    store: ManifestStore
    health: health.aio.HealthServicer
    closers: list = field(default_factory=list)
    metrics_port: int = 0
    ebs_port: int = 0
    registration: Registration | None = None
    dependency_watch: Callable[[], Awaitable[None]] | None = None
    rpc_log: RpcLog | None = None

    async def stop(self, grace: float | None) -> None:
        # Clients stop being sent here (registration) and watchers of grpc.health.v1
        # (load balancers) hear NOT_SERVING first, then the server stops taking calls
        # and lets in-flight ones finish within `grace`.
        if self.registration:
            await self.registration.stop()
        if self.dependency_watch:        # it must not set SERVING again during the drain
            await self.dependency_watch()
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)
        for close in reversed(self.closers):
            await close()
        await self.store.close()


def _server_options(config: ServerConfig) -> list[tuple[str, int]]:
    return [("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.so_reuseport", 0),
            *connection_options(config.max_connections, config.max_connection_idle_s)]


def data_plane_config(config: ServerConfig):
    """The data plane's settings from the server's flags."""
    from data_plane.config import DataPlaneConfig

    return DataPlaneConfig(
        max_upload_streams_per_account=config.max_upload_streams_per_account,
        max_upload_streams=config.max_upload_streams,
        stream_idle_timeout_s=config.stream_idle_timeout_s,
        upload_memory=config.upload_memory_bytes,
        max_blocks_per_stream=config.max_blocks_per_stream,
        max_download_chunks=config.max_download_chunks)


async def _add_data_plane(server: grpc.aio.Server, config: ServerConfig,
                          store: ManifestStore, closers: list, reserve: SpaceReserve,
                          tracing: Tracing | None, metering: Metering):
    from data_plane.servicer_wire import add_to_server as add_data_plane_to_server
    from data_plane.wiring import build_data_plane

    def stack(chunks):
        # Metering innermost: it times what the backend does, not a refused put.
        # Tracing outermost: a chunk write refused for space shows as a failed span.
        chunks = ReservingChunkStore(metering.chunks(chunks), reserve.check)
        return TracedChunkStore(chunks, tracing.tracer) if tracing else chunks

    servicer, close = await build_data_plane(config, store, data_plane_config(config), stack)
    closers.append(close)
    add_data_plane_to_server(servicer, server)
    if config.gc_interval_s > 0:
        closers.append(_start_gc(config, store, metering))
    return servicer


def _start_gc(config: ServerConfig, store: ManifestStore, metering: Metering):
    """The periodic GC task; returns its closer (cancel, wait)."""
    from chunkstore import open_chunk_store

    chunks = metering.chunks(open_chunk_store(config.chunks_url, fsync=config.fsync))
    task = asyncio.create_task(run_periodically(
        store, chunks, GcConfig(grace_s=config.gc_grace_s), config.gc_interval_s,
        metering.gc_finished))

    async def close() -> None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await chunks.close()

    return close


async def start(config: ServerConfig, cp_config: ControlPlaneConfig | None = None) -> Running:
    cp_config = cp_config or ControlPlaneConfig(
        max_pending_snapshots_per_account=config.max_pending_snapshots_per_account)
    tracing = tracing_from_environment(os.environ)     # None unless OTEL_* ask for it
    metering = Metering(config.metrics_listen, config.db_url, config.chunks_url)
    store = metering.manifest(await open_manifest(config.db_url))
    closers: list = [tracing.close] if tracing else []     # closed last: flushes spans
    try:
        if "data" in config.planes:
            await _check_binding(config, store)
        if tracing:
            store = TracedManifestStore(store, tracing.tracer)
        return await _assemble(config, cp_config, store, closers, tracing, metering)
    except BaseException:
        # A port in use, unreadable TLS files, a bad --chunks: release what was opened
        # (the database's threads would otherwise keep the process alive).
        for close in reversed(closers):
            await close()
        await store.close()
        raise


async def _check_binding(config: ServerConfig, store: ManifestStore) -> None:
    """Refuse a chunk store that is not this manifest's partner (services/identity.py)."""
    from chunkstore import open_chunk_store

    chunks = open_chunk_store(config.chunks_url, fsync=config.fsync)
    try:
        await bind_stores(store, chunks, init=config.init,
                          names=Names(redacted(config.db_url), redacted(config.chunks_url)))
    finally:
        await chunks.close()


async def _assemble(config: ServerConfig, cp_config: ControlPlaneConfig,
                    store: ManifestStore, closers: list, tracing: Tracing | None,
                    metering: Metering) -> Running:
    reserve = SpaceReserve.for_urls(config.db_url, config.chunks_url, config.min_free_bytes)
    rpc_log = RpcLog()
    # One measuring of each call for every observer, outside the edge: they see the
    # status the client sees. The span ends first, so it does not time the others.
    observers = [*([CallTracing(tracing.tracer)] if tracing else []),
                 *metering.observers(), rpc_log]
    server = grpc.aio.server(interceptors=[ObservedCalls(observers),
                                           EdgeInterceptor(AccountResolver(store, metering.token_cache)),
                                           SpaceReserveInterceptor(reserve)],
                             options=_server_options(config))
    names, data_plane = [], None
    if "control" in config.planes:
        servicer = ControlPlaneServicer(Volumes(store, cp_config), Snapshots(store, cp_config),
                                        VolumeLeases(store, cp_config),
                                        DataPlanes(store, cp_config.clock),
                                        Sharing(store, cp_config))
        control_plane_pb2_grpc.add_ControlPlaneServiceServicer_to_server(servicer, server)
        names.append(CP_NAME)
    if "data" in config.planes:
        data_plane = await _add_data_plane(server, config, store, closers, reserve, tracing,
                                           metering)
        names.append(DP_NAME)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection([*names, health.SERVICE_NAME,
                                         reflection.SERVICE_NAME], server)
    port = _bind(server, config)
    metrics_port = await metering.serve(closers)
    ebs_port = await _start_ebs(config, cp_config, store, data_plane, closers, metering)
    await server.start()
    for name in ["", *names]:
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    running = Running(server, port, store, health_servicer, closers, metrics_port, ebs_port,
                      rpc_log=rpc_log)
    log.info("started %s on %s:%d: manifest %s%s; metrics %s; tracing %s",
             "+".join(sorted(config.planes)), config.listen.rpartition(":")[0], port,
             redacted(config.db_url),
             f", chunks {redacted(config.chunks_url)}" if config.chunks_url else "",
             f"on port {metrics_port}" if metrics_port else "off",
             tracing.described if tracing else "off")
    running.dependency_watch = _watch_dependencies(config, store, health_servicer,
                                                   ["", *names], closers)
    try:
        running.registration = await _advertise(config, store, port)
    except BaseException:
        await running.dependency_watch()
        await server.stop(None)
        raise
    return running


def _watch_dependencies(config: ServerConfig, store: ManifestStore, health_servicer,
                        names: list[str], closers: list):
    """Health follows the manifest and (data plane) the chunk store: services/
    dependency_health.py. Returns the closer of the watch."""
    from chunkstore import open_chunk_store

    async def manifest() -> None:
        async with store.read() as tx:
            await tx.account_count()
    probes = {"manifest database": manifest}
    if "data" in config.planes:
        chunks = open_chunk_store(config.chunks_url, fsync=config.fsync)
        closers.append(chunks.close)
        probes["chunk store"] = chunks.get_identity
    return dependency_health.start(health_servicer, names, probes)


async def _advertise(config: ServerConfig, store: ManifestStore,
                     port: int) -> Registration | None:
    """Register this data plane for discovery (services/advertise.py), if it says where."""
    if "data" not in config.planes:
        return None
    address = config.advertise
    if not address and "control" in config.planes:    # `serve`: its own concrete address
        address = serve_address(config.listen, port)
    if not address:
        return None
    registration = Registration(store, address, config.advertise_ttl_s)
    await registration.start()
    return registration


async def _start_ebs(config: ServerConfig, cp_config: ControlPlaneConfig, store: ManifestStore,
                     data_plane, closers: list, metering: Metering) -> int:
    """The EBS direct facade: the control plane's domain objects and the data plane's
    chunk store, workers and operation record, over the same manifest (docs/ebs.md)."""
    if not config.ebs_listen:
        return 0
    from ebs_facade.blocks import EbsBlocks
    from ebs_facade.routes import Facade
    from ebs_facade.server import start_ebs_server
    from ebs_facade.snapshots import EbsSnapshots
    from ebs_facade.timeouts import Timeouts

    snapshots = Snapshots(store, cp_config)
    timeouts = Timeouts(store, snapshots)
    blocks = EbsBlocks(data_plane, timeouts)  # the servicer holds the data plane's parts
    facade = Facade(store, EbsSnapshots(store, Volumes(store, cp_config), snapshots, blocks,
                                        timeouts), blocks, timeouts)
    tls = server_context(config.tls) if config.ebs_https else None
    runner, port = await start_ebs_server(facade, config.ebs_listen, domain_error,
                                          metering.ebs_finished, tls=tls)
    closers.append(runner.cleanup)
    return port


def _bind(server: grpc.aio.Server, config: ServerConfig) -> int:
    if config.tls is None:
        return server.add_insecure_port(config.listen)
    tls = config.tls
    creds = grpc.ssl_server_credentials(
        [(tls.key.read_bytes(), tls.cert.read_bytes())],
        root_certificates=tls.client_ca.read_bytes() if tls.client_ca else None,
        require_client_auth=tls.client_ca is not None)
    return server.add_secure_port(config.listen, creds)


async def serve_forever(config: ServerConfig, first_start=None) -> None:
    """Run until SIGTERM/SIGINT; then stop taking calls and let in-flight ones finish.

    `first_start(store)` runs once the stores are open and bound, and may return a banner.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    # Handlers go in before the address is printed: whoever reads it may signal at once.
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    running = await start(config)
    host = config.listen.rpartition(":")[0]
    if running.ebs_port:      # before "listening on", which tools wait for
        ebs_host = config.ebs_listen.rpartition(":")[0]
        scheme = "https" if config.ebs_https else "http"
        print(f"blockstore: EBS direct on {scheme}://{ebs_host}:{running.ebs_port}",
              flush=True)
    print(f"blockstore: listening on {host}:{running.port}", flush=True)
    if running.metrics_port:
        metrics_host = config.metrics_listen.rpartition(":")[0]
        print(f"blockstore: metrics on http://{metrics_host}:{running.metrics_port}/metrics",
              flush=True)
    banner = await first_start(running.store) if first_start else None
    if banner:
        print(banner, flush=True)
    started = time.monotonic()
    await stop.wait()
    log.info("shutting down (grace %.1fs)", config.grace_s)
    await running.stop(config.grace_s)
    log.info("stopped after %.1fs: %d RPCs served", time.monotonic() - started,
             running.rpc_log.finished)
