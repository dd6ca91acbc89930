"""StartSnapshot's Timeout: a snapshot started through EBS direct that nobody puts blocks
to or completes for Timeout minutes is cancelled, as EBS cancels it.

EBS moves such a snapshot to its `error` state; Blockstore has no error state, so it is
deleted as DeleteSnapshot deletes a pending snapshot (its blocks were never part of a
completed snapshot, so nothing acknowledged as backed up is lost, and later snapshots of
its volume are no longer held behind it in completion order). Rules kept:
- the deadline starts at StartSnapshot (same transaction) and each group of puts moves
  it to its time + Timeout, in the write transaction that records the group's operation;
- a CompleteSnapshot that was accepted (progress 1.0) ends the timeout, even if the
  snapshot waits behind an earlier one of its volume;
- a put or CompleteSnapshot after the deadline cancels the snapshot itself and fails as
  for a deleted snapshot; `sweep` cancels the rest (the server runs it every SWEEP_S),
  so an abandoned upload does not stay pending for ever;
- times come from the control plane's injected clock (tests move it).
"""

from __future__ import annotations

import asyncio
import logging

from blockstore.errors import BlockstoreError, InvalidArgument
from control_plane.snapshots import Snapshots
from ebs_facade.errors import SnapshotTimedOut
from manifest import ManifestStore, ManifestTx

log = logging.getLogger("blockstore.ebs")
MINUTE_US = 60_000_000
DEFAULT_MINUTES, MIN_MINUTES, MAX_MINUTES = 60, 10, 4320     # botocore's `ebs` model
SWEEP_S = 60.0
SWEEP_BATCH = 100


def timeout_minutes(value: object) -> int:
    if value is None:
        return DEFAULT_MINUTES
    if not isinstance(value, int) or not MIN_MINUTES <= value <= MAX_MINUTES:
        raise InvalidArgument(f"Timeout {str(value)[:20]} must be {MIN_MINUTES} to "
                              f"{MAX_MINUTES} minutes")
    return value


class Timeouts:
    def __init__(self, store: ManifestStore, snapshots: Snapshots) -> None:
        self.store, self.snapshots = store, snapshots
        self.clock = snapshots.config.clock

    @staticmethod
    async def start_in(tx: ManifestTx, account_id: str, snapshot_id: str, minutes: int,
                       now_us: int) -> None:
        timeout = minutes * MINUTE_US
        await tx.put_ebs_timeout(snapshot_id, account_id, timeout, now_us + timeout)

    async def touch_in(self, tx: ManifestTx, snapshot_id: str) -> None:
        """A put: raises SnapshotTimedOut if the deadline passed, else moves it."""
        now = self.clock.now_us()
        deadline = await tx.ebs_deadline(snapshot_id)
        if deadline is not None and deadline < now:
            raise SnapshotTimedOut(f"snapshot {snapshot_id} was cancelled: nothing was put "
                                   "to it within its Timeout")
        if deadline is not None:
            await tx.extend_ebs_deadline(snapshot_id, now)

    async def check(self, account_id: str, snapshot_id: str) -> None:
        """Before completing: past the deadline, cancel now and fail."""
        async with self.store.read() as tx:
            deadline = await tx.ebs_deadline(snapshot_id)
        if deadline is not None and deadline < self.clock.now_us():
            await self.cancel(account_id, snapshot_id)
            raise SnapshotTimedOut(f"snapshot {snapshot_id} was cancelled: it was not "
                                   "completed within its Timeout")

    async def cancel(self, account_id: str, snapshot_id: str) -> None:
        """Delete the snapshot if it is still pending and not yet completed by its
        client; either way its timeout ends."""
        async with self.store.read() as tx:
            snap = await tx.get_snapshot(account_id, snapshot_id)
        if snap is not None and not snap.completed and snap.progress < 1.0:
            await self.snapshots.delete(account_id, snapshot_id, allow_missing=True)
            log.info("snapshot %s cancelled: its EBS Timeout passed", snapshot_id)
        async with self.store.write() as tx:
            await tx.drop_ebs_timeout(snapshot_id)

    async def sweep(self) -> int:
        """Cancel every snapshot whose deadline passed; returns how many rows it ended."""
        async with self.store.read() as tx:
            expired = await tx.expired_ebs_timeouts(self.clock.now_us(), SWEEP_BATCH)
        for account_id, snapshot_id in expired:
            try:
                await self.cancel(account_id, snapshot_id)
            except BlockstoreError as exc:       # e.g. a clone reads through it: keep it
                log.warning("snapshot %s outlived its EBS Timeout but stays: %s",
                            snapshot_id, exc.message)
                async with self.store.write() as tx:
                    await tx.drop_ebs_timeout(snapshot_id)
        return len(expired)

    async def run(self) -> None:
        """Sweep every SWEEP_S until cancelled (the EBS server's lifetime)."""
        while True:
            await asyncio.sleep(SWEEP_S)
            try:
                while await self.sweep() == SWEEP_BATCH:
                    pass
            except Exception:
                log.warning("sweeping EBS timeouts failed; next try in %.0f s", SWEEP_S,
                            exc_info=True)
