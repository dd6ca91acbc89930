"""The one table that maps domain errors to gRPC status codes and `google.rpc.ErrorInfo`.

Owns `STATUS_OF` (domain error class -> status code, most specific first) and the abort
that sends status, message and ErrorInfo. Rules: the only place a domain error meets
gRPC; the README's error table lists exactly the code and reason pairs it sends
(tests/test_error_table.py); messages and metadata are bounded, so a long client-chosen
id cannot overflow the trailers.
"""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2

from blockstore import errors as e

DOMAIN = "blockstore"
# Messages and ErrorInfo metadata echo client-chosen strings (ids, labels). They travel in
# trailing metadata, which clients cap at 8 KiB (soft) / 16 KiB (hard): a NOT_FOUND for a
# 20 KB volume id would otherwise reach the client as RESOURCE_EXHAUSTED "Stream removed".
# grpc-message is percent-encoded (up to 3x) and the status repeats it, hence these bounds.
MAX_MESSAGE_BYTES = 768
MAX_METADATA_VALUE_BYTES = 200

# Most specific first: the first class an error is an instance of wins.
STATUS_OF: list[tuple[type[e.BlockstoreError], grpc.StatusCode]] = [
    (e.VolumeNotFound, grpc.StatusCode.NOT_FOUND),
    (e.SnapshotNotFound, grpc.StatusCode.NOT_FOUND),
    (e.AccountNotFound, grpc.StatusCode.NOT_FOUND),
    (e.PermissionDenied, grpc.StatusCode.PERMISSION_DENIED),
    (e.InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT),
    (e.BlockOutOfRange, grpc.StatusCode.OUT_OF_RANGE),
    (e.FailedPrecondition, grpc.StatusCode.FAILED_PRECONDITION),
    (e.IdempotencyKeyReused, grpc.StatusCode.ALREADY_EXISTS),
    (e.AuthenticationFailed, grpc.StatusCode.UNAUTHENTICATED),
    (e.ResourceExhausted, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (e.ChunkCorrupt, grpc.StatusCode.DATA_LOSS),
    (e.ManifestCorrupt, grpc.StatusCode.DATA_LOSS),
    (e.StorageIOError, grpc.StatusCode.INTERNAL),
    (e.InternalError, grpc.StatusCode.INTERNAL),
    (e.ChunkCollected, grpc.StatusCode.ABORTED),
    (e.DependencyUnavailable, grpc.StatusCode.UNAVAILABLE),
    (e.StreamIdle, grpc.StatusCode.DEADLINE_EXCEEDED),
]


def status_code(error: e.BlockstoreError) -> grpc.StatusCode:
    for cls, code in STATUS_OF:
        if isinstance(error, cls):
            return code
    return grpc.StatusCode.INTERNAL


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` UTF-8 bytes (on a character boundary), marked if cut."""
    raw = text.encode("utf-8", "replace")
    if len(raw) <= limit:
        return text
    return raw[:limit - 3].decode("utf-8", "ignore") + "..."


def status_details(code: grpc.StatusCode, reason: str, message: str,
                   metadata: dict[str, str] | None = None,
                   retry_after_s: float | None = None) -> bytes:
    """A serialized `google.rpc.Status` carrying ErrorInfo (and RetryInfo if given)."""
    info = any_pb2.Any()
    info.Pack(error_details_pb2.ErrorInfo(reason=reason, domain=DOMAIN, metadata=metadata or {}))
    details = [info]
    if retry_after_s is not None:
        retry = any_pb2.Any()
        delay = duration_pb2.Duration()
        delay.FromMilliseconds(int(retry_after_s * 1000))
        retry.Pack(error_details_pb2.RetryInfo(retry_delay=delay))
        details.append(retry)
    return status_pb2.Status(code=code.value[0], message=message,
                             details=details).SerializeToString()


def trailing_metadata(code: grpc.StatusCode, reason: str, message: str,
                      metadata: dict[str, str] | None = None,
                      retry_after_s: float | None = None) -> tuple:
    return (("grpc-status-details-bin",
             status_details(code, reason, message, metadata, retry_after_s)),)


async def abort_with(context: grpc.aio.ServicerContext, error: e.BlockstoreError) -> None:
    """Abort the call with the status and ErrorInfo of a domain error (raises)."""
    code = status_code(error)
    retry = getattr(error, "retry_after_s", None)
    message = clip(error.message, MAX_MESSAGE_BYTES)
    metadata = {k: clip(v, MAX_METADATA_VALUE_BYTES) for k, v in error.metadata.items()}
    await context.abort(code, message,
                        trailing_metadata(code, error.reason, message, metadata, retry))


assert code_pb2.NOT_FOUND == grpc.StatusCode.NOT_FOUND.value[0]
