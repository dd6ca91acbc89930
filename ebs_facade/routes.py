"""EBS direct snapshot operations as aiohttp handlers (StartSnapshot, CompleteSnapshot),
and what every handler shares: parse, call the domain, convert.

Shapes follow botocore's `ebs` service model (2019-11-02, rest-json): ids in the path,
scalars in `x-amz-*` headers or the query, StartSnapshot's input and every listing's
output as JSON, block data as the raw body. The caller's account id is put on the
request by the SigV4 middleware (ebs_facade/server.py). Block operations:
ebs_facade/routes_blocks.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from blockstore.errors import InvalidArgument
from ebs_facade.blocks import EbsBlocks
from ebs_facade.model import BLOCK_SIZE, size_gib
from ebs_facade.snapshots import EbsSnapshots
from ebs_facade.timeouts import Timeouts, timeout_minutes
from manifest import ManifestStore, Snapshot

routes = web.RouteTableDef()


@dataclass(frozen=True)
class Facade:
    store: ManifestStore
    snapshots: EbsSnapshots
    blocks: EbsBlocks
    timeouts: Timeouts


FACADE = web.AppKey("facade", Facade)
ACCOUNT = web.RequestKey("account_id", str)          # set by the SigV4 edge
BODY_SHA256 = web.RequestKey("body_sha256", bytes)   # set by the edge, hashed once


def int_param(text: str | None, name: str, default: int | None = None) -> int:
    if text is None or text == "":
        if default is None:
            raise InvalidArgument(f"{name} is required")
        return default
    if not text.isdigit():
        raise InvalidArgument(f"{name} {text[:40]!r} is not a non-negative integer")
    return int(text)


def facade_of(request: web.Request) -> tuple[Facade, str]:
    return request.app[FACADE], request[ACCOUNT]


def _snapshot_json(snap: Snapshot, parent: str, tags: dict[str, str]) -> dict:
    return {"SnapshotId": snap.snapshot_id, "OwnerId": snap.account_id,
            "Status": "completed" if snap.completed else "pending",
            "StartTime": snap.created_at / 1e6, "VolumeSize": size_gib(snap.size_bytes),
            "BlockSize": BLOCK_SIZE, "Description": snap.description,
            "Tags": [{"Key": k, "Value": v} for k, v in tags.items()],
            "SseType": "none", **({"ParentSnapshotId": parent} if parent else {})}


def _tags(body: dict) -> dict[str, str]:
    tags = body.get("Tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, dict) for t in tags):
        raise InvalidArgument("Tags must be a list of {Key, Value}")
    return {str(t.get("Key", "")): str(t.get("Value", "")) for t in tags}


@routes.post("/snapshots", name="StartSnapshot")
async def start_snapshot(request: web.Request) -> web.Response:
    facade, account = facade_of(request)
    try:
        body = await request.json()
    except ValueError:
        raise InvalidArgument("the StartSnapshot body is not JSON") from None
    if not isinstance(body, dict):
        raise InvalidArgument("the StartSnapshot body must be a JSON object")
    if body.get("Encrypted") or body.get("KmsKeyArn"):
        raise InvalidArgument("Encrypted / KmsKeyArn: this server does not encrypt snapshots")
    size = body.get("VolumeSize")
    if not isinstance(size, int) or size < 1:
        raise InvalidArgument(f"VolumeSize {str(size)[:20]} must be a positive number of GiB")
    tags, timeout = _tags(body), timeout_minutes(body.get("Timeout"))
    snap = await facade.snapshots.start(account, size, str(body.get("ParentSnapshotId") or ""),
                                        str(body.get("Description") or ""), tags,
                                        str(body.get("ClientToken") or ""), timeout)
    return web.json_response(_snapshot_json(snap, snap.parent_snapshot_id, snap.labels),
                             status=201)


@routes.post("/snapshots/completion/{snapshot_id}", name="CompleteSnapshot")
async def complete_snapshot(request: web.Request) -> web.Response:
    facade, account = facade_of(request)
    h = request.headers
    aggregate = h.get("x-amz-Checksum", "")
    if aggregate and (h.get("x-amz-Checksum-Algorithm", "SHA256") != "SHA256" or
                      h.get("x-amz-Checksum-Aggregation-Method", "LINEAR") != "LINEAR"):
        raise InvalidArgument("aggregate checksums are SHA256 with the LINEAR method only")
    snap = await facade.snapshots.complete(
        account, request.match_info["snapshot_id"],
        int_param(h.get("x-amz-ChangedBlocksCount"), "x-amz-ChangedBlocksCount"), aggregate)
    return web.json_response({"Status": "completed" if snap.completed else "pending"},
                             status=202)
