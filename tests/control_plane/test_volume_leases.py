"""Volume writer leases (AcquireVolumeLease / RenewVolumeLease / ReleaseVolumeLease) on an
in-process server whose clock the test moves, so expiry is tested without sleeping."""

from __future__ import annotations

import grpc
import pytest

from blockstore.clock import FakeClock
from blockstore.v1 import control_plane_pb2 as cpb
from tests.control_plane.helpers import new_volume
from tests.control_plane.test_idempotency import _in_process_cp
from tests.rpcerrors import expect_error

FAILED, INVALID, NOT_FOUND = (grpc.StatusCode.FAILED_PRECONDITION,
                              grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND)


def acquire(volume_id: str, holder: str, ttl: int = 10):
    return cpb.AcquireVolumeLeaseRequest(volume_id=volume_id, holder_id=holder, ttl_seconds=ttl)


def renew(volume_id: str, holder: str, ttl: int = 10):
    return cpb.RenewVolumeLeaseRequest(volume_id=volume_id, holder_id=holder, ttl_seconds=ttl)


@pytest.fixture
async def clocked():
    clock = FakeClock()
    async with _in_process_cp(clock, 3600) as (cp, _):
        yield cp, clock


async def test_a_second_holder_is_volume_in_use_until_the_lease_expires(clocked):
    cp, clock = clocked
    vol = (await new_volume(cp)).volume_id
    lease = (await cp.AcquireVolumeLease(acquire(vol, "gw-a"))).lease
    assert lease.holder_id == "gw-a" and lease.expires_at.ToMicroseconds() == clock.t + 10_000_000
    info = await expect_error(cp.AcquireVolumeLease(acquire(vol, "gw-b")), FAILED,
                              "VOLUME_IN_USE", names=vol)
    assert info.metadata["expires_in_s"] == "10"
    clock.advance(9.9)
    await expect_error(cp.AcquireVolumeLease(acquire(vol, "gw-b")), FAILED, "VOLUME_IN_USE")
    clock.advance(0.2)
    assert (await cp.AcquireVolumeLease(acquire(vol, "gw-b"))).lease.holder_id == "gw-b"


async def test_the_same_holder_takes_its_own_lease_back_at_once(clocked):
    cp, clock = clocked
    vol = (await new_volume(cp)).volume_id
    await cp.AcquireVolumeLease(acquire(vol, "gw-a"))
    clock.advance(1)
    again = (await cp.AcquireVolumeLease(acquire(vol, "gw-a", ttl=20))).lease
    assert again.expires_at.ToMicroseconds() == clock.t + 20_000_000


async def test_renew_extends_only_a_lease_the_caller_still_holds(clocked):
    cp, clock = clocked
    vol = (await new_volume(cp)).volume_id
    await cp.AcquireVolumeLease(acquire(vol, "gw-a"))
    clock.advance(5)
    renewed = (await cp.RenewVolumeLease(renew(vol, "gw-a"))).lease
    assert renewed.expires_at.ToMicroseconds() == clock.t + 10_000_000
    clock.advance(11)
    await cp.AcquireVolumeLease(acquire(vol, "gw-b"))      # expired, taken over
    await expect_error(cp.RenewVolumeLease(renew(vol, "gw-a")), FAILED,
                       "VOLUME_LEASE_NOT_HELD", names=vol)


async def test_release_frees_at_once_and_ignores_other_holders(clocked):
    cp, _ = clocked
    vol = (await new_volume(cp)).volume_id
    await cp.AcquireVolumeLease(acquire(vol, "gw-a"))
    await cp.ReleaseVolumeLease(cpb.ReleaseVolumeLeaseRequest(volume_id=vol, holder_id="gw-b"))
    await expect_error(cp.AcquireVolumeLease(acquire(vol, "gw-b")), FAILED, "VOLUME_IN_USE")
    await cp.ReleaseVolumeLease(cpb.ReleaseVolumeLeaseRequest(volume_id=vol, holder_id="gw-a"))
    await cp.ReleaseVolumeLease(cpb.ReleaseVolumeLeaseRequest(volume_id=vol, holder_id="gw-a"))
    assert (await cp.AcquireVolumeLease(acquire(vol, "gw-b"))).lease.holder_id == "gw-b"
    await expect_error(cp.RenewVolumeLease(renew(vol, "gw-a")), FAILED, "VOLUME_LEASE_NOT_HELD")


async def test_bad_holder_ttl_or_volume_are_rejected_naming_the_volume(clocked):
    cp, _ = clocked
    vol = (await new_volume(cp)).volume_id
    for holder in ("", "has space", "x" * 129):
        await expect_error(cp.AcquireVolumeLease(acquire(vol, holder)), INVALID,
                           "INVALID_ARGUMENT", names=vol)
    await expect_error(cp.AcquireVolumeLease(acquire(vol, "gw", ttl=3601)), INVALID,
                       "INVALID_ARGUMENT", names=vol)
    await expect_error(cp.AcquireVolumeLease(acquire("vol-nope", "gw")), NOT_FOUND,
                       "INVALID_VOLUME_ID", names="vol-nope")
    default = (await cp.AcquireVolumeLease(acquire(vol, "gw", ttl=0))).lease
    assert default.expires_at.seconds > 0


async def test_another_account_can_neither_take_nor_see_my_volumes_lease(cp, other_cp):
    vol = (await new_volume(cp)).volume_id
    await cp.AcquireVolumeLease(acquire(vol, "gw-a"))
    for call in (other_cp.AcquireVolumeLease(acquire(vol, "gw-a")),
                 other_cp.RenewVolumeLease(renew(vol, "gw-a")),
                 other_cp.ReleaseVolumeLease(cpb.ReleaseVolumeLeaseRequest(volume_id=vol,
                                                                           holder_id="gw-a"))):
        await expect_error(call, NOT_FOUND, "INVALID_VOLUME_ID", names=vol)
    await expect_error(cp.AcquireVolumeLease(acquire(vol, "gw-b")), FAILED, "VOLUME_IN_USE")
