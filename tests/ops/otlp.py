"""A tiny OTLP/HTTP trace receiver on loopback, for tests of the server's tracing.

It takes what an OpenTelemetry exporter POSTs to `/v1/traces`, decodes each body as an
`ExportTraceServiceRequest` (opentelemetry-proto) and keeps the spans with their
resource's attributes; it answers like a collector (200, an empty
`ExportTraceServiceResponse`). It also keeps every raw body, so a test can look for
what must never be exported (a token) in the bytes themselves.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest, ExportTraceServiceResponse)


@dataclass
class ReceivedSpan:
    span: object                  # opentelemetry.proto.trace.v1.Span
    resource: dict

    @property
    def attributes(self) -> dict:
        return _values(self.span.attributes)


def _values(attributes) -> dict:
    return {a.key: getattr(a.value, a.value.WhichOneof("value")) for a in attributes}


class OtlpReceiver:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.spans: list[ReceivedSpan] = []
        self.bodies: list[bytes] = []
        self.requests = 0
        self._lock = threading.Lock()
        self.http = ThreadingHTTPServer((host, port), self._handler())
        self.endpoint = f"http://{host}:{self.http.server_address[1]}"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.take(self.path, self.headers.get("Content-Type", ""), body)
                reply = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args) -> None:
                pass

        return Handler

    def take(self, path: str, content_type: str, body: bytes) -> None:
        assert path == "/v1/traces" and content_type == "application/x-protobuf", \
            f"an OTLP/HTTP protobuf trace export, not {path} {content_type}"
        request = ExportTraceServiceRequest.FromString(body)
        with self._lock:
            self.requests += 1
            self.bodies.append(body)
            for resource_spans in request.resource_spans:
                resource = _values(resource_spans.resource.attributes)
                for scope in resource_spans.scope_spans:
                    self.spans += [ReceivedSpan(s, resource) for s in scope.spans]

    def named(self, name: str) -> list[ReceivedSpan]:
        with self._lock:
            return [s for s in self.spans if s.span.name == name]

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()
