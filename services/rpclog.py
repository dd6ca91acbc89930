"""One log line per finished RPC: method, account, status, bytes, duration.

Owns `RpcLog` (logger `blockstore.rpc`, INFO; health checks at DEBUG, since load
balancers poll them), one of the observers of services/observed_calls.py, which
measures the call (wire bytes, duration, status) and is stacked outside the
authentication edge, so the line has the status the client sees, UNAUTHENTICATED
included.

Rules: the account is the authenticated account id (services/auth.py), "-" before
authentication; no metadata and no request field reaches the line, so neither does a
token. With `--log-format json` the figures are fields of the object
(services/logformat.py), for log shippers.
"""

from __future__ import annotations

import logging
from blockstore.caller import CURRENT_ACCOUNT
from services.rpc_observer import RpcCall

log = logging.getLogger("blockstore.rpc")
QUIET_SERVICES = ("grpc.health.v1.Health",)


class RpcLog:
    """Logs every finished call; `finished` counts them (the shutdown line says it).
    It keeps nothing per call, so it is its own watch."""

    def __init__(self) -> None:
        self.finished = 0

    def watch(self, call: RpcCall) -> RpcLog:
        return self

    def ended(self, call: RpcCall) -> None:
        self.finished += 1
        level = logging.DEBUG if call.service in QUIET_SERVICES else logging.INFO
        if not log.isEnabledFor(level):
            return
        fields = {"method": call.method, "account_id": CURRENT_ACCOUNT.get("-"),
                  "code": call.code.name, "bytes_in": call.bytes_in,
                  "bytes_out": call.bytes_out, "duration_ms": round(call.seconds * 1000, 3)}
        log.log(level, "rpc %(method)s account=%(account_id)s code=%(code)s "
                "in=%(bytes_in)dB out=%(bytes_out)dB %(duration_ms).1fms", fields,
                extra={"fields": fields})
