"""ListVolumes / ListSnapshots paging: sizes, caps, opaque tokens bound to one listing."""

from __future__ import annotations

import base64

import grpc
import pytest

from blockstore.v1 import control_plane_pb2 as cpb
from tests.control_plane.helpers import initial_snapshot_id, new_snapshot, new_volume
from tests.rpcerrors import expect_error

INVALID = grpc.StatusCode.INVALID_ARGUMENT


async def test_seven_volumes_in_pages_of_three_are_three_pages_without_duplicates(cp):
    created = {(await new_volume(cp)).volume_id for _ in range(7)}
    pages, token = [], ""
    while True:
        page = await cp.ListVolumes(cpb.ListVolumesRequest(page_size=3, page_token=token))
        pages.append([v.volume_id for v in page.volumes])
        token = page.next_page_token
        if not token:
            break
        assert not any(vid in token for vid in created), "page tokens are opaque"
    assert [len(p) for p in pages] == [3, 3, 1], "7 volumes at page_size 3: 3 + 3 + 1"
    listed = [vid for page in pages for vid in page]
    assert len(listed) == len(set(listed)), "no volume appears on two pages"
    assert set(listed) == created, "paging visits every volume"


async def test_snapshot_listing_pages_too(cp):
    volume = await new_volume(cp)
    created = {(await new_snapshot(cp, volume.volume_id)).snapshot_id for _ in range(4)}
    created.add(await initial_snapshot_id(cp, volume.volume_id))
    first = await cp.ListSnapshots(cpb.ListSnapshotsRequest(volume_id=volume.volume_id,
                                                            page_size=2))
    second = await cp.ListSnapshots(cpb.ListSnapshotsRequest(
        volume_id=volume.volume_id, page_size=2, page_token=first.next_page_token))
    third = await cp.ListSnapshots(cpb.ListSnapshotsRequest(
        volume_id=volume.volume_id, page_size=2, page_token=second.next_page_token))
    listed = [s.snapshot_id for p in (first, second, third) for s in p.snapshots]
    assert sorted(listed) == sorted(created) and third.next_page_token == "", \
        "2 + 2 + 1 snapshots, then no next page"


async def test_exact_fit_page_may_end_without_a_next_token(cp):
    for _ in range(3):
        await new_volume(cp)
    page = await cp.ListVolumes(cpb.ListVolumesRequest(page_size=3))
    assert len(page.volumes) == 3 and page.next_page_token == "", \
        "no empty trailing page when the listing fits exactly"


async def test_page_size_above_1000_is_capped_not_rejected(cp):
    await new_volume(cp)
    page = await cp.ListVolumes(cpb.ListVolumesRequest(page_size=5000))
    assert len(page.volumes) == 1, "an oversized page_size is capped at 1000"


async def test_negative_page_size_is_invalid_argument(cp):
    await expect_error(cp.ListVolumes(cpb.ListVolumesRequest(page_size=-1)), INVALID,
                       "INVALID_ARGUMENT", names="-1")
    await expect_error(cp.ListSnapshots(cpb.ListSnapshotsRequest(page_size=-5)), INVALID,
                       "INVALID_ARGUMENT", names="-5")


@pytest.mark.parametrize("token", ["garbage", "!!!", base64.urlsafe_b64encode(b"{}").decode(),
                                   base64.urlsafe_b64encode(b'{"a":1,"s":"x"}').decode()])
async def test_garbage_page_token_is_invalid_argument(cp, token):
    await expect_error(cp.ListVolumes(cpb.ListVolumesRequest(page_token=token)), INVALID,
                       "INVALID_ARGUMENT")
    await expect_error(cp.ListSnapshots(cpb.ListSnapshotsRequest(page_token=token)), INVALID,
                       "INVALID_ARGUMENT")


async def _volume_token(cp) -> str:
    for _ in range(2):
        await new_volume(cp)
    token = (await cp.ListVolumes(cpb.ListVolumesRequest(page_size=1))).next_page_token
    assert token, "two volumes at page_size 1 give a next page"
    return token


async def test_page_token_from_another_listing_is_invalid_argument(cp):
    token = await _volume_token(cp)
    await expect_error(cp.ListSnapshots(cpb.ListSnapshotsRequest(page_token=token)), INVALID,
                       "INVALID_ARGUMENT")
    volume = await new_volume(cp)
    for _ in range(2):
        await new_snapshot(cp, volume.volume_id)
    snap_token = (await cp.ListSnapshots(cpb.ListSnapshotsRequest(
        volume_id=volume.volume_id, page_size=1))).next_page_token
    await expect_error(cp.ListSnapshots(cpb.ListSnapshotsRequest(page_token=snap_token)),
                       INVALID, "INVALID_ARGUMENT")  # same RPC, another volume filter


async def test_page_token_from_another_account_is_invalid_argument(cp, other_cp):
    token = await _volume_token(cp)
    await expect_error(other_cp.ListVolumes(cpb.ListVolumesRequest(page_token=token)), INVALID,
                       "INVALID_ARGUMENT")
