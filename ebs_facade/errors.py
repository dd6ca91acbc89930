"""The one table that maps errors to EBS error shapes (HTTP status, type, Reason).

EBS clients (botocore's `ebs` model) read the error type from the `x-amzn-ErrorType`
header and `Message` / `Reason` from the JSON body. Domain errors of the planes keep
their meaning: another account's snapshot is ResourceNotFoundException exactly like a
missing one unless it is shared with the caller (then a read-out without allow_export,
or any change, is AccessDeniedException), bad input is ValidationException with a
Reason, a state conflict is ConflictException, a limit is RequestThrottledException
(which clients retry), and anything else is InternalServerException whose message
names no server path (the wiring passes in services/faults.py's `domain_error`, which
the gRPC edge uses too). The few errors only this facade raises are defined here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable

from blockstore import errors as e
from ebs_facade.sigv4 import SignatureRejected

MAX_MESSAGE = 256     # EBS's ErrorMessage shape


class InvalidBlockToken(e.InvalidArgument):
    reason = "INVALID_BLOCK_TOKEN"


class InvalidPageToken(e.InvalidArgument):
    reason = "INVALID_PAGE_TOKEN"


class BlockChecksumMismatch(e.ChecksumMismatch):
    """The block's SHA256 is not its x-amz-Checksum: nothing was stored."""


class AggregateChecksumMismatch(e.InvalidArgument):
    """CompleteSnapshot's aggregate checksum is not that of the stored blocks."""


class BodyTimeout(e.InvalidArgument):
    """A request body that did not arrive in time: nothing was done."""


class SnapshotTimedOut(e.SnapshotNotFound):
    """StartSnapshot's Timeout passed: the snapshot was cancelled (deleted)."""


class UnsupportedSnapshot(e.InvalidArgument):
    """A snapshot whose chunk size is not EBS's 512 KiB block (made through gRPC)."""


@dataclass(frozen=True)
class EbsError:
    status: int
    type: str
    reason: str | None
    message: str

    def body(self) -> bytes:
        doc = {"message": self.message, "Message": self.message}
        if self.reason:
            doc["Reason"] = self.reason
        return json.dumps(doc).encode()


V, NF = "ValidationException", "ResourceNotFoundException"
# Most specific first: the first class an error is an instance of wins.
EBS_ERROR_OF: list[tuple[type[Exception], int, str, str | None]] = [
    (SignatureRejected, 403, "AccessDeniedException", "UNAUTHORIZED_ACCOUNT"),
    (e.AuthenticationFailed, 403, "AccessDeniedException", "UNAUTHORIZED_ACCOUNT"),
    # A snapshot shared with the caller: read out without export (EXPORT_NOT_ALLOWED) or
    # changed by the grantee (NOT_OWNER). EBS's reasons name no such case; the message does.
    (e.PermissionDenied, 403, "AccessDeniedException", "UNAUTHORIZED_ACCOUNT"),
    (e.SnapshotNotFound, 404, NF, "SNAPSHOT_NOT_FOUND"),
    (e.VolumeNotFound, 404, NF, "SNAPSHOT_NOT_FOUND"),
    (InvalidBlockToken, 400, V, "INVALID_BLOCK_TOKEN"),
    (InvalidPageToken, 400, V, "INVALID_PAGE_TOKEN"),
    (BodyTimeout, 400, V, "WRITE_REQUEST_TIMEOUT"),
    (e.InvalidLineage, 400, V, "UNRELATED_SNAPSHOTS"),
    (e.InvalidVolumeSize, 400, V, "INVALID_VOLUME_SIZE"),
    (UnsupportedSnapshot, 400, V, "INVALID_SNAPSHOT_ID"),
    (e.ChecksumMismatch, 400, V, "INVALID_BLOCK"),
    (e.InvalidBlockData, 400, V, "INVALID_BLOCK"),
    (e.BlockOutOfRange, 400, V, "INVALID_BLOCK"),
    (e.InvalidArgument, 400, V, "INVALID_PARAMETER_VALUE"),
    (e.IdempotencyKeyReused, 409, "ConflictException", None),
    (e.FailedPrecondition, 409, "ConflictException", None),
    (e.StorageFull, 402, "ServiceQuotaExceededException", "DEPENDENCY_SERVICE_QUOTA_EXCEEDED"),
    (e.ResourceExhausted, 400, "RequestThrottledException", "ACCOUNT_THROTTLED"),
]


Faults = Callable[[Exception, str], e.BlockstoreError]


def ebs_error(exc: Exception, what: str, faults: Faults) -> EbsError:
    """The EBS error a client sees for `exc`, raised while serving operation `what`;
    `faults` turns anything that is not a domain error into one (and logs it)."""
    if not isinstance(exc, SignatureRejected):
        exc = faults(exc, what)
    message = getattr(exc, "message", str(exc))
    if len(message) > MAX_MESSAGE:
        message = message[:MAX_MESSAGE - 3] + "..."
    for cls, status, kind, reason in EBS_ERROR_OF:
        if isinstance(exc, cls):
            return EbsError(status, kind, reason, message)
    return EbsError(500, "InternalServerException", None, message)
