"""A throwaway PostgreSQL cluster for tests: initdb into a temporary directory, one
postmaster on a loopback port, removed again at the end.

PostgreSQL refuses to run as root, and CI runs as root: then the cluster belongs to the
`postgres` system user (created by the Debian package) and every server binary runs
through `runuser`. Binaries are found in /usr/lib/postgresql/15/bin, else on PATH.
Durability settings are off (fsync, synchronous_commit): the tests kill blockstore
processes, never the machine, and a fast cluster keeps the suite short.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

PG_DIRS = ("/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin",
           "/usr/lib/postgresql/17/bin")
SUPERUSER = "blockstore"


def pg_binary(name: str) -> str | None:
    for d in PG_DIRS:
        if os.access(os.path.join(d, name), os.X_OK):
            return os.path.join(d, name)
    return shutil.which(name)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PgCluster:
    root: Path
    port: int
    run_as: str | None

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def _run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = list(argv)
        if self.run_as:
            cmd = ["runuser", "-u", self.run_as, "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if check and done.returncode:
            log = self.root / "postgres.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{' '.join(argv)} failed:\n{done.stdout}{done.stderr}{tail}")
        return done

    def start(self) -> "PgCluster":
        opts = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                "-c max_connections=300 -c shared_buffers=64MB")
        self._run(pg_binary("pg_ctl"), "-D", str(self.data), "-o", opts, "-l",
                  str(self.root / "postgres.log"), "-w", "-t", "60", "start")
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run(pg_binary("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop",
                  check=False)


def start_cluster() -> PgCluster:
    """initdb + start; the caller stops it and removes `root` (see `remove`)."""
    if not pg_binary("initdb") or not pg_binary("pg_ctl"):
        raise RuntimeError("PostgreSQL server binaries not found: apt-get install postgresql-15")
    run_as = None
    # Not under pytest's tmp dir: that is private to root and postgres could not enter it.
    root = Path(tempfile.mkdtemp(prefix="blockstore-pg-"))
    if os.geteuid() == 0:
        run_as = "postgres"
        pw = pwd.getpwnam(run_as)
        os.chown(root, pw.pw_uid, pw.pw_gid)
    cluster = PgCluster(root, free_port(), run_as)
    cluster._run(pg_binary("initdb"), "-D", str(cluster.data), "-U", SUPERUSER,
                 "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C")
    return cluster.start()


def remove(cluster: PgCluster) -> None:
    cluster.stop("immediate")
    shutil.rmtree(cluster.root, ignore_errors=True)
