"""Issue 13 item 3: many data planes, found by the client.

Real processes on loopback: one control plane and data planes started with `--advertise`
over one SQLite manifest and one chunk directory. The CLI is given the control plane's
address alone; where its streams went is read from each data plane's /metrics.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time

import grpc
import pytest

from blockstore.clock import SystemClock
from clients.aio import AsyncClient
from clients.errors import BlockstoreError
from clients.retry import RetryPolicy
from manifest import open_manifest
from manifest.models import DataPlaneRow
from tests.discovery.cluster import UPLOADS_OK, scrape, start_cluster
from tests.observe import until
from tests.serverproc import BLOCKSTORE, REPO, create_account, serve

CHUNK = 64 << 10
IMAGE = 12 << 20


@pytest.fixture
def cluster(tmp_path):
    running = start_cluster(tmp_path, 3)
    yield running
    running.stop()


def cli_env(cluster, token: str) -> dict:
    return {**os.environ, "BLOCKSTORE_ADDRESS": cluster.control.address,
            "BLOCKSTORE_TOKEN": token}


def cli(env: dict, *args: str) -> dict:
    done = subprocess.run([*BLOCKSTORE, *args, "--json"], capture_output=True, text=True,
                          env=env, timeout=300, cwd=REPO)
    assert done.returncode == 0, f"blockstore {' '.join(args)}: {done.stderr}"
    return json.loads(done.stdout)


def image(path) -> bytes:
    # Distinct chunks, a few repeated and some zeros: dedup and zero runs take part too.
    data = bytearray(os.urandom(IMAGE))
    data[CHUNK:2 * CHUNK] = data[5 * CHUNK:6 * CHUNK]
    data[8 * CHUNK:11 * CHUNK] = bytes(3 * CHUNK)
    path.write_bytes(data)
    return bytes(data)


@pytest.fixture
def any_cluster(tmp_path, store_pair):
    """The three-plane cluster on SQLite + directory, then on PostgreSQL + SeaweedFS."""
    running = start_cluster(tmp_path / "cluster", 3, stores=store_pair)
    yield running
    running.stop()


def test_cli_backup_through_the_control_plane_spreads_streams_and_survives_a_kill(
        any_cluster, tmp_path):
    cluster = any_cluster
    env = cli_env(cluster, create_account("spread", db=cluster.db)["token"])
    vol = cli(env, "volume", "create", "--size", str(IMAGE), "--chunk-size", str(CHUNK))["volume"]
    data = image(tmp_path / "image")
    # Two chunks per stream (1 MiB in flight over 3 streams): about 90 streams, each one
    # commit, so the kill below lands with most of the backup still to send.
    backup = subprocess.Popen([*BLOCKSTORE, "backup", str(tmp_path / "image"), "--volume",
                               vol["volume_id"], "--streams", "3", "--max-inflight", "1",
                               "--no-progress", "--json"], env=env, cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    victim = cluster.planes[0]
    survivors = cluster.planes[1:]
    try:
        def victim_served_a_stream_while_backup_is_frozen() -> bool:
            # Frozen, the CLI sends nothing while the counters are read and the victim
            # is killed, so the kill lands in the middle of its run.
            backup.send_signal(signal.SIGSTOP)
            if scrape(victim, UPLOADS_OK) >= 1:
                return True
            backup.send_signal(signal.SIGCONT)
            assert backup.poll() is None, "the backup ended before any stream reached " \
                f"the first data plane: {backup.communicate()}"
            return False

        until(victim_served_a_stream_while_backup_is_frozen,
              "a backup stream reached the first data plane")
        at_kill = [scrape(p, UPLOADS_OK) for p in survivors]
        scrape_before_kill = scrape(victim, UPLOADS_OK)
        victim.kill9()
    finally:
        backup.send_signal(signal.SIGCONT)
    out, err = backup.communicate(timeout=300)
    assert backup.returncode == 0, f"the backup failed after a data plane died: {err}"
    snap = json.loads(out)
    assert snap["complete"] is True

    after = [scrape(p, UPLOADS_OK) for p in survivors]
    print(f"streams OK: victim {scrape_before_kill} before its kill; survivors {at_kill} "
          f"at the kill, {after} at the end")
    assert sum(after) > sum(at_kill), \
        f"streams went on through the other data planes after the kill ({at_kill} -> {after})"
    assert all(n >= 1 for n in after), \
        f"streams reached every data plane, not one ({after} on the survivors)"

    restored = tmp_path / "restored"
    cli(env, "download", "--snapshot", snap["snapshot_id"], str(restored), "--no-progress")
    assert restored.read_bytes() == data, "the restore is byte-exact"


async def test_expired_and_stopped_registrations_are_not_handed_out(cluster):
    token = create_account("lister", db=cluster.db)["token"]
    store = await open_manifest(cluster.db)
    now = SystemClock().now_us()
    try:
        async with store.write() as tx:      # a process that stopped renewing 1 s ago
            await tx.put_data_plane(DataPlaneRow("dp-gone", "127.0.0.1:9", now - 60_000_000,
                                                 now - 16_000_000, now - 1_000_000))
    finally:
        await store.close()
    short = cluster.add_plane("--advertise-ttl", "2")
    addresses = sorted(p.address for p in cluster.planes)

    async with AsyncClient(cluster.control.address, token) as client:
        assert sorted(await client._list_data_planes()) == addresses, \
            "every live data plane is listed; the expired registration is not"
        short.kill9()                        # never renews again, never deregisters
        # Poll the list (no sleep): the row ages out once its 2 s pass.
        await until_async(lambda: client._list_data_planes(),
                          lambda got: short.address not in got,
                          "the killed data plane's registration expired")
        assert sorted(await client._list_data_planes()) == sorted(
            p.address for p in cluster.planes[:3]), "the others are still listed"
        stopped = cluster.planes[2]
        stopped.stop()                       # SIGTERM: the row goes before it exits
        assert stopped.address not in await client._list_data_planes(), \
            "a data plane stopped cleanly is not listed"


async def test_a_data_plane_that_answers_unavailable_is_skipped(cluster):
    token = create_account("skipper", db=cluster.db)["token"]
    dead = cluster.planes[1]
    async with AsyncClient(cluster.control.address, token,
                           retry=RetryPolicy(max_attempts=1)) as client:
        assert len(client.planes.live() or await client._list_data_planes()) == 3
        dead.kill9()                          # still listed: its registration lasts 15 s
        failures = 0
        for _ in range(12):                   # one call at a time: each goes to the next
            try:
                await client.find_missing_chunks([bytes(32)])
            except BlockstoreError as err:
                assert err.code == grpc.StatusCode.UNAVAILABLE, err
                failures += 1
        assert dead.address in client.planes.live(), "the dead plane is still listed"
        assert failures <= 1, f"{failures} of 12 calls went to the dead data plane: after " \
            "its first UNAVAILABLE it is skipped"


async def until_async(fetch, holds, what: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while not holds(value := await fetch()):
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:g} s, yet still not: {what} ({value})")
        await asyncio.sleep(0.05)
    return value


async def test_a_lone_data_plane_or_a_serve_is_used_as_given(cluster, tmp_path):
    token = create_account("lone", db=cluster.db)["token"]
    plane = cluster.planes[0]
    async with AsyncClient(plane.address, token) as client:
        # A data plane has no ControlPlaneService: UNIMPLEMENTED, so the address given.
        assert await client.find_missing_chunks([bytes(32)]) == [bytes(32)]
        assert client.planes.live() == []
    server = serve(tmp_path / "serve")
    try:
        serve_token = create_account("own", data_dir=tmp_path / "serve")["token"]
        async with AsyncClient(server.address, serve_token) as client:
            assert await client._list_data_planes() == [server.address], \
                "a serve on a concrete address lists itself"
            assert await client.find_missing_chunks([bytes(32)]) == [bytes(32)]
    finally:
        server.stop()
