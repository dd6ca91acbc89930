"""Issue 13 item 4: `scripts/cluster.sh start`, a backup and a byte-exact restore through
the address it prints, then `stop`, which leaves nothing running. Slow (PostgreSQL,
SeaweedFS and four server processes start): marked `slow`, and CI runs it all the same."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.discovery.cluster import UPLOADS_OK, scrape_url
from tests.serverproc import BLOCKSTORE, REPO

SCRIPT = REPO / "scripts" / "cluster.sh"
IMAGE = 6 << 20


def run(env: dict, *args: str, timeout: float = 300) -> str:
    done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=timeout,
                          cwd=REPO)
    assert done.returncode == 0, f"{' '.join(args)}: {done.stderr}{done.stdout}"
    return done.stdout


def sourced(env: dict, env_file: Path) -> dict:
    """The environment after `. DIR/env` in a shell, as the printed instructions say."""
    dump = subprocess.run(["bash", "-c", f". {shlex.quote(str(env_file))} && env -0"],
                          capture_output=True, env=env, check=True, timeout=30).stdout
    return dict(item.split("=", 1) for item in dump.decode().split("\0") if "=" in item)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_cluster_script_starts_backs_up_restores_and_stops(backend):
    # Not under pytest's tmp dir: it is private to root, and postgres could not enter it.
    root = Path(tempfile.mkdtemp(prefix="blockstore-cluster-test-"))
    cluster_dir = root / "cluster"
    env = {**os.environ, "BLOCKSTORE_CLUSTER_DIR": str(cluster_dir),
           "BLOCKSTORE_CLUSTER_BACKEND": backend}
    try:
        printed = run(env, str(SCRIPT), "start")
        assert f". {cluster_dir}/env" in printed, printed
        pids = {p.stem: int(p.read_text()) for p in (cluster_dir / "pids").glob("*.pid")}
        assert {"control-plane", "data-plane-1", "data-plane-2", "data-plane-3"} <= set(pids)
        assert "running" in run(env, str(SCRIPT), "status")

        client = sourced(env, cluster_dir / "env")
        # The printed commands run as shown: `blockstore` is on the PATH the file sets,
        # even on a fresh clone whose .venv/bin is on no PATH of the user's.
        found = shutil.which("blockstore", path=client["PATH"])
        assert found and Path(found).samefile(BLOCKSTORE[0] if len(BLOCKSTORE) == 1
                                              else REPO / ".venv" / "bin" / "blockstore")
        image = root / "image"
        image.write_bytes(os.urandom(IMAGE))
        vol = json.loads(run(client, "blockstore", "volume", "create", "--size", str(IMAGE),
                             "--chunk-size", "65536", "--json"))["volume"]
        snap = json.loads(run(client, *BLOCKSTORE, "backup", str(image), "--volume",
                              vol["volume_id"], "--streams", "3", "--max-inflight", "1",
                              "--no-progress", "--json"))
        restored = root / "restored"
        run(client, *BLOCKSTORE, "download", "--snapshot", snap["snapshot_id"],
            str(restored), "--no-progress", "--json")
        assert restored.read_bytes() == image.read_bytes(), "the restore is byte-exact"
        served = [streams_served(cluster_dir / "logs" / f"data-plane-{i}.log")
                  for i in (1, 2, 3)]
        assert sum(1 for n in served if n) >= 2, \
            f"the backup's streams reached more than one data plane: {served}"

        run(env, str(SCRIPT), "stop")
        assert not cluster_dir.exists(), "stop deletes the cluster's data"
        assert [name for name, pid in pids.items() if alive(pid)] == [], \
            "stop leaves nothing it started running"
    finally:
        subprocess.run([str(SCRIPT), "stop"], env=env, capture_output=True, timeout=300)
        subprocess.run(["rm", "-rf", str(root)])


def streams_served(log: Path) -> float:
    """UploadBlocks streams the data plane answered OK, from its /metrics endpoint."""
    url = re.search(r"metrics on (http://\S+/metrics)", log.read_text()).group(1)
    return scrape_url(url, UPLOADS_OK)
