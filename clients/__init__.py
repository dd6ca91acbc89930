"""Blockstore Python client library and the client half of the `blockstore` CLI.

- `AsyncClient` (grpc.aio) and `Client` (blocking) cover every RPC of
  ControlPlaneService and DataPlaneService and return the `blockstore.v1` messages.
- Errors are `BlockstoreError` subclasses named after the gRPC code, each with the
  server's `ErrorInfo.reason` in `.reason` (e.g. `NotFound`, reason `INVALID_VOLUME_ID`).
- Transient failures (UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED) are retried
  with exponential backoff and jitter, only where repeating the call is safe; every
  call carries a deadline. See `clients.aio` for the rules and docs/clients.md.

Layering: this package imports only the generated `blockstore.v1` stubs, grpc, google.rpc
and the standard library, never server code (checked by tests/clients/test_layering.py).
"""

from clients.aio import AsyncClient
from clients.data import snapshot_target, volume_target
from clients.errors import (Aborted, AlreadyExists, BlockstoreError, Cancelled, DataLoss,
                            DeadlineExceeded, FailedPrecondition, Internal, InvalidArgument,
                            NotFound, OutOfRange, PermissionDenied, ResourceExhausted,
                            Unauthenticated, Unavailable, Unimplemented, Unknown)
from clients.retry import RetryPolicy
from clients.sync import Client

__all__ = [
    "AsyncClient", "Client", "RetryPolicy", "snapshot_target", "volume_target",
    "BlockstoreError", "Aborted", "AlreadyExists", "Cancelled", "DataLoss", "DeadlineExceeded",
    "FailedPrecondition", "Internal", "InvalidArgument", "NotFound", "OutOfRange",
    "PermissionDenied", "ResourceExhausted", "Unauthenticated", "Unavailable",
    "Unimplemented", "Unknown",
]
