"""Start and stop real `blockstore` server processes for tests (loopback only)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from blockstore.clock import RandomIds, SystemClock
from blockstore.urls import sqlite_url
from manifest import open_manifest
from services.accounts import create_account_with_key

REPO = Path(__file__).resolve().parent.parent
# The installed console script, as users run it (`pip install -e .` puts it beside python).
_SCRIPT = Path(sys.executable).with_name("blockstore")
BLOCKSTORE = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "blockstore"]


def blockstore_cmd(*args: str, check: bool = True, env: dict | None = None,
                   timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the `blockstore` CLI as a subprocess, capturing text output."""
    full_env = {**os.environ, **(env or {})}
    done = subprocess.run([*BLOCKSTORE, *args], capture_output=True, text=True,
                          env=full_env, timeout=timeout, cwd=REPO)
    if check and done.returncode:
        raise AssertionError(f"blockstore {' '.join(args)} exited {done.returncode}:\n"
                             f"{done.stderr}{done.stdout}")
    return done


def create_account(name: str, *, data_dir: Path | None = None, db: str | None = None) -> dict:
    """A new account, made the way `blockstore account create NAME --json` makes it (the
    same manifest call on the same database), in this process: a CLI process costs about
    0.3 s of CPU and the suite makes hundreds of accounts. Returns {"account_id", "name",
    "token", "access_key_id", "secret_access_key"}. The command itself is tested by
    `create_account_cli` and tests/ebs/test_auth_and_isolation.py."""
    url = db or sqlite_url(Path(data_dir).resolve() / "manifest.db")
    with ThreadPoolExecutor(1) as pool:      # callable from inside a running loop too
        return pool.submit(asyncio.run, _create_account(url, name)).result()


async def _create_account(url: str, name: str) -> dict:
    store = await open_manifest(url)
    try:
        account, token, key = await create_account_with_key(store, name, SystemClock(),
                                                            RandomIds())
    finally:
        await store.close()
    return {"account_id": account.account_id, "name": account.name, "token": token,
            "access_key_id": key.access_key_id, "secret_access_key": key.secret_access_key}


def create_account_cli(name: str, *, data_dir: Path | None = None,
                       db: str | None = None) -> dict:
    """`blockstore account create NAME --json` as a process, as an operator runs it."""
    where = ["--data-dir", str(data_dir)] if data_dir else ["--db", db]
    out = blockstore_cmd("account", "create", name, *where, "--json").stdout
    return json.loads(out)


def read_until(proc: subprocess.Popen, output: list[str], marker: str,
               timeout: float) -> str | None:
    """Keep every line `proc` prints in `output` (a reader thread, for its whole life)
    until one holds `marker`; the rest of that line, or None if the process exited or
    `timeout` seconds passed first."""
    ready, found = threading.Event(), []

    def pump() -> None:
        assert proc.stdout
        for line in proc.stdout:
            output.append(line)
            if marker in line and not ready.is_set():
                found.append(line.rsplit(marker, 1)[1])
                ready.set()

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + timeout
    while not ready.wait(0.05):
        if proc.poll() is not None or time.monotonic() > deadline:
            return None
    return found[0]


def stop_process(proc: subprocess.Popen | None, sig: int, timeout: float) -> int | None:
    """Send `sig` and wait for the exit status; SIGKILL if it does not come in `timeout`."""
    if not proc or proc.poll() is not None:
        return proc.returncode if proc else None
    proc.send_signal(sig)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait(timeout)


@dataclass
class ServerProcess:
    """One running server process; `address` is HOST:PORT on loopback."""

    args: list[str]
    env: dict[str, str] | None = None      # added to this process's environment
    proc: subprocess.Popen | None = None
    prefix: tuple[str, ...] = ()         # e.g. ("prlimit", "--nofile=256:512", "--")
    address: str = ""
    output: list[str] = field(default_factory=list)

    def start(self, timeout: float = 60.0) -> "ServerProcess":
        self.output = []
        self.proc = subprocess.Popen([*self.prefix, *BLOCKSTORE, *self.args],
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, cwd=REPO,
                                     env={**os.environ, **(self.env or {})})
        rest = read_until(self.proc, self.output, "listening on ", timeout)
        if rest is None:
            self.stop()
            raise RuntimeError("server did not start:\n" + "".join(self.output))
        self.address = rest.split()[0]
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int | None:
        return stop_process(self.proc, sig, timeout)

    def kill9(self) -> None:
        self.stop(signal.SIGKILL)


def serve(data_dir: Path, *extra: str) -> ServerProcess:
    """`blockstore serve` (both planes) on an OS-chosen loopback port; `data_dir` and
    `db_url` (its manifest: `--db` among `extra`, else the data dir's) say where it keeps
    its state."""
    proc = ServerProcess(["serve", "--data-dir", str(data_dir),
                          "--listen", "127.0.0.1:0", *extra]).start()
    db = extra[extra.index("--db") + 1] if "--db" in extra else None
    proc.data_dir, proc.db_url = data_dir, db or sqlite_url(Path(data_dir) / "manifest.db")
    return proc
