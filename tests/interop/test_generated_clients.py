"""Other languages: Go and TypeScript programs built from the stubs that `buf generate`
commits (gen/go, gen/ts) each create a volume, upload a block with its BLAKE3 checksum,
read it back and decode an error's ErrorInfo, against a real `blockstore serve` over
loopback; Python then reads what they wrote."""

from __future__ import annotations

import json
import shutil
import subprocess

import blake3
import pytest

from tests.data_plane.helpers import read
from tests.interop.gobuild import DEBIAN_GOPATH, GO, build_go_client
from tests.interop.tsbuild import build_ts_client

CHUNK = 64 << 10
NODE = shutil.which("node")


def pattern() -> bytes:
    """The clients' block: byte i is (i*7 + 3) mod 251 (go_client/main.go, ts_client.ts)."""
    return bytes((i * 7 + 3) % 251 for i in range(CHUNK))


def run_client(command: list[str]) -> dict:
    run = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, f"{command[0]} failed:\n{run.stderr}\n{run.stdout}"
    return json.loads(run.stdout.strip().splitlines()[-1])


async def check_client_result(result: dict, dp) -> None:
    assert result["volume_id"].startswith("vol-") and result["blocks_written"] == 1
    assert result["checksum"] == blake3.blake3(pattern()).hexdigest(), \
        "the client's BLAKE3 is the server's"
    assert result["same_bytes"], "the client downloaded the bytes it uploaded"
    assert result["downloaded_checksum"] == result["checksum"]
    error = result["error"]
    assert error is not None, "an upload with a wrong checksum failed"
    assert (error["code"], error["reason"], error["domain"]) == \
        ("InvalidArgument", "CHECKSUM_MISMATCH", "blockstore"), "the client decodes ErrorInfo"
    assert error["metadata"] == {"offset": str(CHUNK)}, "ErrorInfo names the offset"
    assert result["volume_id"] in error["message"], "the message names the volume"

    stored = await read(dp, volume_id=result["volume_id"], offset=0, length=2 * CHUNK)
    assert stored == bytes(CHUNK) + pattern(), \
        "Python reads the block where the client put it; the rejected upload changed nothing"


@pytest.mark.skipif(GO is None or not (DEBIAN_GOPATH / "src/google.golang.org/grpc").is_dir(),
                    reason="go or Debian's Go packages are not installed "
                           "(scripts/system-deps.txt)")
async def test_go_client_uploads_downloads_and_reads_error_info(server, account, dp,
                                                                tmp_path):
    binary = build_go_client(tmp_path)
    await check_client_result(run_client([str(binary), server.address, account["token"]]), dp)


@pytest.mark.skipif(NODE is None, reason="node is not installed")
async def test_typescript_client_uploads_downloads_and_reads_error_info(server, account, dp,
                                                                        tmp_path):
    script = build_ts_client(tmp_path)
    result = run_client([NODE, str(script), server.address, account["token"]])
    await check_client_result(result, dp)
