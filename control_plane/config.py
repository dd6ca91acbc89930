"""Control-plane configuration, validated when built."""

from __future__ import annotations

from dataclasses import dataclass, field

from blockstore.clock import Clock, IdGenerator, RandomIds, SystemClock


@dataclass(frozen=True)
class ControlPlaneConfig:
    idempotency_ttl_s: float = 24 * 3600
    clock: Clock = field(default_factory=SystemClock)
    ids: IdGenerator = field(default_factory=RandomIds)

    def __post_init__(self) -> None:
        if self.idempotency_ttl_s <= 0:
            raise ValueError(f"idempotency_ttl_s must be positive, got {self.idempotency_ttl_s}")

    @property
    def idempotency_ttl_us(self) -> int:
        return int(self.idempotency_ttl_s * 1_000_000)
