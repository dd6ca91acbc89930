"""Which HTTP server for the EBS facade: aiohttp against uvicorn (an ASGI server), measured.

    .venv/bin/pip install uvicorn httptools        # the ASGI side only; not a runtime dep
    .venv/bin/python bench/ebs_http_servers.py [--requests 512] [--threads 16] [--rounds 3]

Each server runs alone in its own process on loopback with a minimal app of the shape of
PutSnapshotBlock: PUT /snapshots/{id}/blocks/{index} with a 512 KiB body, the body read
whole, 201 with an x-amz-Checksum header back. No hashing, no storage: what is measured
is what the server itself costs per request. The same client (N threads, one keep-alive
http.client connection each) drives both, rounds alternating which goes first. Prints
MB/s, requests/s and the server process's CPU seconds per GB received (the figure that
matters on a loaded machine: the facade's own work, hashing and storing, comes on top).
uvicorn runs with its fastest HTTP/1.1 parser (httptools) on the standard asyncio loop,
as aiohttp does here (its C parser, no uvloop): the servers differ, nothing else.
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BODY = 512 << 10
SERVERS = ("aiohttp", "uvicorn")


def aiohttp_main(port: int) -> None:
    from aiohttp import web

    async def put(request: web.Request) -> web.Response:
        data = await request.read()
        return web.Response(status=201, headers={"x-amz-Checksum": str(len(data))})

    app = web.Application(client_max_size=BODY + 65536)
    app.router.add_put("/snapshots/{sid}/blocks/{index}", put)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


async def asgi_app(scope, receive, send) -> None:
    """The same handler as a bare ASGI app (no framework on top of uvicorn)."""
    if scope["type"] != "http":
        return
    parts, more = [], True
    while more:
        message = await receive()
        parts.append(message.get("body", b""))
        more = message.get("more_body", False)
    size = str(sum(map(len, parts))).encode()
    await send({"type": "http.response.start", "status": 201,
                "headers": [(b"x-amz-checksum", size), (b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})


def uvicorn_main(port: int) -> None:
    import uvicorn
    uvicorn.run("bench.ebs_http_servers:asgi_app", host="127.0.0.1", port=port,
                http="httptools", loop="asyncio", log_level="warning", access_log=False)


def start(kind: str) -> tuple[subprocess.Popen, int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    repo = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen([sys.executable, "-c", f"from bench.ebs_http_servers import "
                             f"{kind}_main; {kind}_main({port})"], cwd=repo)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return proc, port
        except OSError:
            time.sleep(0.05)      # polling the port: the server says nothing when ready
    proc.kill()
    raise RuntimeError(f"{kind} did not start")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def drive(port: int, requests: int, threads: int) -> None:
    body = os.urandom(BODY)

    def worker(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for i in range(n, requests, threads):
            conn.request("PUT", f"/snapshots/snap-bench/blocks/{i}", body,
                         {"Content-Type": "application/octet-stream"})
            reply = conn.getresponse()
            reply.read()
            assert reply.status == 201 and reply.getheader("x-amz-checksum") == str(BODY)
        conn.close()

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(worker, range(threads)))


def measure(kind: str, requests: int, threads: int) -> tuple[float, float, float]:
    proc, port = start(kind)
    try:
        drive(port, threads, threads)                 # connections up, code warm
        cpu0, t0 = cpu_seconds(proc.pid), time.perf_counter()
        drive(port, requests, threads)
        wall, cpu = time.perf_counter() - t0, cpu_seconds(proc.pid) - cpu0
    finally:
        proc.terminate()
        proc.wait(30)
    gb = requests * BODY / 1e9
    return requests * BODY / wall / 1e6, requests / wall, cpu / gb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=512)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"{args.requests} PUTs of 512 KiB per run, {args.threads} client threads")
    print(f"{'server':<10}{'MB/s':>8}{'req/s':>8}{'server CPU s/GB':>17}")
    for n in range(args.rounds):
        for kind in (SERVERS if n % 2 == 0 else SERVERS[::-1]):
            mbps, rps, cpu_per_gb = measure(kind, args.requests, args.threads)
            print(f"{kind:<10}{mbps:>8.0f}{rps:>8.0f}{cpu_per_gb:>17.2f}")


if __name__ == "__main__":
    main()
