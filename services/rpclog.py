"""One log line per finished RPC: method, account, status, bytes, duration.

Owns `RpcLogInterceptor` (logger `blockstore.rpc`, INFO; health checks at DEBUG, since
load balancers poll them). It is stacked outside the authentication edge in
services/server.py, so it logs the status the client sees, UNAUTHENTICATED included.
Bytes are wire bytes, counted where gRPC hands each message to the (de)serializer, so
no message is encoded twice; a unary reply is sent after its call returns, so its size
is its `ByteSize()` (unary replies are small: block data only travels in streams).

Rules: the account is the authenticated account id (services/auth.py), "-" before
authentication; no metadata and no request field reaches the line, so neither does a
token. With `--log-format json` the figures are fields of the object
(services/logformat.py), for log shippers.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable

import grpc

from blockstore.caller import CURRENT_ACCOUNT
from services.handlers import final_code, items_of, result_of, rewrap

log = logging.getLogger("blockstore.rpc")
QUIET_PREFIXES = ("/grpc.health.v1.Health/",)


class RpcLogInterceptor(grpc.aio.ServerInterceptor):
    """Logs every finished call; `finished` counts them (the shutdown line says it)."""

    def __init__(self) -> None:
        self.finished = 0

    async def intercept_service(self, continuation: Callable, details: Any) -> Any:
        handler = await continuation(details)
        if handler is None:
            return None
        level = logging.DEBUG if details.method.startswith(QUIET_PREFIXES) else logging.INFO
        return _wrap(handler, _Call(self, details.method.lstrip("/"), level))


class _Call:
    def __init__(self, owner: RpcLogInterceptor, method: str, level: int) -> None:
        self.owner, self.method, self.level = owner, method, level
        self.bytes_in = self.bytes_out = 0
        self.started = time.monotonic()

    def codec(self, deserializer: Callable | None, serializer: Callable | None):
        def deserialize(raw: bytes) -> Any:
            self.bytes_in += len(raw)
            return deserializer(raw) if deserializer else raw

        def serialize(message: Any) -> bytes:
            raw = serializer(message) if serializer else message
            self.bytes_out += len(raw)
            return raw
        return deserialize, serialize

    def end(self, context: Any, error: BaseException | None) -> None:
        self.owner.finished += 1
        if not log.isEnabledFor(self.level):
            return
        fields = {"method": self.method, "account_id": CURRENT_ACCOUNT.get("-"),
                  "code": final_code(context, error).name, "bytes_in": self.bytes_in,
                  "bytes_out": self.bytes_out,
                  "duration_ms": round((time.monotonic() - self.started) * 1000, 3)}
        log.log(self.level, "rpc %(method)s account=%(account_id)s code=%(code)s "
                "in=%(bytes_in)dB out=%(bytes_out)dB %(duration_ms).1fms", fields,
                extra={"fields": fields})


def _wrap(handler: grpc.RpcMethodHandler, call: _Call):
    def unary(behavior):
        async def run(request, context):
            error = None
            try:
                reply = await result_of(behavior, request, context)
                call.bytes_out += reply.ByteSize() if hasattr(reply, "ByteSize") else 0
                return reply
            except BaseException as err:
                error = err
                raise
            finally:
                call.end(context, error)
        return run

    def streaming(behavior):
        async def run(request, context):
            error = None
            try:
                async for item in items_of(behavior, request, context):
                    yield item
            except BaseException as err:
                error = err
                raise
            finally:
                call.end(context, error)
        return run

    return rewrap(handler, unary, streaming, call.codec)
