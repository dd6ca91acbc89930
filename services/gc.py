"""Garbage collection: compact block rows no reader can see, then sweep chunks no row
references and nobody has seen within the grace period.

Why it is safe while uploads and downloads run (invariant 3, and readers)
-----------------------------------------------------------------------
The classic races: GC marks, an upload finds the chunk already present and skips
writing it, GC sweeps it, the upload commits a row pointing at nothing; or a download
resolves a row, an overwrite replaces it, GC sweeps the old chunk, the download reads
nothing. Neither can happen, because the sweep does not trust the mark alone. Like
Proxmox Backup Server, which sweeps only what is older than the oldest active writer
or reader, every stream that relies on chunks is recorded in the manifest while it
runs (`active_operations`, data_plane/operations.py), and:

1. The cutoff is fixed before anything is marked, in the transaction that reads the
   record (and purges rows of operations whose process is gone or expired):
   `cutoff = min(start - grace, oldest active operation's start) - clock_slack`.
2. A chunk file is deleted only if no block row references it, its last-seen time
   (file mtime) is before the cutoff, and no overwrite released it at or after
   `min(start, oldest operation's start) - clock_slack` (table `chunk_releases`,
   filled by a trigger on every in-place overwrite of a row). The mtime is checked
   atomically by the chunk store (`delete(token, older_than=cutoff)` renames the file
   aside, checks its mtime, and puts it back if a put/touch refreshed it; a put after
   the rename writes it afresh).
3. Uploads: a stream is recorded before its first block and every chunk it relies on
   is put (new or dedup: the mtime is refreshed) or touched (a reference) after that.
   If GC read the record while the stream ran, its cutoff is at most the stream's
   start, older than those mtimes; if the stream was recorded after GC read it, its
   touches are later than GC's start, so later than the cutoff. Either way step 2
   keeps every such chunk until the stream ends, whatever the grace period.
4. Downloads: a reader is recorded (with the volume and version it reads) in the
   write transaction that resolves its view. Compaction keeps every row an active
   operation can see, so the rows it reads stay. A row it read that an overwrite
   then replaced was released after the reader was recorded (write transactions are
   serialized), so step 2 keeps the chunk while the reader runs.
5. A record that GC purged (expired: its process stopped renewing it) no longer
   protects anything, so the stream checks it: an upload in its commit transaction,
   a download before each page of rows, and both fail with the retryable ABORTED
   `CHUNK_COLLECTED` instead of committing or reading something GC may have taken.
6. The manifest rows of a chunk (`chunks`, `account_chunks`) go BEFORE its file, in a
   write transaction that re-checks that no block row references it and that it was
   not released since. After that transaction no one can add a row for X without
   putting X's data again: UploadBlocks references and UPLOAD-snapshot
   `chunk_tokens` are checked against `account_chunks` inside their own commit
   transaction, and CreateSnapshot never touches the chunk file, so dropping rows
   after the file would leave a window in which a snapshot could commit a row to a
   just-deleted chunk. An upload that sends X's data re-adds the rows when it commits
   (and its put made X fresh). If the file turns out fresh, GC puts the rows back.
7. Temp and trash files (`.tmp-*`, `.trash-*`) older than the cutoff are leftovers of
   crashed puts and deletes (a live put holds its temp file for milliseconds). They go
   first in a run, and a chunk found only under a trash name (a delete that crashed
   between renaming it aside and linking it back) gets its name back instead: the
   delete may have been putting back a chunk a concurrent upload relied on.

So no grace period, 0 included, can lose acknowledged data: the grace only decides how
long unreferenced chunks nobody uses are kept (for dedup by later uploads). The one
assumption is about clocks: the hosts that record operations, the database that
records releases and the file system that keeps mtimes agree within `clock_slack_s`
(0.1 s; on one host they share a clock and differ by the file system's timestamp
granularity, a few milliseconds).

Compaction (before marking, in short write transactions of `compact_rows` rows, paced
so that uploads queued behind it wait milliseconds, not a volume's worth): a block row
is kept only if some reader can see it: the live volume at its open version (unless
deleted), each non-deleted snapshot (pending ones too) at its version, each active
operation's view, and through clones each source snapshot of a vid that has a reader.
See `compact_block_range`. New readers can only appear at a volume's open version
(already a reader) or as clones of a live snapshot (already a reader), so a row
compacted away is never needed again. At the end of a run the manifest's free pages go
back to the file system (`release_space`, bounded and paced too), so the file shrinks
after deletes.

Crashes: each run reads the record, takes its cutoff and marks afresh, so a run killed half-way leaves
at worst rows-without-file-gone (harmless, the next run drops the file) or, if an
operator deleted files by hand, rows of vanished chunks, which the next run forgets.
Only one run at a time across processes: `services.lease`; the run checks its lease
before each destructive step.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import asdict, dataclass
from typing import AsyncIterator, Callable

from blockstore.errors import ChunkCorrupt
from blockstore.holder import holder_is_dead
from chunkstore import ChunkStore
from manifest import ManifestStore
from services.lease import Lease, LeaseBusy, maintenance_lease

log = logging.getLogger("blockstore.gc")
DEFAULT_GRACE_S = 3600.0


@dataclass(frozen=True)
class GcConfig:
    grace_s: float = DEFAULT_GRACE_S
    batch: int = 500                 # tokens per mark query / sweep transaction
    compact_rows: int = 1000         # block rows per compaction write transaction
    release_pages: int = 2048        # manifest pages given back per write transaction
    lease_ttl_s: float = 60.0
    lease_wait_s: float = 0.0        # how long to wait for another run to finish
    clock_slack_s: float = 0.1       # how far the clocks of operations, releases, mtimes differ

    def __post_init__(self) -> None:
        if self.grace_s < 0:
            raise ValueError(f"GC grace period must be >= 0 seconds, got {self.grace_s}")
        if self.clock_slack_s < 0:
            raise ValueError(f"GC clock slack must be >= 0 seconds, got {self.clock_slack_s}")
        if self.compact_rows < 1 or self.release_pages < 1:
            raise ValueError("GC compact_rows and release_pages must be >= 1")
        if self.batch < 1 or self.lease_ttl_s <= 0 or self.lease_wait_s < 0:
            raise ValueError("GC batch must be >= 1, lease ttl > 0, lease wait >= 0")


@dataclass
class GcReport:
    rows_compacted: int = 0
    chunks_swept: int = 0
    bytes_freed: int = 0             # stored (payload) bytes of the swept chunks
    chunks_kept_fresh: int = 0       # unreferenced, but seen within the grace period
    chunk_rows_forgotten: int = 0    # rows of chunks whose file was already gone
    manifest_pages_released: int = 0  # free manifest pages returned to the file system
    temp_files_removed: int = 0
    temp_bytes_removed: int = 0
    active_operations: int = 0       # streams recorded when the run started
    cutoff: float = 0.0              # unreferenced chunks last seen before this may go
    released_cutoff: float = 0.0     # ... if no overwrite released them since this
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


async def collect_garbage(store: ManifestStore, chunks: ChunkStore, config: GcConfig,
                          now: Callable[[], float] = time.time) -> GcReport:
    """One full run under the maintenance lease; raises LeaseBusy if another holds it."""
    async with maintenance_lease(store, ttl_s=config.lease_ttl_s,
                                 wait_s=config.lease_wait_s) as lease:
        started = now()
        oldest, active = await _oldest_operation(store, now)
        held_from = min(started, oldest)
        report = GcReport(active_operations=active,
                          cutoff=min(started - config.grace_s, held_from) - config.clock_slack_s,
                          released_cutoff=held_from - config.clock_slack_s)
        # First: crash leftovers, so a chunk a crashed run left under a trash name has
        # its name back before anything is marked (point 7).
        lease.check()
        report.temp_files_removed, report.temp_bytes_removed = \
            await chunks.sweep_temp_files(report.cutoff)
        report.rows_compacted = await _compact(store, lease, config.compact_rows)
        async for batch in batched(chunks.iter_tokens(), config.batch):
            lease.check()
            await _sweep(store, chunks, batch, lease, report)
        await _forget_vanished(store, chunks, config.batch, lease, report)
        lease.check()
        async with store.write() as tx:          # releases older than any reader: moot
            await tx.prune_releases(report.released_cutoff)
        report.manifest_pages_released = await _release_space(store, lease,
                                                               config.release_pages)
        report.seconds = now() - started
        return report


async def _oldest_operation(store: ManifestStore,
                            now: Callable[[], float]) -> tuple[float, int]:
    """Start of the oldest active operation (inf if none) and how many run; first drops
    the records of operations whose process stopped renewing them or is gone."""
    async with store.write() as tx:
        ops = await tx.active_operations()
        gone = {o.op_id for o in ops if o.expires_at < now() or holder_is_dead(o.holder)}
        await tx.end_operations(gone)
    live = [o.started_at for o in ops if o.op_id not in gone]
    return min(live, default=float("inf")), len(live)


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
                            report: GcReport) -> tuple[dict[bytes, int], int]:
    """Candidates of one batch -> stored size (no row as of now, not seen lately, not
    released lately), and how many unreferenced chunks were seen or released lately."""
    async with store.read() as tx:
        referenced = await tx.referenced_tokens(batch)
        released = await tx.released_since(batch, report.released_cutoff)
    old: dict[bytes, int] = {}
    fresh = 0
    for token in batch:
        if token in referenced:
            continue
        if token in released:
            fresh += 1
            continue
        try:
            info = await chunks.stat(token)
        except ChunkCorrupt:
            old[token] = 0               # unreadable header: delete_if_older still decides
            continue
        if info is not None and info.mtime < report.cutoff:
            old[token] = info.stored_length
        elif info is not None:
            fresh += 1
    return old, fresh


async def _compact(store: ManifestStore, lease: Lease, rows: int) -> int:
    """Compact every volume in write transactions of about `rows` rows each.

    After each batch GC pauses as long as the batch held the write lock, so writers
    in this process (queued on its lock) and in others (polling SQLite's busy handler,
    which an immediate re-lock could starve) get at least half of the time.
    """
    async with store.read() as tx:
        vids = await tx.block_vids()
    removed = 0
    for vid in vids:
        first: int | None = 0
        while first is not None:
            lease.check()
            started = time.monotonic()
            async with store.write() as tx:
                n, first = await tx.compact_block_range(vid, first, rows)
            removed += n
            await asyncio.sleep(time.monotonic() - started)
    return removed


async def _release_space(store: ManifestStore, lease: Lease, pages: int) -> int:
    """Give the manifest's free pages back to the file system, `pages` per transaction,
    paced like compaction."""
    released = 0
    while True:
        lease.check()
        started = time.monotonic()
        n = await store.release_space(pages)
        if not n:
            return released
        released += n
        await asyncio.sleep(time.monotonic() - started)


async def _sweep(store: ManifestStore, chunks: ChunkStore, batch: list[bytes], lease: Lease,
                 report: GcReport) -> None:
    old, fresh = await _old_unreferenced(store, chunks, batch, report)
    report.chunks_kept_fresh += fresh
    if not old:
        return
    lease.check()
    async with store.write() as tx:              # point 6: rows go first, re-checked
        doomed = set(old) - await tx.referenced_tokens(old)
        doomed -= await tx.released_since(doomed, report.released_cutoff)
        saved = await tx.chunk_records(doomed)
        await tx.delete_chunk_rows(doomed)
    kept = set(old) - doomed
    for token in doomed:
        if lease.lost:
            kept.add(token)                      # stop destroying; the rows come back below
        elif await chunks.delete(token, older_than=report.cutoff):
            report.chunks_swept += 1
            report.bytes_freed += old[token]
        else:
            kept.add(token)
    report.chunks_kept_fresh += len(kept & doomed)
    present = await chunks.contains_many(sorted(kept & doomed)) if kept & doomed else set()
    if present:
        async with store.write() as tx:
            await tx.restore_chunk_rows(r for r in saved if r.token in present)
    lease.check()


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
                           interval_s: float,
                           observe: Callable[[str, GcReport | None], None] = lambda *_: None,
                           ) -> None:
    """The server's GC task: a run every `interval_s`; cancelled on shutdown.
    `observe(outcome, report)` hears each run: ok (with its report), skipped, failed."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            report = await collect_garbage(store, chunks, config)
        except LeaseBusy:
            observe("skipped", None)
            log.debug("gc skipped: another run holds the lease")
            continue
        except Exception:
            observe("failed", None)
            log.exception("gc run failed; retrying in %.1fs", interval_s)
            continue
        observe("ok", report)
        # Every run, idle ones too: an operator sees that GC runs and what it keeps.
        log.info("gc: %d rows compacted, %d chunks swept (%d bytes freed), %d kept "
                 "(recent or in use), %d rows of vanished chunks forgotten, %d temp files "
                 "removed, %d active operations; %.2fs", report.rows_compacted,
                 report.chunks_swept, report.bytes_freed, report.chunks_kept_fresh,
                 report.chunk_rows_forgotten, report.temp_files_removed,
                 report.active_operations, report.seconds,
                 extra={"fields": report.as_dict()})
