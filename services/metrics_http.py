"""The `/metrics` endpoint: Prometheus text over a minimal HTTP/1.1 server (asyncio).

Owns only the socket: it answers `GET /metrics` with `Metrics.render()` (prometheus-client's
text format, services/metric_families.py) and everything else with 404/405, reads at most
8 KiB of request head within 5 s, and closes each connection after one answer, so a slow
or hostile scraper holds nothing for long.
"""

from __future__ import annotations

import asyncio
import logging

from services.metric_families import CONTENT_TYPE, Metrics

log = logging.getLogger("blockstore.metrics")
MAX_HEAD = 8192
READ_TIMEOUT_S = 5.0


async def start_metrics_server(metrics: Metrics, listen: str) -> tuple[asyncio.Server, int]:
    """Listen on HOST:PORT (port 0 picks one); returns the server and its port."""
    host, sep, port = listen.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"--metrics-listen {listen!r}: expected HOST:PORT")

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_TIMEOUT_S)
            writer.write(_response(metrics, head[:MAX_HEAD]))
            await writer.drain()
        except (asyncio.TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(answer, host.strip("[]"), int(port), limit=MAX_HEAD)
    return server, server.sockets[0].getsockname()[1]


def _response(metrics: Metrics, head: bytes) -> bytes:
    method, _, rest = head.partition(b" ")
    path = rest.partition(b" ")[0].partition(b"?")[0]
    if method not in (b"GET", b"HEAD"):
        return _reply(405, "method not allowed\n")
    if path != b"/metrics":
        return _reply(404, "not found: try /metrics\n")
    return _reply(200, metrics.render(), CONTENT_TYPE, body=method == b"GET")


def _reply(status: int, text: str | bytes, ctype: str = "text/plain; charset=utf-8",
           body: bool = True) -> bytes:
    data = text.encode() if isinstance(text, str) else text
    reason = {200: "OK", 404: "Not Found", 405: "Method Not Allowed"}[status]
    head = (f"HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\n"
            f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n").encode()
    return head + (data if body else b"")
