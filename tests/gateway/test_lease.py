"""One writer per volume: gateways take the volume's lease through the control plane."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time

import pytest

from clients.gateway import nbdproto as p
from tests.gateway.conftest import Gateway, cli, create_volume
from tests.gateway.rawnbd import RawNbd
from tests.serverproc import BLOCKSTORE, REPO


def refused(env, volume, cache_dir) -> str:
    """Starts a gateway that must be refused; returns its output."""
    gw = Gateway(env, ["--volume", volume, "--listen", "127.0.0.1:0",
                       "--cache-dir", str(cache_dir)])
    with pytest.raises(RuntimeError) as err:
        gw.start()
    assert gw.proc.wait(30) not in (0, None)
    return str(err.value)


def test_a_second_gateway_is_refused_with_volume_in_use(env, gateways, tmp_path):
    volume = create_volume(env, "4M")
    gateways(env, volume, cache_dir=tmp_path / "a")
    out = refused(env, volume, tmp_path / "b")
    assert "FAILED_PRECONDITION VOLUME_IN_USE" in out and volume in out


def test_same_cache_dir_takes_its_lease_back_at_once_another_waits_for_expiry(
        env, gateways, tmp_path):
    volume = create_volume(env, "4M")
    first = gateways(env, volume, "--lease-ttl", "3", cache_dir=tmp_path / "a")
    first.stop(signal.SIGKILL)
    # A TTL the next gateway's start cannot outlast even on a loaded machine: with 3 s,
    # a start that took longer under load 12-20 found the lease expired and was served.
    again = gateways(env, volume, "--lease-ttl", "10", cache_dir=tmp_path / "a")  # at once
    again.stop(signal.SIGKILL)
    assert "VOLUME_IN_USE" in refused(env, volume, tmp_path / "b")
    deadline = time.monotonic() + 60
    while True:   # the dead holder's lease runs out within its 10 s TTL
        try:
            gateways(env, volume, cache_dir=tmp_path / "b")
            break
        except RuntimeError as err:
            assert "VOLUME_IN_USE" in str(err) and time.monotonic() < deadline


def test_a_clean_stop_releases_the_lease(env, gateways, tmp_path):
    volume = create_volume(env, "4M")
    first = gateways(env, volume, cache_dir=tmp_path / "a")
    assert first.stop(signal.SIGTERM) == 0
    gateways(env, volume, cache_dir=tmp_path / "b")      # no wait for the 30 s TTL


def test_a_crashed_gateways_log_is_not_replayed_over_another_writers_data(
        env, gateways, tmp_path):
    volume = create_volume(env, "4M")
    a = gateways(env, volume, "--lease-ttl", "2", cache_dir=tmp_path / "a")
    c = RawNbd(*a.host_port)
    c.go()
    assert c.call(p.CMD_WRITE, 0, 4096, b"\x0a" * 4096)[0] == 0    # logged, never flushed
    a.stop(signal.SIGKILL)
    deadline = time.monotonic() + 30
    while True:      # gateway b gets the volume once a's lease has run out
        try:
            b = gateways(env, volume, cache_dir=tmp_path / "b")
            break
        except RuntimeError as err:
            assert "VOLUME_IN_USE" in str(err) and time.monotonic() < deadline
    c = RawNbd(*b.host_port)
    c.go()
    assert c.call(p.CMD_WRITE, 0, 8192, b"\x0b" * 8192, flags=p.CMD_FLAG_FUA)[0] == 0
    assert b.stop(signal.SIGTERM) == 0                                # releases the lease
    out = refused(env, volume, tmp_path / "a")
    assert "unflushed writes made before volume" in out and "Move" in out
    down = tmp_path / "vol.img"
    cli(env, "download", "--volume", volume, str(down))
    assert down.read_bytes()[:8192] == b"\x0b" * 8192, "b's data was not overwritten"
    shutil.move(tmp_path / "a" / volume / "log", tmp_path / "a-log-discarded")
    gateways(env, volume, cache_dir=tmp_path / "a")                   # starts after that


def test_a_bulk_upload_into_a_volume_a_gateway_serves_is_refused(env, gateways, tmp_path):
    volume = create_volume(env, "4M")
    gateways(env, volume)
    image = tmp_path / "img"
    image.write_bytes(b"\x42" * (4 << 20))
    done = subprocess.run([*BLOCKSTORE, "upload", str(image), "--volume", volume], env=env,
                          capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode != 0 and "VOLUME_IN_USE" in done.stderr, done.stderr
