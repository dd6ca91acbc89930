"""An interrupted backup, the server restarted in between, resumed by rerunning it.

Each upload stream commits atomically, so what the first run committed survives the
restart; the rerun must continue the same pending snapshot and send only the rest.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

from tests.cli.conftest import chunk_tokens, cli, make_image, ok_json
from tests.serverproc import BLOCKSTORE, REPO, create_account, serve


def test_interrupted_backup_resumes_across_a_server_restart_sending_nothing_twice(tmp_path):
    server = serve(tmp_path / "data")
    try:
        token = create_account("resume", data_dir=tmp_path / "data")["token"]
        size = 6 << 20
        image = make_image(tmp_path / "disk.img", size, seed=21)
        vid = ok_json(cli(server.address, token, "volume", "create", "--size", str(size),
                          "--chunk-size", "64K", "--json"))["volume"]["volume_id"]
        # 1 MiB in flight with 2 streams: 4 chunks per stream, so many streams.
        args = ("backup", str(image), "--volume", vid, "--max-inflight", "1", "--json")

        first = cli(server.address, token, *args, "--stop-after-streams", "3")
        assert first.returncode == 130, first.stderr
        part = json.loads(first.stdout)
        assert not part["complete"] and part["streams"] >= 3
        pending = ok_json(cli(server.address, token, "snapshot", "get", part["snapshot_id"],
                              "--json"))
        assert pending["state"] == "SNAPSHOT_STATE_PENDING" and 0 < pending["progress"] < 1

        server.stop()
        server.start()                        # same data directory, new port

        rest = ok_json(cli(server.address, token, *args))
        assert rest["resumed"] and rest["snapshot_id"] == part["snapshot_id"]
        assert rest["complete"]

        tokens = chunk_tokens(image)
        data_chunks = sum(1 for t in tokens if t)
        assert part["sent_blocks"] + rest["sent_blocks"] == data_chunks, \
            "every data chunk sent exactly once over both runs (zeros over holes never)"
        assert part["data_blocks"] + rest["data_blocks"] == len({t for t in tokens if t}), \
            "no chunk's data sent twice"
        assert rest["unchanged_blocks"] == part["sent_blocks"], "committed work skipped"
        for run in (part, rest):
            assert run["server_bytes_received"] == run["sent_bytes"]

        out = tmp_path / "restored.img"
        assert cli(server.address, token, "download", "--snapshot", rest["snapshot_id"],
                   str(out)).returncode == 0
        assert out.read_bytes() == image.read_bytes()
        done = ok_json(cli(server.address, token, "snapshot", "get", rest["snapshot_id"], "--json"))
        assert done["state"] == "SNAPSHOT_STATE_COMPLETED"
    finally:
        server.stop()


def test_backup_killed_mid_stream_resumes_to_the_right_snapshot(tmp_path):
    server = serve(tmp_path / "data")
    try:
        token = create_account("kill", data_dir=tmp_path / "data")["token"]
        size = 24 << 20
        image = make_image(tmp_path / "disk.img", size, seed=5)
        vid = ok_json(cli(server.address, token, "volume", "create", "--size", str(size),
                          "--chunk-size", "64K", "--json"))["volume"]["volume_id"]
        env = {"BLOCKSTORE_ADDRESS": server.address, "BLOCKSTORE_TOKEN": token}
        proc = subprocess.Popen([*BLOCKSTORE, "backup", str(image), "--volume", vid,
                                 "--max-inflight", "1", "--json"], cwd=REPO,
                                env={**os.environ, **env},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _wait_for_pending_progress(server.address, token, vid)
        proc.send_signal(signal.SIGINT)               # Ctrl-C mid-backup
        _, err = proc.communicate(timeout=60)
        assert proc.returncode in (130, 0), err

        rest = ok_json(cli(server.address, token, "backup", str(image), "--volume", vid,
                           "--json"))
        if proc.returncode == 130:
            assert rest["resumed"] and rest["unchanged_blocks"] > 0
        out = tmp_path / "restored.img"
        assert cli(server.address, token, "download", "--snapshot", rest["snapshot_id"],
                   str(out)).returncode == 0
        assert out.read_bytes() == image.read_bytes()
    finally:
        server.stop()


def _wait_for_pending_progress(address: str, token: str, vid: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        snaps = json.loads(cli(address, token, "snapshot", "list", "--volume", vid,
                               "--json").stdout or "[]")
        if any(s["state"] == "SNAPSHOT_STATE_PENDING" and s["progress"] > 0 for s in snaps):
            return
        time.sleep(0.05)
    raise AssertionError("backup reported no progress")
