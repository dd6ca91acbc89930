"""Fixtures for gateway tests: a real `blockstore serve`, real volumes created with the
CLI, and real `blockstore gateway` processes on loopback ports."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.serverproc import (BLOCKSTORE, REPO, create_account, read_until, serve,
                              stop_process)

CHUNK = 64 << 10


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli_env(address: str, token: str) -> dict:
    return {**os.environ, "BLOCKSTORE_ADDRESS": address, "BLOCKSTORE_TOKEN": token}


def cli(env: dict, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    done = subprocess.run([*BLOCKSTORE, *args], capture_output=True, text=True, env=env,
                          timeout=timeout, cwd=REPO)
    assert done.returncode == 0, f"blockstore {' '.join(args)}: {done.stderr}"
    return done


@dataclass
class Gateway:
    """One `blockstore gateway` process; `uri` is set once it serves."""

    env: dict
    args: list[str]
    proc: subprocess.Popen | None = None
    uri: str = ""
    output: list[str] = field(default_factory=list)

    def start(self, timeout: float = 60.0) -> "Gateway":
        self.output, self.uri = [], ""
        self.proc = subprocess.Popen([*BLOCKSTORE, "gateway", *self.args], env=self.env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, cwd=REPO)
        rest = read_until(self.proc, self.output, "gateway serving ", timeout)
        if rest is None:
            self.stop(signal.SIGKILL)
            raise RuntimeError("gateway did not start:\n" + "".join(self.output))
        self.uri = rest.strip()
        return self

    @property
    def host_port(self) -> tuple[str, int]:
        host, _, port = self.uri.removeprefix("nbd://").rpartition(":")
        return host.strip("[]"), int(port)

    def exited(self, timeout: float = 60.0) -> int:
        return self.proc.wait(timeout)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60.0) -> int | None:
        return stop_process(self.proc, sig, timeout)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    proc = serve(tmp_path_factory.mktemp("data"))
    proc.data_dir = proc.args[proc.args.index("--data-dir") + 1]
    yield proc
    proc.stop()


@pytest.fixture
def env(server):
    account = create_account(f"gw-{uuid.uuid4().hex[:8]}", data_dir=server.data_dir)
    return cli_env(server.address, account["token"])


def create_volume(env: dict, size: str = "16M", chunk: int = CHUNK) -> str:
    out = cli(env, "volume", "create", "--size", size, "--chunk-size", str(chunk), "--json")
    return json.loads(out.stdout)["volume"]["volume_id"]


@pytest.fixture
def gateways(tmp_path):
    """start(env, volume, *extra) -> a started Gateway; every one is stopped afterwards."""
    started: list[Gateway] = []

    def start(env: dict, volume: str, *extra: str, cache_dir: Path | None = None,
              port: int = 0) -> Gateway:
        cache = cache_dir or tmp_path / "cache"
        gw = Gateway(env, ["--volume", volume, "--listen", f"127.0.0.1:{port}",
                           "--cache-dir", str(cache), *extra]).start()
        started.append(gw)
        return gw

    yield start
    for gw in started:
        gw.stop(signal.SIGKILL)
