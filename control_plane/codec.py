"""JSON form of domain records, for idempotency results.

Owns the encoding of a create's result (`Volume`, `Snapshot`) stored with its
idempotency key. Rule: a record decoded is equal to the one encoded, so a retried create
answers exactly what the first one did.
"""

from __future__ import annotations

import dataclasses
import json

from manifest import Snapshot, SnapshotMode, SnapshotState, Volume


def volume_result_to_json(result: tuple[Volume, str]) -> str:
    volume, initial = result
    return json.dumps({"volume": dataclasses.asdict(volume), "initial_snapshot_id": initial})


def volume_result_from_json(text: str) -> tuple[Volume, str]:
    body = json.loads(text)
    return Volume(**body["volume"]), body["initial_snapshot_id"]


def snapshot_to_json(snapshot: Snapshot) -> str:
    body = dataclasses.asdict(snapshot)
    body["mode"], body["state"] = snapshot.mode.value, snapshot.state.value
    return json.dumps(body)


def snapshot_from_json(text: str) -> Snapshot:
    body = json.loads(text)
    body["mode"] = SnapshotMode(body["mode"])
    body["state"] = SnapshotState(body["state"])
    return Snapshot(**body)
