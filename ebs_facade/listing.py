"""ListSnapshotBlocks and ListChangedBlocks over the data plane's listing code.

Indexes are chunk indexes (chunks are EBS's 512 KiB blocks). ListSnapshotBlocks lists
written blocks (a block written as zeros too, with the zero token; holes are absent),
like the gRPC ListBlocks. ListChangedBlocks without FirstSnapshotId lists every written
block of the second snapshot; a token is absent on the side where the block is a hole.
Both read the caller's own snapshots and those shared with it with allow_export; the
views refuse the rest (ExportNotAllowed), as they do for the gRPC listings.
"""

from __future__ import annotations

from data_plane.listing import list_blocks, list_changes
from data_plane.views import snapshot_view
from ebs_facade.model import BLOCK_SIZE, BlockPage, ChangedBlock, ListedBlock, size_gib
from ebs_facade.snapshots import require_ebs_shape
from ebs_facade.tokens import block_token, page_token, parse_page_token
from manifest import ManifestStore
from manifest.lookups import visible_snapshot


def _side(token: bytes | None | bool) -> str | None:
    return None if token is False else block_token(token)


async def _shaped(store: ManifestStore, account_id: str, *snapshot_ids: str) -> list:
    """The caller's own snapshots or ones shared with it (whether they may be read out is
    the data plane's views' check: export control, data_plane/views.py)."""
    async with store.read() as tx:
        return [require_ebs_shape((await visible_snapshot(tx, account_id, sid))[0])
                for sid in snapshot_ids if sid]


async def snapshot_blocks(store: ManifestStore, account_id: str, snapshot_id: str,
                          start_index: int, max_results: int, next_token: str) -> BlockPage:
    snap, = await _shaped(store, account_id, snapshot_id)
    async with store.read() as tx:
        view = await snapshot_view(tx, account_id, snapshot_id)
    entries, token = await list_blocks(store, view, start_index * BLOCK_SIZE, max_results,
                                       parse_page_token(next_token))
    return BlockPage(size_gib(snap.size_bytes),
                     [ListedBlock(e.offset // BLOCK_SIZE, block_token(e.token))
                      for e in entries], page_token(token))


async def changed_blocks(store: ManifestStore, account_id: str, first_id: str,
                         second_id: str, start_index: int, max_results: int,
                         next_token: str) -> BlockPage:
    second = (await _shaped(store, account_id, second_id, first_id))[0]
    changes, token = await list_changes(store, account_id, first_id, second_id, max_results,
                                        parse_page_token(next_token),
                                        start_offset=start_index * BLOCK_SIZE)
    return BlockPage(size_gib(second.size_bytes),
                     [ChangedBlock(c.offset // BLOCK_SIZE, _side(c.base), _side(c.target))
                      for c in changes], page_token(token))
