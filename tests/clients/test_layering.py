"""`clients` must import no server code (docs/design.md, code rule 4): it ships to users
who run no server, and it must only depend on the public API (the generated stubs)."""

import ast
from pathlib import Path

CLIENTS = Path(__file__).resolve().parents[2] / "clients"
FORBIDDEN = {"control_plane", "data_plane", "manifest", "chunkstore", "services"}
FORBIDDEN_MODULES = {"blockstore.errors", "blockstore.cli"}


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def test_clients_import_no_server_code():
    offenders = []
    for path in sorted(CLIENTS.rglob("*.py")):
        for name in _imports(path):
            if name.split(".")[0] in FORBIDDEN or name in FORBIDDEN_MODULES:
                offenders.append(f"{path.relative_to(CLIENTS.parent)}: {name}")
    assert not offenders, "clients imports server code:\n" + "\n".join(offenders)
