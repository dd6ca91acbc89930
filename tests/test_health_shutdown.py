"""On SIGTERM the server tells health watchers NOT_SERVING before it stops."""

from __future__ import annotations

import asyncio
import signal

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.serverproc import serve

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


async def test_health_watchers_hear_not_serving_on_sigterm(tmp_path):
    proc = serve(tmp_path)
    try:
        async with grpc.aio.insecure_channel(proc.address) as channel:
            watch = health_pb2_grpc.HealthStub(channel).Watch(
                health_pb2.HealthCheckRequest(service=""), timeout=20)
            seen = []
            async for update in watch:
                seen.append(update.status)
                if update.status == SERVING and len(seen) == 1:
                    proc.proc.send_signal(signal.SIGTERM)
                if update.status == NOT_SERVING:
                    break
            assert seen[0] == SERVING and seen[-1] == NOT_SERVING, \
                f"a watcher sees SERVING, then NOT_SERVING on SIGTERM (saw {seen})"
        # The one SIGTERM is all it gets: a second one (proc.stop) could land after the
        # event loop has closed and kill it mid-teardown, which is not what this tests.
        await asyncio.to_thread(proc.proc.wait, 30)
    finally:
        await asyncio.to_thread(proc.stop)
    assert proc.proc.returncode == 0, "serve still exits 0 after draining"
