"""What per-RPC logging and tracing cost the server, same run, same machine.

    .venv/bin/python bench/tracing_overhead.py [--calls 2000] [--upload 64M] [--rounds 3]
        [--base GIT-REF]

Modes, each a fresh `blockstore serve` on loopback (INFO logs, --no-fsync so the disk
does not hide CPU costs):
  base  the server of GIT-REF (default: the commit before tracing and per-RPC logs), run
        from a temporary checkout: the build without either
  off   this tree with no OTEL_* variable: per-RPC log lines on, tracing off
  on    this tree exporting every span over OTLP/HTTP to a receiver in this process
Workloads: `--calls` sequential GetVolume calls (per-call cost shows best on a small
RPC) and one UploadBlocks stream of `--upload` bytes in 1 MiB blocks. Prints the best
round of each (the machine is shared: figures are ranges, the best is the least
disturbed), as calls/s and server CPU microseconds per call, MB/s and server CPU seconds.

On a loaded machine those end-to-end differences drown in noise, so it also times the
interceptors alone, in this process: `--micro` calls of a unary behavior that does
nothing, bare, with the per-RPC log (INFO, to /dev/null), with log and tracing (the
SDK's batch processor, an exporter that drops) and with metrics too, each stack one
`ObservedCalls` interceptor as the server has it: microseconds each adds per call.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import MIB, REPO, ServerProc, create_account, row  # noqa: E402
from blockstore.v1 import control_plane_pb2 as cpb  # noqa: E402
from blockstore.v1 import control_plane_pb2_grpc as cp_grpc  # noqa: E402
from blockstore.v1 import data_plane_pb2_grpc as dp_grpc  # noqa: E402
from clients.sizes import parse_size  # noqa: E402
from tests.hostile.world import block, target  # noqa: E402

BASE_REF = "57f9837"     # main just before per-RPC logs and tracing landed
WIDTHS = [6, 10, 14, 9, 14]


def receiver() -> str:
    """An OTLP/HTTP endpoint that takes and drops spans, as a collector would."""
    class Drop(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass
    http = ThreadingHTTPServer(("127.0.0.1", 0), Drop)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{http.server_address[1]}"


def start(tree: Path, data_dir: Path, env: dict[str, str]) -> ServerProc:
    data_dir.mkdir(parents=True)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    proc = subprocess.Popen([sys.executable, "-m", "blockstore", "serve", "--data-dir",
                             str(data_dir), "--listen", "127.0.0.1:0", "--no-fsync"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            cwd=tree, env={**clean, "PYTHONPATH": str(tree), **env})
    for line in proc.stdout:
        if "listening on " in line:
            address = line.rsplit("listening on ", 1)[1].split()[0]
            threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
            return ServerProc(proc, address, data_dir)
    raise RuntimeError(f"the {tree} server did not start")


def measure(server: ServerProc, token: str, calls: int, upload: int) -> tuple[float, ...]:
    md = (("authorization", f"Bearer {token}"),)
    channel = grpc.insecure_channel(server.address, options=[
        ("grpc.max_send_message_length", 64 << 20)])
    cp, dp = cp_grpc.ControlPlaneServiceStub(channel), dp_grpc.DataPlaneServiceStub(channel)
    vol = cp.CreateVolume(cpb.CreateVolumeRequest(size_bytes=upload, chunk_size=MIB),
                          metadata=md).volume.volume_id
    request = cpb.GetVolumeRequest(volume_id=vol)
    cpu, t0 = server.cpu_seconds(), time.perf_counter()
    for _ in range(calls):
        cp.GetVolume(request, metadata=md)
    call_s, call_cpu = time.perf_counter() - t0, server.cpu_seconds() - cpu
    blocks = [block(i * MIB, os.urandom(MIB), MIB) for i in range(upload // MIB)]
    cpu, t0 = server.cpu_seconds(), time.perf_counter()
    dp.UploadBlocks(iter([target(vol), *blocks]), metadata=md)
    up_s, up_cpu = time.perf_counter() - t0, server.cpu_seconds() - cpu
    channel.close()
    return calls / call_s, call_cpu / calls * 1e6, upload / up_s / 1e6, up_cpu


def checkout(ref: str, into: Path) -> Path:
    """The tree of `ref`, unpacked (no worktree registered in the repository)."""
    into.mkdir()
    archive = subprocess.run(["git", "archive", ref], cwd=REPO, check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def rounds(modes: dict, work: Path, args: argparse.Namespace) -> dict[str, list]:
    results: dict[str, list[tuple[float, ...]]] = {m: [] for m in modes}
    for n in range(args.rounds):        # interleaved: drift hits every mode alike
        for mode, (tree, env) in modes.items():
            server = start(tree, work / f"{mode}-{n}", env)
            try:
                token = create_account(work / f"{mode}-{n}", "bench")
                results[mode].append(measure(server, token, args.calls, args.upload))
            finally:
                server.stop()
    return results


def micro(calls: int) -> dict[str, float]:
    """Microseconds per call of a do-nothing unary behavior, bare and wrapped."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import (BatchSpanProcessor, SpanExporter,
                                                SpanExportResult)
    from services.metric_families import Metrics
    from services.metrics import RpcMetrics
    from services.observed_calls import ObservedCalls
    from services.rpclog import RpcLog
    from services.traced_calls import CallTracing

    class Drop(SpanExporter):
        def export(self, spans):
            return SpanExportResult.SUCCESS

    class Context:               # what the wrappers ask of a finished call
        def code(self):
            return None

    class Details:
        method = "/blockstore.v1.ControlPlaneService/GetVolume"
        invocation_metadata = (("authorization", "Bearer x"),)

    async def behavior(request, context):
        return request

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(Drop()))
    logging.basicConfig(level=logging.INFO, stream=open(os.devnull, "w"))
    tracer = provider.get_tracer("b")
    stacks = {"bare": [], "log": [ObservedCalls([RpcLog()])],
              "log+trace": [ObservedCalls([CallTracing(tracer), RpcLog()])],
              "all three": [ObservedCalls([CallTracing(tracer), RpcMetrics(Metrics()),
                                           RpcLog()])]}
    return {name: asyncio.run(_time_calls(stack, behavior, Context(), Details(), calls))
            for name, stack in stacks.items()}


async def _time_calls(stack, behavior, context, details, calls: int) -> float:
    async def final(_details):
        return grpc.unary_unary_rpc_method_handler(behavior)

    async def chained(details):
        continuation = final
        for interceptor in reversed(stack):
            continuation = (lambda i, c: lambda d: i.intercept_service(c, d))(
                interceptor, continuation)
        return await continuation(details)

    t0 = time.process_time()
    for _ in range(calls):
        handler = await chained(details)
        await handler.unary_unary(b"", context)
    return (time.process_time() - t0) / calls * 1e6


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--calls", type=int, default=2000)
    p.add_argument("--upload", type=parse_size, default=64 * MIB)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--base", default=BASE_REF)
    p.add_argument("--micro", type=int, default=20000)
    args = p.parse_args()
    for name, us in micro(args.micro).items():
        print(f"observers {name:<10} {us:7.1f} us CPU per call (in process)")
    if args.rounds < 1:
        return
    with tempfile.TemporaryDirectory(prefix="bs-trace-bench-") as tmp:
        work = Path(tmp)
        modes = {"base": (checkout(args.base, work / "base"), {}), "off": (REPO, {}),
                 "on": (REPO, {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver(),
                               "OTEL_BSP_SCHEDULE_DELAY": "200"})}
        results = rounds(modes, work, args)
    print(row(["mode", "calls/s", "CPU us/call", "MB/s", "upload CPU s"], WIDTHS))
    for mode, runs in results.items():
        calls, call_cpu = max(r[0] for r in runs), min(r[1] for r in runs)
        mbs, up_cpu = max(r[2] for r in runs), min(r[3] for r in runs)
        print(row([mode, f"{calls:.0f}", f"{call_cpu:.0f}", f"{mbs:.0f}", f"{up_cpu:.2f}"],
                  WIDTHS))


if __name__ == "__main__":
    main()
