"""Retry policy over a real gRPC channel to a fake server that fails on cue.

The injected sleep records each backoff instead of waiting, so the schedule is asserted
exactly and the tests take no wall-clock time.
"""

import random

import grpc
import pytest

from clients import (Aborted, AsyncClient, InvalidArgument, NotFound, ResourceExhausted,
                     RetryPolicy, Unavailable)
from tests.clients.fakeserver import FakeControlPlane, serve

UNAVAILABLE = grpc.StatusCode.UNAVAILABLE


class Sleeps(list):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def policy(sleeps: Sleeps, **kw) -> RetryPolicy:
    base = dict(max_attempts=4, initial_backoff=0.1, max_backoff=1.0, multiplier=2.0, jitter=0.0)
    return RetryPolicy(**{**base, **kw}, sleep=sleeps, rng=random.Random(7))


@pytest.fixture
async def fake():
    servicer = FakeControlPlane()
    async with serve(servicer) as address:
        servicer.address = address
        yield servicer


async def test_unavailable_is_retried_with_exponential_backoff_then_succeeds(fake):
    await _create(fake)
    fake.fail("GetVolume", UNAVAILABLE, times=3)
    sleeps = Sleeps()
    async with AsyncClient(fake.address, "tok", retry=policy(sleeps)) as c:
        vol = await c.get_volume("vol-1")
    assert vol.volume_id == "vol-1"
    assert len(fake.calls["GetVolume"]) == 4
    assert sleeps == pytest.approx([0.1, 0.2, 0.4])


async def test_gives_up_after_max_attempts_and_says_how_many(fake):
    fake.fail("GetVolume", UNAVAILABLE, times=10)
    sleeps = Sleeps()
    async with AsyncClient(fake.address, "tok", retry=policy(sleeps)) as c:
        with pytest.raises(Unavailable) as info:
            await c.get_volume("vol-1")
    assert info.value.attempts == 4 and len(fake.calls["GetVolume"]) == 4
    assert len(sleeps) == 3
    assert "(after 4 attempts)" in str(info.value)


async def test_invalid_argument_is_never_retried(fake):
    fake.fail("GetVolume", grpc.StatusCode.INVALID_ARGUMENT, reason="INVALID_VOLUME_ID")
    sleeps = Sleeps()
    async with AsyncClient(fake.address, "tok", retry=policy(sleeps)) as c:
        with pytest.raises(InvalidArgument) as info:
            await c.get_volume("bad id")
    assert info.value.reason == "INVALID_VOLUME_ID" and info.value.attempts == 1
    assert len(fake.calls["GetVolume"]) == 1 and sleeps == []


async def test_not_found_carries_reason_and_is_not_retried(fake):
    sleeps = Sleeps()
    async with AsyncClient(fake.address, "tok", retry=policy(sleeps)) as c:
        with pytest.raises(NotFound) as info:
            await c.get_volume("vol-missing")
    assert str(info.value) == "NOT_FOUND INVALID_VOLUME_ID: volume vol-missing not found"
    assert sleeps == []


async def test_server_retry_info_overrides_own_backoff(fake):
    fake.fail("GetVolume", grpc.StatusCode.RESOURCE_EXHAUSTED, reason="OVERLOADED",
              retry_delay=2.5)
    await _create(fake)
    sleeps = Sleeps()
    async with AsyncClient(fake.address, "tok", retry=policy(sleeps)) as c:
        await c.get_volume("vol-1")
    assert sleeps == pytest.approx([2.5])


async def test_backoff_is_capped_and_jittered_within_bounds():
    p = RetryPolicy(initial_backoff=0.1, max_backoff=1.0, jitter=0.2, rng=random.Random(1))
    delays = [p.delay(n) for n in range(8)]
    for n, d in enumerate(delays):
        base = min(1.0, 0.1 * 2 ** n)
        assert base * 0.8 <= d <= base * 1.2
    assert len(set(delays)) == len(delays)  # jitter de-synchronises clients


async def test_create_retry_reuses_one_generated_idempotency_key(fake):
    fake.fail("CreateVolume", UNAVAILABLE, times=2)
    async with AsyncClient(fake.address, "tok", retry=policy(Sleeps())) as c:
        await c.create_volume(size_bytes=1 << 30)
    keys = {req.idempotency_key for req, _ in fake.calls["CreateVolume"]}
    assert len(fake.calls["CreateVolume"]) == 3 and len(keys) == 1 and keys != {""}


async def test_separate_creates_get_separate_keys(fake):
    async with AsyncClient(fake.address, "tok", retry=policy(Sleeps())) as c:
        await c.create_volume()
        await c.create_volume()
    assert len({req.idempotency_key for req, _ in fake.calls["CreateVolume"]}) == 2


async def test_retried_delete_that_finds_it_gone_succeeds(fake):
    """The first attempt deleted the volume but its reply was lost."""
    await _create(fake)
    fake.fail("DeleteVolume", UNAVAILABLE)
    async with AsyncClient(fake.address, "tok", retry=policy(Sleeps())) as c:
        await c.delete_volume("vol-1")
        with pytest.raises(NotFound):  # a first-attempt NOT_FOUND is still an error
            await c.delete_volume("vol-1")
    assert "vol-1" not in fake.volumes


async def test_every_call_sends_the_bearer_token_and_a_deadline(fake):
    async with AsyncClient(fake.address, "s3cret", retry=policy(Sleeps())) as c:
        await c.create_volume()
        await c.get_volume("vol-1")
    for rpc in ("CreateVolume", "GetVolume"):
        _, md = fake.calls[rpc][0]
        assert md["authorization"] == "Bearer s3cret"


async def test_list_volumes_follows_every_page(fake):
    for _ in range(5):
        await _create(fake)
    async with AsyncClient(fake.address, "tok", retry=policy(Sleeps())) as c:
        ids = [v.volume_id async for v in c.list_volumes()]
        page, token = await c.list_volumes_page(page_size=2)
    assert ids == [f"vol-{i}" for i in range(1, 6)]
    assert len(fake.calls["ListVolumes"]) >= 3 and len(page) == 2 and token == "2"


def test_policy_rejects_nonsense():
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(initial_backoff=2, max_backoff=1)


async def _create(fake):
    async with AsyncClient(fake.address, "tok", retry=policy(Sleeps())) as c:
        volume, _ = await c.create_volume()
    return volume


async def test_storage_full_is_not_retried(fake):
    # RESOURCE_EXHAUSTED is transient in general, but a full disk does not clear by
    # waiting: the caller hears it at once instead of after minutes of backoff.
    await _create(fake)
    fake.fail("GetVolume", grpc.StatusCode.RESOURCE_EXHAUSTED, reason="STORAGE_FULL", times=3)
    sleeps = Sleeps()
    async with AsyncClient(fake.address, "tok", retry=policy(sleeps)) as c:
        with pytest.raises(ResourceExhausted) as info:
            await c.get_volume("vol-1")
    assert info.value.reason == "STORAGE_FULL" and info.value.attempts == 1
    assert sleeps == [] and len(fake.calls["GetVolume"]) == 1


async def test_chunk_collected_is_retried_other_aborts_are_not(fake):
    # ABORTED CHUNK_COLLECTED: GC overtook a stream, nothing was committed, and the server
    # says to retry the call (README). Every retry loop asks the same retryable(), so the
    # bulk transfer's stream loops retry it too. Any other ABORTED is a conflict.
    await _create(fake)
    fake.fail("GetVolume", grpc.StatusCode.ABORTED, reason="CHUNK_COLLECTED", times=2)
    sleeps = Sleeps()
    async with AsyncClient(fake.address, "tok", retry=policy(sleeps)) as c:
        assert (await c.get_volume("vol-1")).volume_id == "vol-1"
    assert len(sleeps) == 2 and len(fake.calls["GetVolume"]) == 3
    fake.fail("GetVolume", grpc.StatusCode.ABORTED, times=3)
    sleeps = Sleeps()
    async with AsyncClient(fake.address, "tok", retry=policy(sleeps)) as c:
        with pytest.raises(Aborted) as info:
            await c.get_volume("vol-1")
    assert info.value.attempts == 1 and sleeps == []
