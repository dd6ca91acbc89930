"""Shared pieces of the hostile-input suite: outcome checks, strategies, the example tally.

`outcome` runs one call and returns `OK` or the `(code name, reason)` it failed with,
after asserting what every failure must carry whatever the input: a status other than
INTERNAL/UNKNOWN, one `google.rpc.ErrorInfo` in domain "blockstore", a non-empty message.
"""

from __future__ import annotations

from collections import Counter
from typing import Callable

import grpc
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tests.rpcerrors import error_info

OK = ("OK", "")
# Examples run per RPC, printed at the end of the session by tests/hostile/conftest.py.
TALLY: Counter[str] = Counter()
INT64 = (-(1 << 63), (1 << 63) - 1)
INT32 = (-(1 << 31), (1 << 31) - 1)
KIB, MIB, TIB = 1 << 10, 1 << 20, 1 << 40


def fuzz(examples: int):
    """Hypothesis settings for tests that drive a module-scoped real server."""
    return settings(max_examples=examples, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow, HealthCheck.data_too_large])


def failure(err: grpc.RpcError) -> tuple[str, str]:
    """(code name, ErrorInfo reason) of a failed call, checking the error's envelope."""
    code = err.code()
    assert code not in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN), \
        f"hostile input must not reach {code.name}: {err.details()!r}"
    info = error_info(err)              # exactly one ErrorInfo
    assert info.domain == "blockstore", f"{code.name} {err.details()!r}: domain {info.domain!r}"
    assert (err.details() or "").strip(), f"{code.name}/{info.reason} has an empty message"
    return code.name, info.reason


def outcome(call: Callable[[], object], rpc: str) -> tuple[tuple[str, str], object]:
    """Run `call` (counted under `rpc`); returns (OK or (code, reason), result or None)."""
    TALLY[rpc] += 1
    try:
        return OK, call()
    except grpc.RpcError as err:
        return failure(err), None


def allowed(got: tuple[str, str], *wanted: tuple[str, str]) -> None:
    assert got in wanted, f"got {got}, want one of {wanted}"


# --- strategies -------------------------------------------------------------------------
def int64s(*interesting: int) -> st.SearchStrategy[int]:
    """Any int64, weighted towards the edges and the values a test names."""
    edges = [0, -1, 1, INT64[0], INT64[1], INT64[1] - 511, 511, 512, 64 * KIB, MIB,
             64 * TIB, 64 * TIB + 512, *interesting]
    return st.one_of(st.sampled_from(edges), st.integers(*INT64),
                     st.integers(-4 * MIB, 4 * MIB))


def int32s() -> st.SearchStrategy[int]:
    return st.one_of(st.sampled_from([0, -1, 1, INT32[0], INT32[1], 1000, 1001, 10_000]),
                     st.integers(*INT32))


# Protobuf strings must be valid UTF-8: no lone surrogates.
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=80)


def garbage_ids(*prefixes: str) -> st.SearchStrategy[str]:
    """Ids no account owns: random text, well-formed random ids, huge and odd strings."""
    shaped = st.builds(lambda p, h: p + h, st.sampled_from(prefixes or ("vol-", "snap-")),
                       st.text("0123456789abcdef", min_size=0, max_size=40))
    odd = st.sampled_from(["", " ", "\x00", "vol-", "snap-", "%", "' OR 1=1 --", "../..",
                           "x" * 20_000, "\u00e9" * 5_000, "vol-" + "f" * 24])
    return st.one_of(TEXT, shaped, odd)


def page_tokens() -> st.SearchStrategy[str]:
    return st.one_of(TEXT, st.sampled_from(["", "e30", "eyJhIjoxfQ", "=" * 9, "x" * 10_000]),
                     st.binary(max_size=64).map(lambda b: b.hex()))


def tokens() -> st.SearchStrategy[bytes]:
    """Chunk tokens of every length but mostly wrong ones."""
    return st.one_of(st.binary(min_size=0, max_size=80), st.binary(min_size=32, max_size=32))


def floats() -> st.SearchStrategy[float]:
    return st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                     st.sampled_from([float("nan"), float("inf"), float("-inf"), -0.0, -1e-300,
                                      1.0000000001, 2.0, -1.0]))
