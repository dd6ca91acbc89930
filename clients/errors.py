"""Typed client errors, parsed from a gRPC status and its `google.rpc.Status` details.

Callers branch on the exception class (the gRPC code) and on `.reason` (the
`google.rpc.ErrorInfo.reason` of docs/design.md, e.g. INVALID_VOLUME_ID), never on message
text. `retry_delay` carries a server's `google.rpc.RetryInfo`, which the retry loop honours.
"""

from __future__ import annotations

import grpc
from google.rpc import error_details_pb2, status_pb2

DETAILS_KEY = "grpc-status-details-bin"
DOMAIN = "blockstore"


class BlockstoreError(Exception):
    """Any error returned by a Blockstore server (or by the transport on its way)."""

    def __init__(self, code: grpc.StatusCode, reason: str, message: str,
                 metadata: dict[str, str] | None = None, *,
                 retry_delay: float | None = None, attempts: int = 1) -> None:
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message
        self.metadata = dict(metadata or {})
        self.retry_delay = retry_delay
        self.attempts = attempts

    def __str__(self) -> str:
        """`NOT_FOUND INVALID_VOLUME_ID: volume vol-1 not found` — one line, for logs and the CLI."""
        head = f"{self.code.name} {self.reason}" if self.reason else self.code.name
        tail = f" (after {self.attempts} attempts)" if self.attempts > 1 else ""
        return f"{head}: {self.message}{tail}"


class Cancelled(BlockstoreError):
    """CANCELLED: the call was cancelled, usually by the caller."""


class Unknown(BlockstoreError):
    """UNKNOWN: the server or transport gave no usable code."""


class InvalidArgument(BlockstoreError):
    """INVALID_ARGUMENT: the request itself is wrong; retrying it cannot help."""


class DeadlineExceeded(BlockstoreError):
    """DEADLINE_EXCEEDED: no answer in time; the call may or may not have taken effect."""


class NotFound(BlockstoreError):
    """NOT_FOUND: no such volume or snapshot in the caller's account."""


class AlreadyExists(BlockstoreError):
    """ALREADY_EXISTS: e.g. IDEMPOTENCY_KEY_REUSED with different parameters."""


class PermissionDenied(BlockstoreError):
    """PERMISSION_DENIED: authenticated, but not allowed."""


class ResourceExhausted(BlockstoreError):
    """RESOURCE_EXHAUSTED: the server sheds load; transient, honours RetryInfo."""


class FailedPrecondition(BlockstoreError):
    """FAILED_PRECONDITION: valid request, but the resource's state forbids it."""


class Aborted(BlockstoreError):
    """ABORTED: a concurrent change won; the caller may retry at a higher level."""


class OutOfRange(BlockstoreError):
    """OUT_OF_RANGE: e.g. BLOCK_OUT_OF_RANGE past the volume's size."""


class Unimplemented(BlockstoreError):
    """UNIMPLEMENTED: the server does not serve this RPC."""


class Internal(BlockstoreError):
    """INTERNAL: a server bug or invariant failure."""


class Unavailable(BlockstoreError):
    """UNAVAILABLE: the server cannot be reached or is restarting; transient."""


class DataLoss(BlockstoreError):
    """DATA_LOSS: stored data failed its checksum or is missing."""


class Unauthenticated(BlockstoreError):
    """UNAUTHENTICATED: missing or wrong bearer token (AUTHENTICATION_FAILED)."""


_BY_CODE: dict[grpc.StatusCode, type[BlockstoreError]] = {
    grpc.StatusCode.CANCELLED: Cancelled,
    grpc.StatusCode.UNKNOWN: Unknown,
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceeded,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.ALREADY_EXISTS: AlreadyExists,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhausted,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPrecondition,
    grpc.StatusCode.ABORTED: Aborted,
    grpc.StatusCode.OUT_OF_RANGE: OutOfRange,
    grpc.StatusCode.UNIMPLEMENTED: Unimplemented,
    grpc.StatusCode.INTERNAL: Internal,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
    grpc.StatusCode.DATA_LOSS: DataLoss,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
}


def error_class(code: grpc.StatusCode) -> type[BlockstoreError]:
    return _BY_CODE.get(code, BlockstoreError)


def from_status(code: grpc.StatusCode, message: str,
                trailing_metadata=()) -> BlockstoreError:
    """Builds the typed error from a status code and the call's trailing metadata."""
    reason, meta, delay = "", {}, None
    status = _rich_status(trailing_metadata)
    if status is not None:
        message = status.message or message
        reason, meta, delay = _details(status)
    return error_class(code)(code, reason, message, meta, retry_delay=delay)


# What grpc.aio reports, as INTERNAL, when a send fails in its own core because the
# connection went away under a streaming call (a data plane killed mid-upload). It is no
# answer from a server (those carry an ErrorInfo): the transport failed, so the client
# treats it as UNAVAILABLE, retries it and marks the plane failed.
LOCAL_TRANSPORT_FAILURE = "Internal error from Core"


def local_transport_failure(code: grpc.StatusCode, details: str, trailers=()) -> bool:
    """Whether a status is grpc.aio's own send failure rather than a server's answer."""
    return (code == grpc.StatusCode.INTERNAL and details == LOCAL_TRANSPORT_FAILURE
            and _rich_status(trailers) is None)


def from_rpc_error(err: grpc.RpcError) -> BlockstoreError:
    """Converts a grpc(.aio) RpcError; works without a live call object."""
    code, details = err.code(), err.details() or ""
    trailers = err.trailing_metadata() or ()
    if local_transport_failure(code, details, trailers):
        return from_status(grpc.StatusCode.UNAVAILABLE,
                           "the connection broke while the call was being sent", trailers)
    return from_status(code, details, trailers)


def _rich_status(trailing_metadata) -> status_pb2.Status | None:
    """The `google.rpc.Status` a server put in the trailers, if any (bad bytes are ignored)."""
    for key, value in trailing_metadata or ():
        if key == DETAILS_KEY and isinstance(value, bytes):
            try:
                return status_pb2.Status.FromString(value)
            except Exception:  # a corrupt detail must not hide the real error
                return None
    return None


def _details(status: status_pb2.Status) -> tuple[str, dict[str, str], float | None]:
    reason, meta, delay = "", {}, None
    for any_msg in status.details:
        info, retry = error_details_pb2.ErrorInfo(), error_details_pb2.RetryInfo()
        if any_msg.Is(info.DESCRIPTOR) and any_msg.Unpack(info):
            reason, meta = info.reason, dict(info.metadata)
        elif any_msg.Is(retry.DESCRIPTOR) and any_msg.Unpack(retry):
            delay = retry.retry_delay.seconds + retry.retry_delay.nanos / 1e9
    return reason, meta, delay
