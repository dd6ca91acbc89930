"""Assertions on gRPC errors: status code, `google.rpc.ErrorInfo` reason and domain.

Every Blockstore error carries a trailing `grpc-status-details-bin` (a `google.rpc.Status`
with one `ErrorInfo`, domain "blockstore"). `expect_error` checks all of it, plus the
rule (docs/design.md, code rule 7) that a message names the object it is about.
"""

from __future__ import annotations

from typing import Awaitable, Iterable

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

DOMAIN = "blockstore"


def error_info(err: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo:
    """The ErrorInfo of a failed call (asserts there is exactly one)."""
    status = rpc_status.from_call(err)
    assert status is not None, f"{err.code()} {err.details()!r} carries no google.rpc.Status"
    infos = []
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            infos.append(info)
    assert len(infos) == 1, f"expected one ErrorInfo in {status}, found {len(infos)}"
    return infos[0]


async def expect_error(call: Awaitable, code: grpc.StatusCode, reason: str,
                       names: str | Iterable[str] = ()) -> error_details_pb2.ErrorInfo:
    """Await `call`, assert it fails with `code` and ErrorInfo `reason` in our domain,
    a non-empty message, and a message mentioning each of `names`. Returns the ErrorInfo."""
    try:
        result = await call
    except grpc.aio.AioRpcError as err:
        assert err.code() == code, f"want {code.name}/{reason}, got {err.code().name}: " \
                                   f"{err.details()!r}"
        info = error_info(err)
        assert info.reason == reason, f"want reason {reason}, got {info.reason}: " \
                                      f"{err.details()!r}"
        assert info.domain == DOMAIN, f"ErrorInfo domain {info.domain!r} is not {DOMAIN!r}"
        message = err.details() or ""
        assert message.strip(), f"{code.name}/{reason} has an empty message"
        for name in [names] if isinstance(names, str) else names:
            assert name in message, f"error message {message!r} does not name {name!r}"
        return info
    raise AssertionError(f"want {code.name}/{reason}, but the call succeeded: {result}")


def retry_delay(err: grpc.aio.AioRpcError) -> float | None:
    """Seconds of the call's google.rpc.RetryInfo, or None if it carries none."""
    status = rpc_status.from_call(err)
    for detail in status.details if status else ():
        if detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            info = error_details_pb2.RetryInfo()
            detail.Unpack(info)
            return info.retry_delay.ToTimedelta().total_seconds()
    return None
