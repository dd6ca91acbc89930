"""chunkstore stays a leaf: no grpc, no planes, nothing of the project but blockstore.errors,
blockstore.urls and blockstore.compressible (zstd contexts and the compress-or-not rule it
shares with the client, which may not import chunkstore)."""

from __future__ import annotations

import ast
from pathlib import Path

import chunkstore

ALLOWED_PROJECT = {"chunkstore", "blockstore.errors", "blockstore.urls",
                   "blockstore.compressible"}
PROJECT = {"blockstore", "control_plane", "data_plane", "manifest", "services", "clients"}


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_chunkstore_imports_no_grpc_and_no_other_project_package():
    for path in Path(chunkstore.__file__).parent.glob("*.py"):
        for name in imported_modules(path):
            top = name.split(".")[0]
            assert top != "grpc" and not name.startswith("google"), f"{path.name}: {name}"
            if top in PROJECT | {"chunkstore"}:
                assert name.startswith("chunkstore") or name in ALLOWED_PROJECT, (
                    f"{path.name} imports {name}")
