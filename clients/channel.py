"""gRPC channel construction: message limits, TLS and the bearer token.

Blocks are up to 4 MiB of chunk data plus framing, and a page of a listing can be large,
so the default 4 MiB receive limit of gRPC would reject legitimate messages; 16 MiB leaves
room without letting a broken peer make us buffer without bound.
"""

from __future__ import annotations

from pathlib import Path

import grpc

MAX_MESSAGE_BYTES = 16 << 20

CHANNEL_OPTIONS = (
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    # Notice a dead peer during long streams instead of waiting for the deadline.
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
)


def read_ca(ca_cert: bytes | str | Path) -> bytes:
    """`ca_cert` is PEM bytes, or the path of a PEM file (str or Path)."""
    if isinstance(ca_cert, bytes):
        return ca_cert
    return Path(ca_cert).read_bytes()


def open_channel(address: str, ca_cert: bytes | str | Path | None = None) -> grpc.aio.Channel:
    """A grpc.aio channel bound to the running event loop; TLS when a CA is given."""
    if ca_cert is None:
        return grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS)
    creds = grpc.ssl_channel_credentials(root_certificates=read_ca(ca_cert))
    return grpc.aio.secure_channel(address, creds, options=CHANNEL_OPTIONS)


def auth_metadata(token: str) -> tuple[tuple[str, str], ...]:
    """Per-call metadata; per call rather than call credentials so it also works in plaintext."""
    return (("authorization", f"Bearer {token}"),)
