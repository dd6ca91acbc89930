"""What metrics and per-RPC logs cost on upload throughput, same run, alternating order.

    .venv/bin/python bench/dataplane.py --size 256M --metrics-overhead 4 [--no-fsync]

Each round uploads the image in full to a fresh `blockstore serve` three times:
  off      no `--metrics-listen`, `--log-level WARNING` (no metering stacked, no RPC lines)
  metrics  `--metrics-listen`, `--log-level WARNING`
  on       `--metrics-listen`, `--log-level INFO` (every finished RPC logs its line)
With metrics, a separate process scrapes /metrics every second meanwhile (a collector
scrapes every 15-60 s; once a second overstates it; a process of its own so it takes no
CPU from the client's). The order rotates between rounds so a drift of the loaded machine
hits every mode alike. Prints MB/s and server CPU seconds per GB of each run, medians,
and the overhead of each mode against "off" in %.

On a shared machine those differences are mostly noise, so it also prints the cost taken
apart (bench/metrics_micro.py): microseconds per metered call, times the calls the
servers counted per GB, and the server CPU one scrape costs, against CPU seconds per GB.
"""

from __future__ import annotations

import socket
import statistics
import subprocess
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from bench.common import Meter, create_account, row, start_server
from bench.metrics_micro import costs, per_gb
from clients import AsyncClient, volume_target
from clients.transfer import Tuning, upload_image

MIB = 1 << 20
MODES = {"off": ("--log-level", "WARNING"), "metrics": ("--log-level", "WARNING"),
         "on": ("--log-level", "INFO")}
WIDTHS = [8, 30, 8, 22, 8, 10]
SCRAPER = ("import sys, time, urllib.request as u\n"
           "while True:\n    u.urlopen(sys.argv[1], timeout=10).read(); time.sleep(1)")


async def compare(image: Path, work: Path, rounds: int, tuning: Tuning,
                  *flags: str) -> None:
    runs: dict[str, list[tuple[float, float]]] = {mode: [] for mode in MODES}
    counted = []
    order = list(MODES)
    for r in range(rounds):
        for mode in order[r % 3:] + order[:r % 3]:
            mbps, cpu, samples = await _upload_once(image, work / f"{mode}-{r}", mode,
                                                    tuning, flags)
            runs[mode].append((mbps, cpu))
            if samples:
                counted.append(samples)
    size = image.stat().st_size
    _report(size, runs)
    await _taken_apart(size, counted, statistics.median(c for _, c in runs["metrics"]))


async def _upload_once(image: Path, data: Path, mode: str, tuning: Tuning,
                       flags: tuple[str, ...]) -> tuple[float, float, dict | None]:
    """(MB/s, server CPU s per GB, the server's samples if metered) of one full upload
    to a fresh server."""
    size = image.stat().st_size
    port = _free_port() if mode != "off" else 0
    extra = [*flags, *MODES[mode], *(["--metrics-listen", f"127.0.0.1:{port}"] if port
                                     else [])]
    server = start_server(data, *extra)
    token = create_account(data, "bench")
    url = f"http://127.0.0.1:{port}/metrics"
    scraper = subprocess.Popen([sys.executable, "-c", SCRAPER, url]) if port else None
    samples = None
    try:
        with ThreadPoolExecutor(4) as executor:
            async with AsyncClient(server.address, token, timeout=120) as client:
                volume, _ = await client.create_volume(size_bytes=-(-size // 512) * 512)
                vid = volume.volume_id
                with Meter(server) as m:
                    await upload_image(client, str(image), volume.size_bytes, MIB,
                                       lambda: volume_target(vid), executor, tuning=tuning)
        if scraper:
            scraper.kill()
            scraper.wait()
            samples = _samples(url) | {"scrape_cpu_s": _scrape_cpu(server, url),
                                       "upload_wall_s": m.wall}
    finally:
        if scraper and scraper.poll() is None:
            scraper.kill()
        server.stop()
    return size / m.wall / 1e6, m.server_cpu / (size / 1e9), samples


def _scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as reply:
        return reply.read().decode()


def _scrape_cpu(server, url: str, n: int = 20) -> float:
    """Server CPU seconds one scrape costs (rendering every series), mean of `n`."""
    before = server.cpu_seconds()
    for _ in range(n):
        _scrape(url)
    return (server.cpu_seconds() - before) / n


def _samples(url: str) -> dict[str, float]:
    return {f"{s.name}{sorted(s.labels.items())}": s.value
            for f in text_string_to_metric_families(_scrape(url)) for s in f.samples}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _report(size: int, runs: dict[str, list[tuple[float, float]]]) -> None:
    print(f"\nmetrics and per-RPC logs, full upload of {size / MIB:.0f} MiB, "
          f"{len(runs['on'])} rounds")
    print(row(["mode", "MB/s of each run", "median", "server cpu s/GB", "median",
               "vs off"], WIDTHS))
    medians = {mode: (statistics.median(r[0] for r in results),
                      statistics.median(r[1] for r in results))
               for mode, results in runs.items()}
    off_mbps, off_cpu = medians["off"]
    for mode, results in runs.items():
        mbps, cpu = medians[mode]
        print(row([mode, " ".join(f"{r[0]:.0f}" for r in results), f"{mbps:.0f}",
                   " ".join(f"{r[1]:.1f}" for r in results), f"{cpu:.1f}",
                   f"{(off_mbps - mbps) / off_mbps:+.1%}" if mode != "off" else ""],
                  WIDTHS))
    print("vs off: throughput lost (median MB/s); goal: under 3% for 'on'; server CPU per "
          "GB: " + ", ".join(f"{m} {(medians[m][1] - off_cpu) / off_cpu:+.1%}"
                             for m in ("metrics", "on")))


async def _taken_apart(size: int, counted: list[dict], server: float) -> None:
    cost = await costs()
    spent = statistics.median(per_gb(s, size, cost) for s in counted)
    scrape = statistics.median(s["scrape_cpu_s"] for s in counted)
    scrapes = statistics.median(s["upload_wall_s"] for s in counted) / (size / 1e9)
    print(f"taken apart: {cost['chunk']:.1f} us per chunk store call, {cost['manifest']:.1f} "
          f"us per manifest transaction, {cost['rpc']:.1f} us per RPC; times the calls "
          f"counted: {spent * 1e3:.1f} ms of CPU per GB, {spent / server:.2%} of the server's "
          f"{server:.1f} s/GB")
    print(f"a scrape costs the server {scrape * 1e3:.1f} ms of CPU: at this bench's one per "
          f"second {scrape * scrapes / server:.2%} of its CPU per GB, at a collector's one "
          f"per 15 s {scrape * scrapes / 15 / server:.2%}")
