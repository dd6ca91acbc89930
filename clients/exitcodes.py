"""Stable exit codes of the client CLI, so scripts can branch without parsing stderr.

Owns `ExitCode`, the status-code -> exit-code table and the help epilog that lists them.
Rules: a code, once documented, keeps its meaning; every status maps to one code, and
one not in the table is UNEXPECTED (1), never OK.
"""

from __future__ import annotations

import enum

import grpc


class ExitCode(enum.IntEnum):
    OK = 0
    UNEXPECTED = 1        # a bug, INTERNAL, UNKNOWN, UNIMPLEMENTED
    USAGE = 2             # bad flags or arguments (argparse), missing token, unreadable CA
    NOT_FOUND = 3         # NOT_FOUND
    INVALID = 4           # INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE
    AUTH = 5              # UNAUTHENTICATED, PERMISSION_DENIED
    UNAVAILABLE = 6       # UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED (retries exhausted)
    CONFLICT = 7          # ALREADY_EXISTS (idempotency key reused), ABORTED
    DATA_INTEGRITY = 8    # DATA_LOSS, or data that failed verification on the client
    INTERRUPTED = 130     # Ctrl-C / CANCELLED


_BY_CODE = {
    grpc.StatusCode.NOT_FOUND: ExitCode.NOT_FOUND,
    grpc.StatusCode.INVALID_ARGUMENT: ExitCode.INVALID,
    grpc.StatusCode.FAILED_PRECONDITION: ExitCode.INVALID,
    grpc.StatusCode.OUT_OF_RANGE: ExitCode.INVALID,
    grpc.StatusCode.UNAUTHENTICATED: ExitCode.AUTH,
    grpc.StatusCode.PERMISSION_DENIED: ExitCode.AUTH,
    grpc.StatusCode.UNAVAILABLE: ExitCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED: ExitCode.UNAVAILABLE,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ExitCode.UNAVAILABLE,
    grpc.StatusCode.ALREADY_EXISTS: ExitCode.CONFLICT,
    grpc.StatusCode.ABORTED: ExitCode.CONFLICT,
    grpc.StatusCode.DATA_LOSS: ExitCode.DATA_INTEGRITY,
    grpc.StatusCode.CANCELLED: ExitCode.INTERRUPTED,
}


def for_status(code: grpc.StatusCode) -> ExitCode:
    return _BY_CODE.get(code, ExitCode.UNEXPECTED)


EPILOG = """\
exit codes:
  0    ok
  1    unexpected error (bug, INTERNAL, UNKNOWN)
  2    usage error (bad arguments, no token, unreadable CA/cert/key file)
  3    not found
  4    invalid argument or failed precondition (incl. OUT_OF_RANGE)
  5    authentication failed or permission denied
  6    server unavailable, deadline exceeded or overloaded (after retries)
  7    conflict: idempotency key reused, aborted
  8    data integrity: DATA_LOSS or a block that failed verification
  130  interrupted

environment:
  BLOCKSTORE_ADDRESS  server HOST:PORT (default 127.0.0.1:50051)
  BLOCKSTORE_TOKEN    bearer token of the account
  BLOCKSTORE_CA       PEM file of the CA that signed the server's certificate (enables TLS)
  BLOCKSTORE_CERT, BLOCKSTORE_KEY  client certificate and key (mutual TLS)
"""
