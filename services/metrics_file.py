"""`--metrics-file FILE` of `blockstore gc` and `blockstore verify`: one run's results as
Prometheus text, for node_exporter's textfile collector.

Why a file: a one-shot command is gone before any collector could scrape it, so it
leaves its figures where the host's exporter reads them (the Prometheus convention for
batch jobs). `write_to_textfile` writes a temp file and renames it into place, so the
exporter never reads half a file. Gauges, not counters: each run replaces the last.
"""

from __future__ import annotations

from pathlib import Path

from prometheus_client import CollectorRegistry, Gauge, write_to_textfile

from services.gc import GcReport
from services.verify import VerifyReport

PROBLEM_KINDS = ("corrupt", "missing")


def _gauges(prefix: str, values: dict[str, tuple[str, float]], registry) -> None:
    Gauge(f"{prefix}_last_run_timestamp_seconds", "When the run finished (Unix time).",
          registry=registry).set_to_current_time()
    for name, (text, value) in values.items():
        Gauge(f"{prefix}_{name}", text, registry=registry).set(value)


def write_verify(path: Path, report: VerifyReport) -> None:
    registry = CollectorRegistry()
    _gauges("blockstore_verify", {
        "ok": ("1 if the last run found nothing wrong, else 0.", int(report.ok)),
        "integrity_ok": ("1 if the manifest database passed its integrity check.",
                         int(report.integrity == ["ok"])),
        "chunks_read": ("Chunks read back and checked.", report.chunks_read),
        "referenced_chunks": ("Chunks block rows refer to.", report.referenced_chunks),
    }, registry)
    problems = Gauge("blockstore_verify_problems", "Bad chunks the last run found, by kind.",
                     ("kind",), registry=registry)
    for kind in PROBLEM_KINDS:
        problems.labels(kind).set(sum(p.kind == kind for p in report.problems))
    write_to_textfile(str(path), registry)


def write_gc(path: Path, report: GcReport) -> None:
    registry = CollectorRegistry()
    _gauges("blockstore_gc", {
        "last_chunks_freed": ("Chunks the last run swept.", report.chunks_swept),
        "last_bytes_freed": ("Stored bytes of the chunks the last run swept.",
                             report.bytes_freed),
        "last_rows_compacted": ("Block rows the last run compacted away.",
                                report.rows_compacted),
        "last_temp_files_removed": ("Leftover temp files the last run removed.",
                                    report.temp_files_removed),
        "last_run_seconds": ("How long the last run took.", report.seconds),
    }, registry)
    write_to_textfile(str(path), registry)
