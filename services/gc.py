"""Garbage collection: compact block rows no reader can see, then sweep chunks no row
references and nobody has seen within the grace period.

Why it is safe while uploads run (invariant 3: no row ever points at a missing chunk)
---------------------------------------------------------------------------------
The classic race: GC marks, an upload finds the chunk already present and skips
writing it, GC sweeps it, the upload commits a row pointing at nothing. It can not
happen here, because the sweep does not trust the mark alone:

1. The cutoff is fixed before anything is marked: `cutoff = start - grace`.
2. A chunk file is deleted only if no block row references it AND its last-seen time
   (file mtime) is still before the cutoff, checked atomically by the chunk store
   (`delete(token, older_than=cutoff)` renames the file aside, checks its mtime, and
   puts it back if a put/touch refreshed it; a put after the rename writes it afresh).
3. Every upload refreshes the mtime of each chunk it relies on: `put` of new or
   duplicate data refreshes it (dedup hit), a reference `touch`es it, and a stream that
   held a chunk longer than `retouch_after_s` touches it again just before it commits.
   So when a row for chunk X commits at time C, X was seen at or after
   C - retouch_after_s - (wait for the write lock). A GC that could delete X did not
   see that row, so it marked before C, so it started before C: its cutoff is
   start - grace < C - grace. With grace > retouch_after_s + the longest commit wait,
   X's mtime is newer than the cutoff and step 2 keeps it. Hence
   `retouch_after_s` must be well below the grace (the server derives it as
   min(300 s, grace / 4); defaults: grace 3600 s, retouch 300 s). A `blockstore gc`
   run with a short grace next to data planes with a long retouch interval is unsafe;
   the CLI warns.
4. The manifest rows of a chunk (`chunks`, `account_chunks`) go BEFORE its file, in a
   write transaction that re-checks that no block row references it. After that
   transaction no one can add a row for X without putting X's data again:
   UploadBlocks references and UPLOAD-snapshot `chunk_tokens` are checked against
   `account_chunks` inside their own commit transaction, and CreateSnapshot never
   touches the chunk file, so dropping rows after the file would leave a window in
   which a snapshot could commit a row to a just-deleted chunk. An upload that sends
   X's data re-adds the rows when it commits (and its put made X fresh). If the file
   turns out fresh (someone put or touched it meanwhile) GC puts the rows back.
5. Temp and trash files (`.tmp-*`, `.trash-*`) older than the cutoff are leftovers of
   crashed puts and deletes (a live put holds its temp file for milliseconds).

Compaction (before marking, one short write transaction per volume, so uploads that
queue behind it wait milliseconds, not the whole table's worth): a block row is kept only if some
reader can see it: the live volume at its open version (unless deleted), each
non-deleted snapshot (pending ones too) at its version, and through clones each source
snapshot of a vid that has a reader. See `SqliteTx.compact_blocks`. New readers can only
appear at a volume's open version (already a reader) or as clones of a live snapshot
(already a reader), so a row compacted away is never needed again.

Crashes: each run takes its cutoff and marks afresh, so a run killed half-way leaves
at worst rows-without-file-gone (harmless, the next run drops the file) or, if an
operator deleted files by hand, rows of vanished chunks, which the next run forgets.
Only one run at a time across processes: `services.lease`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import asdict, dataclass
from typing import AsyncIterator, Callable

from blockstore.errors import ChunkCorrupt
from chunkstore import ChunkStore
from manifest import ManifestStore
from services.lease import Lease, LeaseBusy, maintenance_lease

log = logging.getLogger("blockstore.gc")
DEFAULT_GRACE_S = 3600.0
DEFAULT_RETOUCH_S = 300.0


@dataclass(frozen=True)
class GcConfig:
    grace_s: float = DEFAULT_GRACE_S
    batch: int = 500                 # tokens per mark query / sweep transaction
    lease_ttl_s: float = 60.0
    lease_wait_s: float = 0.0        # how long to wait for another run to finish

    def __post_init__(self) -> None:
        if self.grace_s < 0:
            raise ValueError(f"GC grace period must be >= 0 seconds, got {self.grace_s}")
        if self.batch < 1 or self.lease_ttl_s <= 0 or self.lease_wait_s < 0:
            raise ValueError("GC batch must be >= 1, lease ttl > 0, lease wait >= 0")


def retouch_after_for(grace_s: float, default: float = DEFAULT_RETOUCH_S) -> float:
    """The data plane's re-touch interval that a grace period needs (see point 3)."""
    return min(default, grace_s / 4)


@dataclass
class GcReport:
    rows_compacted: int = 0
    chunks_swept: int = 0
    bytes_freed: int = 0             # stored (payload) bytes of the swept chunks
    chunks_kept_fresh: int = 0       # unreferenced, but seen within the grace period
    chunk_rows_forgotten: int = 0    # rows of chunks whose file was already gone
    temp_files_removed: int = 0
    temp_bytes_removed: int = 0
    cutoff: float = 0.0
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


async def collect_garbage(store: ManifestStore, chunks: ChunkStore, config: GcConfig,
                          now: Callable[[], float] = time.time) -> GcReport:
    """One full run under the maintenance lease; raises LeaseBusy if another holds it."""
    async with maintenance_lease(store, ttl_s=config.lease_ttl_s,
                                 wait_s=config.lease_wait_s) as lease:
        started = now()
        report = GcReport(cutoff=started - config.grace_s)
        report.rows_compacted = await _compact(store, lease)
        async for batch in batched(chunks.iter_tokens(), config.batch):
            lease.check()
            await _sweep(store, chunks, batch, report)
        await _forget_vanished(store, chunks, config.batch, lease, report)
        report.temp_files_removed, report.temp_bytes_removed = \
            await chunks.sweep_temp_files(report.cutoff)
        report.seconds = now() - started
        return report


async def batched(tokens: AsyncIterator[bytes], size: int) -> AsyncIterator[list[bytes]]:
    batch: list[bytes] = []
    async for token in tokens:
        batch.append(token)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


async def _old_unreferenced(store: ManifestStore, chunks: ChunkStore, batch: list[bytes],
                            cutoff: float) -> tuple[dict[bytes, int], int]:
    """Candidates of one batch -> stored size (no row as of now, not seen lately), and
    how many unreferenced chunks were seen lately."""
    async with store.read() as tx:
        referenced = await tx.referenced_tokens(batch)
    old: dict[bytes, int] = {}
    fresh = 0
    for token in batch:
        if token in referenced:
            continue
        try:
            info = await chunks.stat(token)
        except ChunkCorrupt:
            old[token] = 0               # unreadable header: delete_if_older still decides
            continue
        if info is not None and info.mtime < cutoff:
            old[token] = info.stored_length
        elif info is not None:
            fresh += 1
    return old, fresh


async def _compact(store, lease) -> int:
    async with store.read() as tx:
        vids = await tx.block_vids()
    removed = 0
    for vid in vids:
        lease.check()
        async with store.write() as tx:
            removed += await tx.compact_blocks(vid)
    return removed


async def _sweep(store: ManifestStore, chunks: ChunkStore, batch: list[bytes],
                 report: GcReport) -> None:
    old, fresh = await _old_unreferenced(store, chunks, batch, report.cutoff)
    report.chunks_kept_fresh += fresh
    if not old:
        return
    async with store.write() as tx:              # point 4: rows go first, re-checked
        doomed = set(old) - await tx.referenced_tokens(old)
        saved = await tx.chunk_records(doomed)
        await tx.delete_chunk_rows(doomed)
    kept = set()
    for token in doomed:
        if await chunks.delete(token, older_than=report.cutoff):
            report.chunks_swept += 1
            report.bytes_freed += old[token]
        else:
            kept.add(token)
    report.chunks_kept_fresh += len(kept)
    present = await chunks.contains_many(sorted(kept)) if kept else set()
    if present:
        async with store.write() as tx:
            await tx.restore_chunk_rows(r for r in saved if r.token in present)


async def _forget_vanished(store: ManifestStore, chunks: ChunkStore, batch: int,
                           lease: Lease, report: GcReport) -> None:
    """Drop rows of unreferenced chunks whose file is gone (a crash, an operator)."""
    after = b""
    while True:
        lease.check()
        async with store.read() as tx:
            page = await tx.chunk_tokens_after(after, batch)
        if not page:
            return
        after = page[-1]
        gone = set(page) - await chunks.contains_many(page)
        if not gone:
            continue
        async with store.write() as tx:
            gone -= await tx.referenced_tokens(gone)
            gone -= await chunks.contains_many(sorted(gone))
            await tx.delete_chunk_rows(gone)
        report.chunk_rows_forgotten += len(gone)


async def run_periodically(store: ManifestStore, chunks: ChunkStore, config: GcConfig,
                           interval_s: float) -> None:
    """The server's GC task: a run every `interval_s`; cancelled on shutdown."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            report = await collect_garbage(store, chunks, config)
        except LeaseBusy:
            log.debug("gc skipped: another run holds the lease")
            continue
        except Exception:
            log.exception("gc run failed; retrying in %.1fs", interval_s)
            continue
        if report.rows_compacted or report.chunks_swept or report.temp_files_removed:
            log.info("gc: %d rows compacted, %d chunks swept (%d bytes), %d temp files",
                     report.rows_compacted, report.chunks_swept, report.bytes_freed,
                     report.temp_files_removed)
