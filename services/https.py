"""TLS for the EBS direct HTTP listener, from the files the gRPC side is served with.

Rule: one server, one identity. The EBS listener presents the same certificate as gRPC
and, when gRPC requires client certificates (--tls-client-ca), requires one signed by
the same CA: an operator who asked for mutual TLS gets it on every port, not on all but
one. TLS 1.2 is the oldest version offered (what the AWS SDKs require).
"""

from __future__ import annotations

import ssl

from services.config import TlsConfig


def server_context(tls: TlsConfig) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(tls.cert, tls.key)
    context.set_alpn_protocols(["http/1.1"])      # aiohttp speaks HTTP/1.1 only
    if tls.client_ca is not None:
        context.load_verify_locations(cafile=str(tls.client_ca))
        context.verify_mode = ssl.CERT_REQUIRED
    return context
