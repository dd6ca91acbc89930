"""Shadow mode: the local file is the disk, the volume follows it in the background."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time
from pathlib import Path

from tests.gateway.conftest import CHUNK, cli, cli_env, create_volume, free_port
from tests.serverproc import ServerProcess, create_account

SIZE = 4 << 20


def status(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def wait_status(path: Path, check, what: str, timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while not check(st := status(path)):
        assert time.monotonic() < deadline, f"gateway never reached: {what}; last status {st}"
        time.sleep(0.1)
    return st


def synced(st: dict) -> bool:
    return st.get("bootstrap_done") and st.get("shadow_backlog_chunks") == 0


def qemu_io(uri: str, *commands: str) -> None:
    args = [a for c in commands for a in ("-c", c)]
    subprocess.run(["qemu-io", "-f", "raw", *args, uri], check=True, capture_output=True,
                   timeout=120)


def download(env: dict, volume: str, out: Path) -> bytes:
    cli(env, "download", "--volume", volume, str(out))
    return out.read_bytes()


def test_bootstrap_after_a_crash_and_local_changes_makes_the_volume_equal_the_file(
        tmp_path, gateways):
    port = free_port()
    server = ServerProcess(["serve", "--data-dir", str(tmp_path / "data"),
                            "--listen", f"127.0.0.1:{port}"]).start()
    try:
        env = cli_env(server.address, create_account("shadow", data_dir=tmp_path / "data")["token"])
        volume = create_volume(env, "4M")
        local = tmp_path / "disk.img"
        rng = random.Random(5)
        local.write_bytes(rng.randbytes(SIZE // 2) + bytes(SIZE // 2))
        st_file = tmp_path / "status.json"
        args = ("--shadow", str(local), "--json-status", str(st_file), "--timeout", "2")
        gw = gateways(env, volume, *args)
        wait_status(st_file, synced, "initial bootstrap uploaded the file")
        assert download(env, volume, tmp_path / "v0.img") == local.read_bytes()

        server.stop()          # the queue can not drain now
        qemu_io(gw.uri, "write -P 0x61 0 4k", f"write -P 0x62 {3 * CHUNK + 5} 9000", "flush")
        wait_status(st_file, lambda s: s.get("shadow_backlog_chunks", 0) >= 2, "writes queued")
        gw.stop(signal.SIGKILL)
        with open(local, "r+b") as f:                 # behind the gateway's back
            f.seek(40 * CHUNK)
            f.write(b"\x77" * 3 * CHUNK)
        server.start()
        st_file.unlink()
        gateways(env, volume, *args, cache_dir=tmp_path / "cache")
        wait_status(st_file, synced, "bootstrap after restart")
        expected = local.read_bytes()
        assert expected[:4096] == b"\x61" * 4096 and expected[40 * CHUNK] == 0x77
        assert download(env, volume, tmp_path / "v1.img") == expected
    finally:
        server.stop()


def test_periodic_snapshots_hold_the_local_disk_at_a_moment(env, gateways, tmp_path):
    volume = create_volume(env, "4M")
    local = tmp_path / "disk.img"
    local.write_bytes(bytes(SIZE))
    st_file = tmp_path / "status.json"
    gw = gateways(env, volume, "--shadow", str(local), "--snapshot-every", "1s",
                  "--json-status", str(st_file))
    qemu_io(gw.uri, "write -P 0x41 0 64k", "flush")
    taken = wait_status(st_file, lambda s: s.get("snapshots_taken", 0) >= 2,
                        "two snapshots")["snapshots_taken"]
    assert taken >= 2
    snaps = json.loads(cli(env, "snapshot", "list", "--volume", volume, "--json").stdout)
    newest = max(snaps, key=lambda s: int(s["version"]))
    out = tmp_path / "snap.img"
    cli(env, "download", "--snapshot", newest["snapshot_id"], str(out))
    assert out.read_bytes() == local.read_bytes()
