"""Injected clocks and id generators, so expiry and ordering are testable without sleeping.

Owns the `Clock` and `IdGenerator` Protocols, the system ones and `FakeClock`. Rule:
expiry and ordering use the clock and ids they are handed (configuration objects carry
them), so tests drive time instead of waiting for it.
"""

from __future__ import annotations

import secrets
import time
from typing import Protocol


class Clock(Protocol):
    def now_us(self) -> int:
        """Microseconds since the Unix epoch (UTC)."""


class SystemClock:
    def now_us(self) -> int:
        return time.time_ns() // 1000


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, start_us: int = 1_700_000_000_000_000) -> None:
        self.t = start_us

    def now_us(self) -> int:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += int(seconds * 1_000_000)


class IdGenerator(Protocol):
    def new(self, prefix: str) -> str: ...


class RandomIds:
    """`vol-` / `snap-` + 96 random bits in hex: opaque, unguessable, never reused."""

    def new(self, prefix: str) -> str:
        return f"{prefix}-{secrets.token_hex(12)}"
