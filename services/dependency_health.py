"""Health reflects the dependencies: while the manifest database or the chunk store does
not answer, the process reports NOT_SERVING on grpc.health.v1 (load balancers and
watchers take it out of rotation), and SERVING again once both answer.

Each probe is a cheap real call (a read transaction; the chunk store's identity) bounded
by `timeout_s`, repeated every `interval_s`. Calls in the meantime fail on their own with
UNAVAILABLE (services/faults.py); the probe only tells the watchers.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable

from grpc_health.v1 import health_pb2

log = logging.getLogger("blockstore.health")
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


async def _healthy(probes: dict[str, Callable[[], Awaitable[object]]],
                   timeout_s: float) -> list[str]:
    """Names of the dependencies that failed their probe."""
    failed = []
    for name, probe in probes.items():
        try:
            await asyncio.wait_for(probe(), timeout_s)
        except Exception as err:
            log.warning("%s is not answering: %s", name, type(err).__name__)
            failed.append(name)
    return failed


async def watch(health, services: list[str], probes: dict[str, Callable[[], Awaitable]],
                interval_s: float = 2.0, timeout_s: float = 3.0) -> None:
    serving = True
    while True:
        await asyncio.sleep(interval_s)
        ok = not await _healthy(probes, timeout_s)
        if ok != serving:
            serving = ok
            log.warning("dependencies %s: %s", "back" if ok else "unavailable",
                        "SERVING" if ok else "NOT_SERVING")
            for name in services:
                await health.set(name, SERVING if ok else NOT_SERVING)


def start(health, services: list[str], probes: dict[str, Callable[[], Awaitable]]):
    """The watch task; returns its closer (cancel, wait), to run before shutdown begins."""
    task = asyncio.create_task(watch(health, services, probes))

    async def close() -> None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    return close
