"""Domain errors shared by every layer below the gRPC edge.

Owns `BlockstoreError` and every domain error class. Rules: each error knows its
`reason` (the `google.rpc.ErrorInfo.reason` of docs/design.md) and a message that names
the object and no server path, but nothing of gRPC: `services.errors` holds the one
table that maps these classes to status codes. `metadata` ends up in
`ErrorInfo.metadata` (for example the offset of a block that failed its checksum).
"""

from __future__ import annotations


class BlockstoreError(Exception):
    """Base of every error a client may see; `reason` is the ErrorInfo reason."""

    reason: str = "INTERNAL_ERROR"

    def __init__(self, message: str, **metadata: object) -> None:
        super().__init__(message)
        self.message = message
        self.metadata = {k: str(v) for k, v in metadata.items()}


# --- not found ------------------------------------------------------------------------
class VolumeNotFound(BlockstoreError):
    reason = "INVALID_VOLUME_ID"


class SnapshotNotFound(BlockstoreError):
    reason = "INVALID_SNAPSHOT_ID"


class AccountNotFound(BlockstoreError):
    """ShareSnapshot named an account that does not exist."""

    reason = "INVALID_ACCOUNT_ID"


# --- permission denied (snapshot sharing) -------------------------------------------------
class PermissionDenied(BlockstoreError):
    reason = "PERMISSION_DENIED"


class NotOwner(PermissionDenied):
    """A grantee tried to change (delete, share, upload into) a snapshot it was shared."""

    reason = "NOT_OWNER"


class ExportNotAllowed(PermissionDenied):
    """A read-out of data shared without export (or of a clone of it) by the grantee."""

    reason = "EXPORT_NOT_ALLOWED"


# --- invalid argument -----------------------------------------------------------------
class InvalidArgument(BlockstoreError):
    """Generic malformed request field (page tokens, page sizes, ranges ...)."""

    reason = "INVALID_ARGUMENT"


class InvalidVolumeSize(InvalidArgument):
    reason = "INVALID_VOLUME_SIZE"


class InvalidChunkSize(InvalidArgument):
    reason = "INVALID_CHUNK_SIZE"


class InvalidProgress(InvalidArgument):
    reason = "INVALID_PROGRESS"


class MalformedChunkToken(InvalidArgument):
    """A chunk token given at snapshot creation is not 32 bytes, misaligned or out of range."""

    reason = "INVALID_CHUNK_TOKEN"


class ChecksumMismatch(InvalidArgument):
    reason = "CHECKSUM_MISMATCH"


class UnalignedBlock(InvalidArgument):
    reason = "UNALIGNED_BLOCK"


class DuplicateBlock(InvalidArgument):
    reason = "DUPLICATE_BLOCK"


class InvalidBlockData(InvalidArgument):
    """Block data that does not decode to its declared length (bad zstd, bombs, short data)."""

    reason = "INVALID_BLOCK_DATA"


class BlockCountMismatch(InvalidArgument):
    """A stream carried more or fewer blocks than its target's `block_count` announced."""

    reason = "BLOCK_COUNT_MISMATCH"


class StreamTooLong(InvalidArgument):
    """An UploadBlocks stream carries (or announces) more blocks than one stream may."""

    reason = "STREAM_TOO_LONG"


class DownloadTooLarge(InvalidArgument):
    """A DownloadBlocks call spans more chunk positions than one call may."""

    reason = "DOWNLOAD_TOO_LARGE"


class InvalidLineage(InvalidArgument):
    """Two snapshots compared by ListChangedBlocks are not of one volume lineage."""

    reason = "INVALID_SNAPSHOT_LINEAGE"


# --- out of range ---------------------------------------------------------------------
class BlockOutOfRange(BlockstoreError):
    reason = "BLOCK_OUT_OF_RANGE"


# --- failed precondition --------------------------------------------------------------
class FailedPrecondition(BlockstoreError):
    reason = "FAILED_PRECONDITION"


class UnknownChunkToken(FailedPrecondition):
    """A chunk token given at snapshot creation is not in the caller's chunk set."""

    reason = "INVALID_CHUNK_TOKEN"


class UnknownChunkReference(FailedPrecondition):
    """An uploaded block references a token the caller's account does not hold."""

    reason = "UNKNOWN_CHUNK_TOKEN"


class DataVersionConflict(FailedPrecondition):
    reason = "INVALID_DATA_VERSION"


class SnapshotAlreadyComplete(FailedPrecondition):
    reason = "SNAPSHOT_ALREADY_COMPLETE"


class NotEarliestOutstanding(FailedPrecondition):
    reason = "NOT_EARLIEST_OUTSTANDING"


class VolumeInUse(FailedPrecondition):
    """Another holder's writer lease on the volume is live (a second gateway)."""

    reason = "VOLUME_IN_USE"


class VolumeLeaseNotHeld(FailedPrecondition):
    """A renewal for a lease the caller no longer holds (released, or taken over)."""

    reason = "VOLUME_LEASE_NOT_HELD"


class SnapshotNotComplete(FailedPrecondition):
    """Only a COMPLETED snapshot can be shared."""

    reason = "SNAPSHOT_NOT_COMPLETE"


class SnapshotHasDependentVolumes(FailedPrecondition):
    reason = "SNAPSHOT_HAS_DEPENDENT_VOLUMES"


# --- already exists -------------------------------------------------------------------
class IdempotencyKeyReused(BlockstoreError):
    reason = "IDEMPOTENCY_KEY_REUSED"


# --- authentication -------------------------------------------------------------------
class AuthenticationFailed(BlockstoreError):
    reason = "AUTHENTICATION_FAILED"


# --- data loss ------------------------------------------------------------------------
class ChunkCorrupt(BlockstoreError):
    """A stored chunk no longer matches its BLAKE3 token (or is missing)."""

    reason = "CHUNK_CORRUPT"


class ChunkMissing(ChunkCorrupt):
    reason = "CHUNK_MISSING"


class ManifestCorrupt(BlockstoreError):
    """The manifest database holds bytes it can not read back (a damaged page, text
    that is no longer UTF-8); `blockstore verify` names the damaged rows."""

    reason = "MANIFEST_CORRUPT"


# --- internal -------------------------------------------------------------------------
class StorageIOError(BlockstoreError):
    """The server's storage failed an I/O call (other than running out of space)."""

    reason = "STORAGE_IO_ERROR"


class InternalError(BlockstoreError):
    """A fault with no better name; the server log has the details."""

    reason = "INTERNAL_ERROR"


# --- unavailable ----------------------------------------------------------------------
class DependencyUnavailable(BlockstoreError):
    """A store the server depends on could not be reached (restarting, unreachable);
    nothing was committed. `retry_after_s` becomes a google.rpc.RetryInfo."""

    reason = "DEPENDENCY_UNAVAILABLE"

    def __init__(self, message: str, retry_after_s: float = 1.0, **metadata: object) -> None:
        super().__init__(message, **metadata)
        self.retry_after_s = retry_after_s


class ManifestUnavailable(DependencyUnavailable):
    """The manifest database (PostgreSQL) refused or dropped the connection."""

    reason = "MANIFEST_UNAVAILABLE"


class ChunkStoreUnavailable(DependencyUnavailable):
    """The chunk store (an S3 endpoint) did not answer or failed the request."""

    reason = "CHUNK_STORE_UNAVAILABLE"


# --- resource exhausted ---------------------------------------------------------------
class ResourceExhausted(BlockstoreError):
    """A per-account limit; `retry_after_s` becomes a google.rpc.RetryInfo."""

    reason = "RESOURCE_EXHAUSTED"

    def __init__(self, message: str, retry_after_s: float = 1.0, **metadata: object) -> None:
        super().__init__(message, **metadata)
        self.retry_after_s = retry_after_s


class TooManyUploadStreams(ResourceExhausted):
    """An account has its cap of concurrent UploadBlocks streams open on one process."""

    reason = "TOO_MANY_UPLOAD_STREAMS"


class TooManyPendingSnapshots(ResourceExhausted):
    """An account has its cap of snapshots pending (uncompleted UPLOAD ones and the
    point-in-time ones queued behind them)."""

    reason = "TOO_MANY_PENDING_SNAPSHOTS"


class StorageFull(ResourceExhausted):
    """The server's storage is full, or its free space is under the configured reserve
    (`--min-free`): writes are refused, reads, deletes and GC keep working."""

    reason = "STORAGE_FULL"


class ServerOverloaded(ResourceExhausted):
    """The process is out of file descriptors or its database stayed locked too long."""

    reason = "SERVER_OVERLOADED"


# --- deadline exceeded ----------------------------------------------------------------
class StreamIdle(BlockstoreError):
    """A client stream sent nothing for longer than the server's idle timeout."""

    reason = "STREAM_IDLE_TIMEOUT"


# --- aborted --------------------------------------------------------------------------
class ChunkCollected(BlockstoreError):
    """A chunk a stream relied on was garbage-collected before it committed: retry."""

    reason = "CHUNK_COLLECTED"
