"""Retry with exponential backoff and jitter for transient gRPC failures.

Only UNAVAILABLE, DEADLINE_EXCEEDED and RESOURCE_EXHAUSTED are retried (not
RESOURCE_EXHAUSTED STORAGE_FULL), plus ABORTED CHUNK_COLLECTED: they say "try again
later", while every other code says the request itself (or the resource's state) is the
problem, and repeating it would only repeat the error. Whether a call is
*safe* to repeat is the caller's decision (see `clients.aio`); this module only decides
*when*. The sleep function and random source are injected so tests need no real time.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from typing import TypeVar

import grpc

from clients.errors import BlockstoreError, from_rpc_error

T = TypeVar("T")

TRANSIENT = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
                       grpc.StatusCode.RESOURCE_EXHAUSTED})
# Reasons under a transient code that do not clear by waiting: a full disk needs an
# operator (delete, collect garbage, add space), so the client reports it at once.
PERMANENT_REASONS = frozenset({"STORAGE_FULL"})
# Reasons under a code that is otherwise final which say "retry the call": garbage
# collection overtook a stream (nothing of it was committed).
RETRY_REASONS = frozenset({"CHUNK_COLLECTED"})


def retryable(err: BlockstoreError, retry_on: Collection[grpc.StatusCode] = TRANSIENT) -> bool:
    """Whether waiting may clear `err`: the one test every retry loop uses (the library's
    and the bulk transfer's own per-stream loops)."""
    if err.reason in RETRY_REASONS:
        return True
    return err.code in retry_on and err.reason not in PERMANENT_REASONS


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait. `max_attempts=1` disables retries."""

    max_attempts: int = 5
    initial_backoff: float = 0.1
    max_backoff: float = 5.0
    multiplier: float = 2.0
    # Each delay is scaled by a uniform factor in [1 - jitter, 1 + jitter], so many
    # clients failing at once do not come back in lockstep.
    jitter: float = 0.2
    # Upper bound on a server's RetryInfo.retry_delay, so a bad server cannot park us.
    max_server_delay: float = 60.0
    sleep: Callable[[float], Awaitable[object]] = field(default=asyncio.sleep, compare=False)
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {self.max_attempts}")
        if self.initial_backoff < 0 or self.max_backoff < self.initial_backoff:
            raise ValueError("need 0 <= initial_backoff <= max_backoff")
        if self.multiplier < 1 or not 0 <= self.jitter <= 1:
            raise ValueError("need multiplier >= 1 and 0 <= jitter <= 1")

    def delay(self, retry: int, server_delay: float | None = None) -> float:
        """Seconds to wait before retry number `retry` (0-based).

        A server's RetryInfo wins over our own schedule: it knows its load better.
        """
        if server_delay is not None and server_delay >= 0:
            return min(server_delay, self.max_server_delay)
        base = min(self.max_backoff, self.initial_backoff * self.multiplier ** retry)
        return base * self.rng.uniform(1 - self.jitter, 1 + self.jitter)


async def call_with_retry(attempt: Callable[[], Awaitable[T]], policy: RetryPolicy, *,
                          retry_on: Collection[grpc.StatusCode] = TRANSIENT) -> T:
    """Runs `attempt` until it succeeds, fails permanently, or attempts run out.

    Raises the last error as a typed `BlockstoreError` whose `attempts` says how many
    calls were made, so callers (and the CLI) can tell "retries exhausted" apart.
    """
    for n in range(1, policy.max_attempts + 1):
        try:
            return await attempt()
        except grpc.RpcError as rpc:
            err = from_rpc_error(rpc)
            err.attempts = n
            if not retryable(err, retry_on) or n == policy.max_attempts:
                raise err from rpc
        await policy.sleep(policy.delay(n - 1, err.retry_delay))
    raise AssertionError("unreachable")  # pragma: no cover

