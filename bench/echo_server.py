"""The ceiling: a bare grpcio streaming server with no storage behind it.

`Sink` (client stream) counts the bytes it receives; `Source` (server stream) sends
N messages of a given size. Sync grpcio, generic handlers: the least Python can do.
"""

from __future__ import annotations

import sys
import time
from concurrent import futures

import grpc


def _sink(request_iterator, context):
    total = 0
    for msg in request_iterator:
        total += len(msg)
    return total.to_bytes(8, "big")


def _source(request, context):
    count, size = int.from_bytes(request[:8], "big"), int.from_bytes(request[8:16], "big")
    payload = bytes(request[16:17]) * size
    for _ in range(count):
        yield payload


def main() -> None:
    server = grpc.server(futures.ThreadPoolExecutor(8), options=[
        ("grpc.max_receive_message_length", 16 << 20),
        ("grpc.max_send_message_length", 16 << 20)])
    ident = lambda b: b  # noqa: E731 - raw bytes in and out
    handlers = {
        "Sink": grpc.stream_unary_rpc_method_handler(_sink, ident, ident),
        "Source": grpc.unary_stream_rpc_method_handler(_source, ident, ident),
    }
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler("echo.Echo",
                                                                          handlers)])
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(f"listening on 127.0.0.1:{port}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop(0)


if __name__ == "__main__":
    sys.exit(main())
