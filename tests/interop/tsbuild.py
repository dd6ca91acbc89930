"""Compiles tests/interop/ts_client.ts with the committed TypeScript stubs (gen/ts).

`tsc --strict` type-checks the generated code and the client together and emits ES
modules into a throwaway directory, which gets a package.json saying so and a link to
the repository's node_modules, so Node resolves @bufbuild/protobuf and @connectrpc/*.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CLIENT = Path(__file__).with_name("ts_client.ts")
TSC = REPO / "node_modules" / ".bin" / "tsc"


def build_ts_client(outdir: Path) -> Path:
    """Type-checks and compiles the client into `outdir`; returns the .js to run."""
    assert TSC.exists(), "node_modules missing typescript: run `npm install` (setup.sh does)"
    done = subprocess.run(
        [str(TSC), "--strict", "--target", "es2022", "--module", "es2022",
         "--moduleResolution", "bundler", "--skipLibCheck", "--types", "node",
         "--rootDir", str(REPO), "--outDir", str(outdir), str(CLIENT)],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"tsc failed:\n{done.stdout}{done.stderr}"
    (outdir / "package.json").write_text(json.dumps({"type": "module"}))
    (outdir / "node_modules").symlink_to(REPO / "node_modules")
    return outdir / CLIENT.relative_to(REPO).with_suffix(".js")
