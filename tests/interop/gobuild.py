"""Builds tests/interop/go_client against the committed Go stubs (gen/go), offline.

Go module mode would fetch grpc and protobuf from the network; GOPATH mode finds them in
Debian's packaged sources (/usr/share/gocode, scripts/system-deps.txt). The stubs'
import path is `blockstore/gen/go/blockstore/v1` (buf.gen.yaml's go_package_prefix), so
a throwaway GOPATH gets `src/blockstore` linked to this repository, as the README's
"From Go" section does. The compile cache lives in one stable directory, so only the
first build on a machine compiles grpc and protobuf (about 40 s; then a few seconds).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CLIENT_PACKAGE = "blockstore/tests/interop/go_client"
DEBIAN_GOPATH = Path("/usr/share/gocode")
GO = shutil.which("go")


def go_env(gopath: Path) -> dict[str, str]:
    cache = os.environ.get("GOCACHE") or str(Path(tempfile.gettempdir()) / "blockstore-go-build")
    return {**os.environ, "GO111MODULE": "off", "GOFLAGS": "", "GOCACHE": cache,
            "GOPATH": f"{gopath}{os.pathsep}{DEBIAN_GOPATH}"}


def build_go_client(workdir: Path) -> Path:
    """Lays out a GOPATH under `workdir`, builds the client, returns the binary's path."""
    (workdir / "src").mkdir()
    (workdir / "src" / "blockstore").symlink_to(REPO)
    binary = workdir / "go_client"
    done = subprocess.run([GO, "build", "-o", str(binary), CLIENT_PACKAGE],
                          env=go_env(workdir), cwd=workdir, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, f"go build failed:\n{done.stderr}{done.stdout}"
    return binary
