"""One writer per volume: gateways take the volume's lease through the control plane."""

from __future__ import annotations

import signal
import time

import pytest

from tests.gateway.conftest import Gateway, create_volume


def refused(env, volume, cache_dir) -> str:
    """Starts a gateway that must be refused; returns its output."""
    gw = Gateway(env, ["--volume", volume, "--listen", "127.0.0.1:0",
                       "--cache-dir", str(cache_dir)])
    with pytest.raises(RuntimeError) as err:
        gw.start()
    assert gw.proc.returncode not in (0, None)
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
    again = gateways(env, volume, "--lease-ttl", "3", cache_dir=tmp_path / "a")  # at once
    again.stop(signal.SIGKILL)
    assert "VOLUME_IN_USE" in refused(env, volume, tmp_path / "b")
    deadline = time.monotonic() + 30
    while True:   # the dead holder's lease runs out within its 3 s TTL
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
