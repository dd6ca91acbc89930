"""The real `blockstore` CLI as a subprocess against real servers, with small-chunk images."""

from __future__ import annotations

import json
import random
from pathlib import Path

import blake3
import pytest

from tests.serverproc import blockstore_cmd

CHUNK = 64 << 10      # small chunks keep images (and tests) small and fast


def cli(address: str, token: str, *args: str, timeout: float = 120):
    env = {"BLOCKSTORE_ADDRESS": address, "BLOCKSTORE_TOKEN": token}
    return blockstore_cmd(*args, check=False, env=env, timeout=timeout)


@pytest.fixture
def run(server, account):
    """Runs the CLI as the test's account; returns the CompletedProcess (never raises)."""
    return lambda *args: cli(server.address, account["token"], *args)


def ok_json(proc) -> dict:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def make_image(path: Path, size: int, seed: int = 7) -> Path:
    """Chunks of random data, zeros and repeats of earlier chunks; tail partial chunk."""
    rng = random.Random(seed)
    out, earlier = bytearray(), []
    while len(out) < size:
        kind = rng.random()
        if kind < 0.3:
            block = bytes(CHUNK)
        elif kind < 0.45 and earlier:
            block = rng.choice(earlier)
        else:
            block = rng.randbytes(CHUNK)
            earlier.append(block)
        out += block
    path.write_bytes(bytes(out[:size]))
    return path


def rewrite_chunks(path: Path, changes: dict[int, bytes | None]) -> None:
    """Overwrite chunk index -> new bytes (None: zeros) in place."""
    with open(path, "r+b") as f:
        for index, data in changes.items():
            f.seek(index * CHUNK)
            f.write(data if data is not None else bytes(CHUNK))


def chunk_tokens(path: Path, size: int | None = None) -> list[bytes | None]:
    """Per chunk: BLAKE3 token, None for all zeros (the image padded to `size`)."""
    data = path.read_bytes()
    data = data.ljust(size or len(data), b"\0")
    tokens = []
    for i in range(0, len(data), CHUNK):
        piece = data[i:i + CHUNK]
        tokens.append(None if piece.count(0) == len(piece) else blake3.blake3(piece).digest())
    return tokens


def create_volume(run, size: int) -> str:
    created = ok_json(run("volume", "create", "--size", str(size), "--chunk-size", "64K",
                          "--json"))
    return created["volume"]["volume_id"]
