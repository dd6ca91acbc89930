"""EBS direct block operations as aiohttp handlers: PutSnapshotBlock, GetSnapshotBlock,
ListSnapshotBlocks, ListChangedBlocks.

Owns the parsing and conversion of the block operations. Rule: as every handler, parse,
call the domain (ebs_facade/blocks.py, listing.py), convert; errors go to the one EBS
error table (ebs_facade/errors.py).
"""

from __future__ import annotations

from aiohttp import web

from blockstore.errors import InvalidArgument
from ebs_facade.listing import changed_blocks, snapshot_blocks
from ebs_facade.model import BLOCK_SIZE, BlockPage
from ebs_facade.routes import BODY_SHA256, facade_of, int_param

block_routes = web.RouteTableDef()


@block_routes.put("/snapshots/{snapshot_id}/blocks/{index}", name="PutSnapshotBlock")
async def put_snapshot_block(request: web.Request) -> web.Response:
    facade, account = facade_of(request)
    snapshot_id, h = request.match_info["snapshot_id"], request.headers
    index = int_param(request.match_info["index"], "BlockIndex")
    data = await request.read()
    if int_param(h.get("x-amz-Data-Length"), "x-amz-Data-Length") != len(data):
        raise InvalidArgument(f"x-amz-Data-Length of block {index} of snapshot {snapshot_id} "
                              f"is not the {len(data)} bytes sent")
    progress = h.get("x-amz-Progress")
    percent = int_param(progress, "x-amz-Progress") if progress else None
    if percent is not None and percent > 100:
        raise InvalidArgument(f"x-amz-Progress {percent} of snapshot {snapshot_id} is above 100")
    checksum, algorithm = h.get("x-amz-Checksum", ""), h.get("x-amz-Checksum-Algorithm", "")
    await facade.blocks.put(account, snapshot_id, index, data, request[BODY_SHA256],
                            checksum, algorithm)
    if percent is not None:
        await facade.snapshots.report_progress(account, snapshot_id, percent)
    return web.Response(status=201, headers={"x-amz-Checksum": checksum,
                                             "x-amz-Checksum-Algorithm": algorithm})


@block_routes.get("/snapshots/{snapshot_id}/blocks/{index}", name="GetSnapshotBlock")
async def get_snapshot_block(request: web.Request) -> web.Response:
    facade, account = facade_of(request)
    block = await facade.blocks.get(account, request.match_info["snapshot_id"],
                                    int_param(request.match_info["index"], "BlockIndex"),
                                    request.query.get("blockToken", ""))
    return web.Response(body=block.data, content_type="application/octet-stream",
                        headers={"x-amz-Data-Length": str(len(block.data)),
                                 "x-amz-Checksum": block.checksum,
                                 "x-amz-Checksum-Algorithm": "SHA256"})


def _paging(request: web.Request) -> tuple[int, int, str]:
    q = request.query
    return (int_param(q.get("startingBlockIndex"), "startingBlockIndex", 0),
            int_param(q.get("maxResults"), "maxResults", 0), q.get("pageToken", ""))


def _page_json(page: BlockPage, key: str, items: list[dict]) -> web.Response:
    body = {key: items, "VolumeSize": page.volume_size_gib, "BlockSize": BLOCK_SIZE}
    if page.next_token:
        body["NextToken"] = page.next_token
    return web.json_response(body)


@block_routes.get("/snapshots/{snapshot_id}/blocks", name="ListSnapshotBlocks")
async def list_snapshot_blocks(request: web.Request) -> web.Response:
    facade, account = facade_of(request)
    page = await snapshot_blocks(facade.store, account, request.match_info["snapshot_id"],
                                 *_paging(request))
    return _page_json(page, "Blocks", [{"BlockIndex": b.index, "BlockToken": b.token}
                                       for b in page.blocks])


@block_routes.get("/snapshots/{snapshot_id}/changedblocks", name="ListChangedBlocks")
async def list_changed_blocks(request: web.Request) -> web.Response:
    facade, account = facade_of(request)
    first = request.query.get("firstSnapshotId", "")
    page = await changed_blocks(facade.store, account, first,
                                request.match_info["snapshot_id"], *_paging(request))
    items = []
    for c in page.blocks:
        item = {"BlockIndex": c.index}
        if c.first is not None:
            item["FirstBlockToken"] = c.first
        if c.second is not None:
            item["SecondBlockToken"] = c.second
        items.append(item)
    return _page_json(page, "ChangedBlocks", items)
