"""Primary mode with the programs people use: qemu-img, qemu-io, mke2fs, e2fsck, debugfs,
and the real `blockstore` CLI for snapshots and downloads."""

from __future__ import annotations

import filecmp
import json
import random
import signal
import subprocess
import time
from pathlib import Path

from clients.gateway import nbdproto as p
from tests.gateway.conftest import CHUNK, cli, cli_env, create_volume, free_port
from tests.gateway.rawnbd import RawNbd
from tests.serverproc import ServerProcess, create_account


def run(*args: str, timeout: float = 120) -> str:
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(args)} exited {done.returncode}: {done.stderr}{done.stdout}"
    return done.stdout


def make_tree(root: Path, seed: int = 3) -> Path:
    rng = random.Random(seed)
    for d in range(4):
        sub = root / f"dir{d}"
        sub.mkdir(parents=True)
        for f in range(6):
            (sub / f"file{f}.bin").write_bytes(rng.randbytes(rng.randrange(1, 300_000)))
    (root / "hello.txt").write_text("hello from a remote disk\n")
    return root


def test_ext4_image_copied_in_snapshotted_downloaded_checks_clean(env, gateways, tmp_path):
    tree = make_tree(tmp_path / "tree")
    image = tmp_path / "fs.img"
    run("mke2fs", "-q", "-t", "ext4", "-d", str(tree), str(image), "16M")
    volume = create_volume(env, "16M")
    gw = gateways(env, volume)
    run("qemu-img", "convert", "-n", "-f", "raw", "-O", "raw", str(image), gw.uri)
    run("qemu-img", "compare", "-f", "raw", "-F", "raw", str(image), gw.uri)
    snap = json.loads(cli(env, "snapshot", "create", volume, "--json").stdout)
    snapshot_id = snap["snapshot_id"]
    out = tmp_path / "down.img"
    cli(env, "download", "--snapshot", snapshot_id, str(out))
    run("e2fsck", "-fn", str(out))
    extracted = tmp_path / "extracted"
    extracted.mkdir()
    run("debugfs", "-R", f"rdump / {extracted}", str(out))
    assert_same_tree(tree, extracted)


def assert_same_tree(a: Path, b: Path) -> None:
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files, "the source tree is empty"
    for rel in files:
        assert filecmp.cmp(a / rel, b / rel, shallow=False), f"{rel} differs"


def test_flushed_random_writes_survive_kill9_and_restart(env, gateways, tmp_path):
    volume = create_volume(env, "16M")
    gw = gateways(env, volume)
    rng = random.Random(11)
    offsets = rng.sample(range(0, (16 << 20) // 4096), 64)
    writes = [(o * 4096, rng.randrange(1, 255)) for o in offsets]
    script = [arg for o, pat in writes for arg in ("-c", f"write -P {pat} {o} 4k")]
    run("qemu-io", "-f", "raw", *script, "-c", "flush", gw.uri)
    gw.stop(signal.SIGKILL)
    gw = gateways(env, volume, cache_dir=tmp_path / "cache")
    checks = [arg for o, pat in writes for arg in ("-c", f"read -P {pat} {o} 4k")]
    out = run("qemu-io", "-f", "raw", *checks, gw.uri)
    assert "Pattern verification failed" not in out and out.count("read 4096/4096") == len(writes)
    # ... and they are in the service itself, not only in the gateway's cache.
    gw.stop(signal.SIGKILL)
    down = tmp_path / "vol.img"
    cli(env, "download", "--volume", volume, str(down))
    with open(down, "rb") as f:
        for offset, pattern in writes:
            f.seek(offset)
            assert f.read(4096) == bytes([pattern]) * 4096, f"write at {offset} lost"


def test_unflushed_writes_are_replayed_from_the_log_after_kill9(env, gateways, tmp_path):
    volume = create_volume(env, "4M")
    gw = gateways(env, volume)
    c = RawNbd(*gw.host_port)
    c.go()
    partial = b"\x5a" * 5000
    assert c.call(p.CMD_WRITE, CHUNK + 100, len(partial), partial)[0] == 0
    assert c.call(p.CMD_WRITE, 3 * CHUNK, CHUNK, b"\x33" * CHUNK)[0] == 0
    gw.stop(signal.SIGKILL)
    gw = gateways(env, volume, cache_dir=tmp_path / "cache")
    assert any("replayed 2 logged writes" in line for line in gw.output)
    c = RawNbd(*gw.host_port)
    c.go()
    assert c.call(p.CMD_READ, CHUNK, 5100) == (0, bytes(100) + partial)
    assert c.call(p.CMD_FLUSH)[0] == 0
    down = tmp_path / "vol.img"
    cli(env, "download", "--volume", volume, str(down))
    data = down.read_bytes()
    assert data[CHUNK + 100:CHUNK + 5100] == partial
    assert data[3 * CHUNK:4 * CHUNK] == b"\x33" * CHUNK


def test_torn_log_tail_is_dropped_whole_never_half_applied(env, gateways, tmp_path):
    volume = create_volume(env, "4M")
    gw = gateways(env, volume)
    c = RawNbd(*gw.host_port)
    c.go()
    assert c.call(p.CMD_WRITE, 0, 4096, b"\x01" * 4096)[0] == 0
    assert c.call(p.CMD_WRITE, 0, 4096, b"\x02" * 4096)[0] == 0
    gw.stop(signal.SIGKILL)
    wal = max((tmp_path / "cache" / volume / "log").glob("*.log"))
    wal.write_bytes(wal.read_bytes()[:-10])      # the second record torn by the crash
    gw = gateways(env, volume, cache_dir=tmp_path / "cache")
    c = RawNbd(*gw.host_port)
    c.go()
    assert c.call(p.CMD_READ, 0, 4096) == (0, b"\x01" * 4096)


def test_service_unavailable_mid_flush_fails_with_eio_and_keeps_dirty_data(tmp_path, gateways):
    port = free_port()
    server = ServerProcess(["serve", "--data-dir", str(tmp_path / "data"),
                            "--listen", f"127.0.0.1:{port}"]).start()
    try:
        account = create_account("gw-unavail", data_dir=tmp_path / "data")
        env = cli_env(server.address, account["token"])
        volume = create_volume(env, "4M")
        gw = gateways(env, volume, "--timeout", "2")
        c = RawNbd(*gw.host_port)
        c.go()
        assert c.call(p.CMD_WRITE, 0, CHUNK, b"\x44" * CHUNK)[0] == 0
        server.stop()
        assert c.call(p.CMD_FLUSH)[0] == p.EIO
        assert c.call(p.CMD_READ, 0, CHUNK) == (0, b"\x44" * CHUNK)
        server.start()
        deadline = time.monotonic() + 60
        while (err := c.call(p.CMD_FLUSH)[0]) != 0 and time.monotonic() < deadline:
            pass   # the channel reconnects with backoff; each FLUSH retries the commit
        assert err == 0
        down = tmp_path / "vol.img"
        cli(env, "download", "--volume", volume, str(down))
        assert down.read_bytes()[:CHUNK] == b"\x44" * CHUNK
    finally:
        server.stop()


def test_a_snapshot_of_a_disk_in_use_holds_everything_flushed_before_it(env, gateways, tmp_path):
    volume = create_volume(env, "4M")
    gw = gateways(env, volume)
    c = RawNbd(*gw.host_port)
    c.go()
    assert c.call(p.CMD_WRITE, 0, CHUNK, b"\x0a" * CHUNK)[0] == 0
    assert c.call(p.CMD_WRITE, 5 * CHUNK + 7, 3000, b"\x0b" * 3000, flags=p.CMD_FLAG_FUA)[0] == 0
    assert c.call(p.CMD_FLUSH)[0] == 0
    snap = json.loads(cli(env, "snapshot", "create", "--volume", volume, "--json").stdout)
    assert c.call(p.CMD_WRITE, 0, CHUNK, b"\x0c" * CHUNK)[0] == 0     # after: not in it
    assert c.call(p.CMD_FLUSH)[0] == 0
    out = tmp_path / "snap.img"
    cli(env, "download", "--snapshot", snap["snapshot_id"], str(out))
    data = out.read_bytes()
    assert data[:CHUNK] == b"\x0a" * CHUNK
    assert data[5 * CHUNK + 7:5 * CHUNK + 3007] == b"\x0b" * 3000
    assert data[5 * CHUNK:5 * CHUNK + 7] == bytes(7)


def test_writes_of_a_failed_flush_survive_kill9_and_are_committed_after_restart(
        tmp_path, gateways):
    port = free_port()
    server = ServerProcess(["serve", "--data-dir", str(tmp_path / "data"),
                            "--listen", f"127.0.0.1:{port}"]).start()
    try:
        account = create_account("gw-failed-flush", data_dir=tmp_path / "data")
        env = cli_env(server.address, account["token"])
        volume = create_volume(env, "4M")
        gw = gateways(env, volume, "--timeout", "2")
        c = RawNbd(*gw.host_port)
        c.go()
        assert c.call(p.CMD_WRITE, 0, 4096, b"\x71" * 4096)[0] == 0
        server.stop()
        assert c.call(p.CMD_FLUSH)[0] == p.EIO            # the log moved to a new segment
        assert c.call(p.CMD_WRITE, 4096, 4096, b"\x72" * 4096)[0] == 0
        gw.stop(signal.SIGKILL)
        server.start()
        gw = gateways(env, volume, cache_dir=tmp_path / "cache")
        assert any("replayed 2 logged writes" in line for line in gw.output)
        c = RawNbd(*gw.host_port)
        c.go()
        assert c.call(p.CMD_FLUSH)[0] == 0
        down = tmp_path / "vol.img"
        cli(env, "download", "--volume", volume, str(down))
        assert down.read_bytes()[:8192] == b"\x71" * 4096 + b"\x72" * 4096
    finally:
        server.stop()


def test_nbdcopy_over_four_connections_then_kill9_keeps_everything(env, gateways, tmp_path):
    image = tmp_path / "src.img"
    rng = random.Random(8)
    image.write_bytes(b"".join(rng.randbytes(CHUNK) if rng.random() < 0.7 else bytes(CHUNK)
                               for _ in range((8 << 20) // CHUNK)))
    volume = create_volume(env, "8M")
    gw = gateways(env, volume)
    run("nbdcopy", "--connections=4", "--requests=16", "--flush", str(image), gw.uri)
    gw.stop(signal.SIGKILL)
    gw = gateways(env, volume, cache_dir=tmp_path / "cache")
    run("qemu-img", "compare", "-f", "raw", "-F", "raw", str(image), gw.uri)
    down = tmp_path / "down.img"
    gw.stop(signal.SIGKILL)
    cli(env, "download", "--volume", volume, str(down))
    assert down.read_bytes() == image.read_bytes()
