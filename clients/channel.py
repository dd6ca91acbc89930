"""gRPC channel construction: message limits, TLS and the bearer token.

Owns the channel options every client uses and the per-call authorization metadata.
Rules: blocks are up to 4 MiB of chunk data plus framing, and a page of a listing can be
large, so the default 4 MiB receive limit of gRPC would reject legitimate messages; 16 MiB
leaves room without letting a broken peer make us buffer without bound. A client
certificate only goes with TLS, and its key with it.
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


Pem = bytes | str | Path


def read_pem(pem: Pem | None) -> bytes | None:
    """PEM bytes as given, or read from a file path (str or Path)."""
    if pem is None or isinstance(pem, bytes):
        return pem
    return Path(pem).read_bytes()


def open_channel(address: str, ca_cert: Pem | None = None, client_cert: Pem | None = None,
                 client_key: Pem | None = None) -> grpc.aio.Channel:
    """A grpc.aio channel bound to the running event loop.

    TLS when a CA is given; a client certificate and key add mutual TLS for servers
    started with `--tls-client-ca`.
    """
    if ca_cert is None:
        if client_cert or client_key:
            raise ValueError("a client certificate needs TLS: give ca_cert too")
        return grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS)
    if bool(client_cert) != bool(client_key):
        raise ValueError("client_cert and client_key go together")
    creds = grpc.ssl_channel_credentials(root_certificates=read_pem(ca_cert),
                                         private_key=read_pem(client_key),
                                         certificate_chain=read_pem(client_cert))
    return grpc.aio.secure_channel(address, creds, options=CHANNEL_OPTIONS)


def auth_metadata(token: str) -> tuple[tuple[str, str], ...]:
    """Per-call metadata; per call rather than call credentials so it also works in plaintext."""
    return (("authorization", f"Bearer {token}"),)
