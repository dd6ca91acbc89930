"""Control-plane configuration, validated when built.

Owns `ControlPlaneConfig`: the idempotency window, the pending-snapshot cap and its retry
hint, and the injected clock and id generator. Rules: frozen; a bad value fails when the
object is built, naming the field; tests inject `FakeClock` instead of sleeping.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from blockstore.clock import Clock, IdGenerator, RandomIds, SystemClock


@dataclass(frozen=True)
class ControlPlaneConfig:
    idempotency_ttl_s: float = 24 * 3600
    # Fairness: snapshots one account may have PENDING at once (UPLOAD ones not yet
    # completed, and point-in-time ones queued behind them). Beyond it CreateSnapshot is
    # RESOURCE_EXHAUSTED with a RetryInfo of `limit_retry_after_s`.
    max_pending_snapshots_per_account: int = 64
    limit_retry_after_s: float = 5.0
    clock: Clock = field(default_factory=SystemClock)
    ids: IdGenerator = field(default_factory=RandomIds)

    def __post_init__(self) -> None:
        if self.idempotency_ttl_s <= 0:
            raise ValueError(f"idempotency_ttl_s must be positive, got {self.idempotency_ttl_s}")
        if self.max_pending_snapshots_per_account < 1:
            raise ValueError("max_pending_snapshots_per_account must be >= 1, got "
                             f"{self.max_pending_snapshots_per_account}")
        if self.limit_retry_after_s <= 0:
            raise ValueError(f"limit_retry_after_s must be > 0, got {self.limit_retry_after_s}")

    @property
    def idempotency_ttl_us(self) -> int:
        return int(self.idempotency_ttl_s * 1_000_000)
