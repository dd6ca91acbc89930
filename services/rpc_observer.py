"""What an observer of every RPC sees and implements: the role between the one observing
interceptor (services/observed_calls.py) and the concerns it serves.

Owns `RpcCall` (one call's method, wire bytes, duration and final status) and the
`RpcObserver` / `CallWatch` Protocols that services/metrics.py, services/rpclog.py and
services/traced_calls.py implement. Rules: an observer depends on this module only, never
on the interceptor; it gets no metadata but the trace propagation headers.
"""

from __future__ import annotations

import functools
from time import perf_counter
from typing import Any, Protocol

import grpc

PROPAGATION_HEADERS = ("traceparent", "tracestate", "baggage")


class RpcCall:
    """One call as every observer sees it; `code` and `seconds` are set when it ends.
    Observers get no metadata but the trace propagation headers: the rest holds the
    bearer token, which no log line, metric or span may carry."""

    __slots__ = ("method", "service", "name", "_metadata", "bytes_in", "bytes_out",
                 "started", "code", "seconds")

    def __init__(self, details: Any) -> None:
        self.method, self.service, self.name = _names(details.method)
        self._metadata = details.invocation_metadata
        self.bytes_in = self.bytes_out = 0
        self.started, self.code, self.seconds = perf_counter(), grpc.StatusCode.OK, 0.0

    def trace_headers(self) -> dict[str, str]:
        """The caller's W3C trace context (`traceparent`, `tracestate`, `baggage`)."""
        return {k: v for k, v in self._metadata or () if k in PROPAGATION_HEADERS}


@functools.cache     # bounded: only methods with a handler get here (the method table)
def _names(path: str) -> tuple[str, str, str]:
    """"/pkg.Service/Method" -> ("pkg.Service/Method", "pkg.Service", "Method")."""
    method = path.lstrip("/")
    return method, *method.rpartition("/")[::2]


class CallWatch(Protocol):
    """What one observer keeps of one call. Optional: `sent(message)`, told each reply
    or item of a reply stream handed to gRPC; `enter() -> token` and `leave(token)`,
    called around each step of the behavior."""

    def ended(self, call: RpcCall) -> None:
        """The call ended, with `call.code` and `call.seconds` set."""


class RpcObserver(Protocol):
    def watch(self, call: RpcCall) -> CallWatch | None:
        """The watch of a call whose behavior starts now; None leaves the call alone."""
