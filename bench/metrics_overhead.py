"""What metrics and per-RPC logs cost on upload throughput, same run, alternating order.

    .venv/bin/python bench/dataplane.py --size 256M --metrics-overhead 4

Each round uploads the image in full to a fresh `blockstore serve` twice: once with
neither (no `--metrics-listen`, `--log-level WARNING`) and once with both
(`--metrics-listen`, `--log-level INFO`: every finished RPC logs its line), scraped every
second meanwhile (a collector scrapes every 15-60 s; once a second overstates it). The
order alternates between rounds so a drift of the loaded machine hits both alike. Prints
MB/s and server CPU seconds per GB for each run, medians, and the overhead of "on" in %.

On a shared machine those differences are mostly noise, so it also prints the cost taken
apart (bench/metrics_micro.py): microseconds per metered call, times the calls the "on"
servers counted per GB, against their CPU seconds per GB.
"""

from __future__ import annotations

import socket
import statistics
import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from bench.common import Meter, create_account, row, start_server
from bench.metrics_micro import costs, per_gb
from clients import AsyncClient, volume_target
from clients.transfer import Tuning, upload_image

MIB = 1 << 20
MODES = {"off": ("--log-level", "WARNING"), "on": ("--log-level", "INFO")}
WIDTHS = [6, 34, 9, 18, 9]


async def compare(image: Path, work: Path, rounds: int, tuning: Tuning,
                  *flags: str) -> None:
    runs: dict[str, list[tuple[float, float]]] = {"off": [], "on": []}
    counted = []
    for r in range(rounds):
        for mode in ("off", "on") if r % 2 == 0 else ("on", "off"):
            mbps, cpu, samples = await _upload_once(image, work / f"{mode}-{r}", mode,
                                                    tuning, flags)
            runs[mode].append((mbps, cpu))
            if samples:
                counted.append(samples)
    size = image.stat().st_size
    _report(size, runs)
    cost = await costs()
    spent = statistics.median(per_gb(s, size, cost) for s in counted)
    scrape = statistics.median(s["scrape_cpu_s"] for s in counted)
    scrapes = statistics.median(s["upload_wall_s"] for s in counted) / (size / 1e9)
    server = statistics.median(cpu for _, cpu in runs["on"])
    print(f"taken apart: {cost['chunk']:.1f} us per chunk store call, {cost['manifest']:.1f} "
          f"us per manifest transaction, {cost['rpc']:.1f} us per RPC; times the calls "
          f"counted: {spent * 1e3:.1f} ms of CPU per GB, {spent / server:.2%} of the server's "
          f"{server:.1f} s/GB")
    print(f"a scrape costs the server {scrape * 1e3:.1f} ms of CPU: at this bench's one per "
          f"second {scrape * scrapes / server:.2%} of its CPU per GB, at a collector's one "
          f"per 15 s {scrape * scrapes / 15 / server:.2%}")


async def _upload_once(image: Path, data: Path, mode: str, tuning: Tuning,
                       flags: tuple[str, ...]) -> tuple[float, float, dict | None]:
    """(MB/s, server CPU s per GB, the server's samples if "on") of one full upload to
    a fresh server."""
    size = image.stat().st_size
    extra = [*flags, *MODES[mode]]
    port = _free_port() if mode == "on" else 0
    if port:
        extra += ["--metrics-listen", f"127.0.0.1:{port}"]
    server = start_server(data, *extra)
    token = create_account(data, "bench")
    stop, scraper = threading.Event(), None
    if port:
        scraper = threading.Thread(target=_scrape_every_second, args=(port, stop), daemon=True)
        scraper.start()
    try:
        with ThreadPoolExecutor(4) as executor:
            async with AsyncClient(server.address, token, timeout=120) as client:
                volume, _ = await client.create_volume(size_bytes=-(-size // 512) * 512)
                vid = volume.volume_id
                with Meter(server) as m:
                    await upload_image(client, str(image), volume.size_bytes, MIB,
                                       lambda: volume_target(vid), executor, tuning=tuning)
        stop.set()
        samples = _samples(port) if port else None
        if samples is not None:
            samples["scrape_cpu_s"] = _scrape_cpu(server, port)
            samples["upload_wall_s"] = m.wall
    finally:
        stop.set()
        if scraper:
            scraper.join()
        server.stop()
    return size / m.wall / 1e6, m.server_cpu / (size / 1e9), samples


def _scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        return r.read().decode()


def _scrape_cpu(server, port: int, n: int = 20) -> float:
    """Server CPU seconds one scrape costs (rendering every series), mean of `n`."""
    before = server.cpu_seconds()
    for _ in range(n):
        _scrape(port)
    return (server.cpu_seconds() - before) / n


def _samples(port: int) -> dict[str, float]:
    return {f"{s.name}{sorted(s.labels.items())}": s.value
            for f in text_string_to_metric_families(_scrape(port)) for s in f.samples}


def _scrape_every_second(port: int, stop: threading.Event) -> None:
    while not stop.wait(1.0):
        _scrape(port)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _report(size: int, runs: dict[str, list[tuple[float, float]]]) -> None:
    print(f"\nmetrics + per-RPC logs, full upload of {size / MIB:.0f} MiB, "
          f"{len(runs['on'])} rounds")
    print(row(["mode", "MB/s of each run", "median", "server cpu s/GB", "median"], WIDTHS))
    medians = {}
    for mode, results in runs.items():
        mbps, cpu = [r[0] for r in results], [r[1] for r in results]
        medians[mode] = statistics.median(mbps), statistics.median(cpu)
        print(row([mode, " ".join(f"{x:.0f}" for x in mbps), f"{medians[mode][0]:.0f}",
                   " ".join(f"{x:.1f}" for x in cpu), f"{medians[mode][1]:.1f}"], WIDTHS))
    (off_mbps, off_cpu), (on_mbps, on_cpu) = medians["off"], medians["on"]
    print(f"overhead of on: throughput {(off_mbps - on_mbps) / off_mbps:+.1%} (median MB/s), "
          f"server CPU {(on_cpu - off_cpu) / off_cpu:+.1%} (median s/GB); goal: under 3%")
