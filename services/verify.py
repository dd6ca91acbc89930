"""Verify and repair: re-read every chunk, check every block row's chunk exists, report
what is wrong with the volumes and snapshots it affects, and make it healable.

- `PRAGMA integrity_check` of the manifest database.
- Every chunk file is read back through `ChunkStore.get`, which decodes it within its
  plain length and compares its BLAKE3 with its name: a mismatch is *corrupt*.
- Every token a block row points at must have a file: else it is *missing*.
- Repair (default on): a corrupt file is moved aside (`quarantine`, never deleted: an
  operator may want it) and the chunk's `chunks`/`account_chunks` rows are dropped, for
  corrupt and missing chunks alike. FindMissingChunks then reports the token missing,
  so the next upload of the same data sends it and the put writes it afresh; because
  chunks are content-addressed, every row that pointed at the token reads again. Until
  then a read of an affected block fails with DATA_LOSS, never returns wrong bytes.
- A row of vid at version v (next row of that chunk at v', or none) affects each reader
  r of vid with v <= r < v': the live volume at its open version (if not deleted) and
  each non-deleted snapshot; and each live clone of an affected snapshot that has no row
  of its own for that chunk (direct clones only; their own snapshots are not named).

Verify takes the same maintenance lease as GC (services/lease.py): otherwise a chunk
that a concurrent sweep legitimately removed could be reported missing.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass, field

from blockstore.errors import ChunkCorrupt, ChunkMissing
from chunkstore import ChunkStore
from manifest import ManifestStore, ManifestTx, TokenUse
from services.gc import batched
from services.lease import maintenance_lease


@dataclass(frozen=True)
class VerifyConfig:
    repair: bool = True
    concurrency: int = 8             # chunk reads in flight
    batch: int = 500
    lease_ttl_s: float = 60.0
    lease_wait_s: float = 60.0

    def __post_init__(self) -> None:
        if self.concurrency < 1 or self.batch < 1:
            raise ValueError("verify concurrency and batch must be >= 1")


@dataclass
class ChunkProblem:
    token: str                       # hex
    kind: str                        # "corrupt" | "missing"
    detail: str
    volumes: list[str] = field(default_factory=list)
    snapshots: list[str] = field(default_factory=list)
    quarantined: bool = False


@dataclass
class VerifyReport:
    integrity: list[str] = field(default_factory=list)
    chunks_read: int = 0
    referenced_chunks: int = 0
    problems: list[ChunkProblem] = field(default_factory=list)
    repaired: bool = False

    @property
    def ok(self) -> bool:
        return self.integrity == ["ok"] and not self.problems

    def as_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok}


async def verify_store(store: ManifestStore, chunks: ChunkStore,
                       config: VerifyConfig = VerifyConfig()) -> VerifyReport:
    async with maintenance_lease(store, ttl_s=config.lease_ttl_s,
                                 wait_s=config.lease_wait_s) as lease:
        report = VerifyReport()
        async with store.read() as tx:
            report.integrity = await tx.integrity_check()
        if config.repair:
            # A GC delete that crashed half-way can leave a chunk under a trash name: give
            # it its name back before calling it missing. Removes nothing (no leftover is
            # older than -inf).
            await chunks.sweep_temp_files(older_than=float("-inf"))
        bad = await _read_every_chunk(chunks, config, report)
        bad.update(await _missing_referenced(store, chunks, config.batch, report))
        report.problems = await _describe(store, bad)
        if config.repair and bad:
            lease.check()                # a concurrent sweep could explain what is missing
            await _repair(store, chunks, report.problems)
            report.repaired = True
        return report


async def _read_every_chunk(chunks: ChunkStore, config: VerifyConfig,
                            report: VerifyReport) -> dict[bytes, tuple[str, str]]:
    """token -> ("corrupt", why) for every file whose content fails its BLAKE3."""
    bad: dict[bytes, tuple[str, str]] = {}
    slots = asyncio.Semaphore(config.concurrency)

    async def check(token: bytes) -> None:
        async with slots:
            try:
                await chunks.get(token)
            except ChunkMissing:
                return                   # vanished meanwhile: the row check decides
            except ChunkCorrupt as err:
                bad[token] = ("corrupt", err.message)
        report.chunks_read += 1

    async for batch in batched(chunks.iter_tokens(), config.batch):
        await asyncio.gather(*(check(t) for t in batch))
    return bad


async def _missing_referenced(store: ManifestStore, chunks: ChunkStore, batch: int,
                              report: VerifyReport) -> dict[bytes, tuple[str, str]]:
    bad: dict[bytes, tuple[str, str]] = {}
    after = b""
    while True:
        async with store.read() as tx:
            page = await tx.referenced_tokens_after(after, batch)
        if not page:
            return bad
        after = page[-1]
        report.referenced_chunks += len(page)
        for token in set(page) - await chunks.contains_many(page):
            bad[token] = ("missing", f"chunk {token.hex()} is referenced by block rows "
                                     "but has no file (a read that found it corrupt may "
                                     "have moved it to quarantine)")


async def _describe(store: ManifestStore,
                    bad: dict[bytes, tuple[str, str]]) -> list[ChunkProblem]:
    async with store.read() as tx:
        uses = await tx.token_uses(bad)
        problems = []
        for token in sorted(bad):
            kind, detail = bad[token]
            problem = ChunkProblem(token.hex(), kind, detail)
            for use in (u for u in uses if u.token == token):
                await _affected(tx, use, problem)
            problem.volumes.sort()
            problem.snapshots.sort()
            problems.append(problem)
    return problems


# Clone chains deeper than this are not followed when naming what a bad chunk affects.
MAX_CLONE_DEPTH = 64


async def _affected(tx: ManifestTx, use: TokenUse, problem: ChunkProblem) -> None:
    def sees(version: int) -> bool:
        return use.version <= version and (use.next_version is None
                                           or version < use.next_version)

    volume = await tx.get_volume_by_vid(use.vid)
    if volume and volume.deleted_at is None and sees(volume.open_version):
        _add(problem.volumes, volume.volume_id)
    for snap in await tx.volume_snapshots(use.vid):
        if not sees(snap.version):
            continue
        _add(problem.snapshots, snap.snapshot_id)
        await _through_clones(tx, snap.snapshot_id, use.chunk_index, problem)


async def _through_clones(tx: ManifestTx, snapshot_id: str, index: int,
                          problem: ChunkProblem, depth: int = 0) -> None:
    """Clones (and their snapshots, and clones of those) that read this chunk through
    `snapshot_id` because they have no row of their own for it."""
    if depth > MAX_CLONE_DEPTH:
        return
    for clone in await tx.live_clones(snapshot_id):
        if not await tx.newest_rows(clone.vid, clone.open_version, index, index):
            _add(problem.volumes, clone.volume_id)
        for snap in await tx.volume_snapshots(clone.vid):
            if not await tx.newest_rows(clone.vid, snap.version, index, index):
                _add(problem.snapshots, snap.snapshot_id)
                await _through_clones(tx, snap.snapshot_id, index, problem, depth + 1)


def _add(names: list[str], name: str) -> None:
    if name not in names:
        names.append(name)


async def _repair(store: ManifestStore, chunks: ChunkStore,
                  problems: list[ChunkProblem]) -> None:
    for problem in problems:
        if problem.kind == "corrupt":
            problem.quarantined = await chunks.quarantine(bytes.fromhex(problem.token))
    async with store.write() as tx:
        await tx.delete_chunk_rows(bytes.fromhex(p.token) for p in problems)
