"""Layering is checked, not hoped for (docs/design.md, code rule 4).

Walks every Python source with `ast` and fails on an import that crosses a layer:

- `chunkstore` and `manifest` are storage: no gRPC (nor the generated stubs), no plane,
  no process wiring, no client code.
- `clients` ships to users who run no server: it imports no server package and not the
  server's domain errors (`blockstore.errors`), only the public API stubs.
- In `control_plane/` and `data_plane/` only the edge modules (`servicer*.py`,
  `convert*.py`, `wiring.py`) know gRPC or the generated stubs; domain code raises typed
  errors and deals in plain records.
- `ebs_facade` (EBS direct over HTTP) sits beside the gRPC edge, on the planes' domain
  code: it imports no gRPC, no stubs (it never calls our own gRPC server) and no process
  wiring (services/ hands it what it needs), and nothing below it imports it.
- The RPC observers (metrics, log line, span) know their role (services/rpc_observer.py),
  not the one interceptor that measures calls for them (services/observed_calls.py).
"""

from __future__ import annotations

import ast
from fnmatch import fnmatch
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GRPC = ("grpc", "grpc_status", "grpc_health", "grpc_reflection", "grpc_tools")
STUBS = ("blockstore.v1",)
SERVER = ("control_plane", "data_plane", "manifest", "chunkstore", "services",
          "blockstore.errors", "ebs_facade")
EDGE_FILES = ("servicer*.py", "convert*.py", "wiring.py")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(path: Path) -> set[str]:
    """Every module `path` imports, absolute; `from a import b` yields `a` and `a.b`."""
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[:len(package) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names |= {f"{base}.{alias.name}" for alias in node.names}
    return names


def _matches(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def violations(packages: tuple[str, ...], forbidden: tuple[str, ...],
               exempt: tuple[str, ...] = ()) -> list[str]:
    found = []
    for package in packages:
        for path in sorted((REPO / package).rglob("*.py")):
            if any(fnmatch(path.name, pattern) for pattern in exempt):
                continue
            for name in sorted(imported_names(path)):
                if _matches(name, forbidden):
                    found.append(f"{path.relative_to(REPO)} imports {name}")
    return found


def test_storage_layers_import_no_grpc_no_planes_no_services_no_clients():
    bad = violations(("chunkstore", "manifest"),
                     GRPC + STUBS + ("control_plane", "data_plane", "services", "clients",
                                     "ebs_facade"))
    assert not bad, "storage layers reach upwards:\n" + "\n".join(bad)


def test_clients_import_no_server_code():
    bad = violations(("clients",), SERVER)
    assert not bad, "clients import server code:\n" + "\n".join(bad)


def test_the_gateway_is_a_client_of_the_public_api_only():
    """`blockstore gateway` must work against any deployment: no server package, no
    server errors, not even through the other client modules' back doors."""
    sources = sorted((REPO / "clients" / "gateway").rglob("*.py"))
    assert sources, "clients/gateway is missing: the check would pass vacuously"
    bad = violations(("clients/gateway",), SERVER)
    assert not bad, "the gateway imports server code:\n" + "\n".join(bad)


def test_only_edge_modules_of_the_planes_know_grpc_or_the_stubs():
    bad = violations(("control_plane", "data_plane"), GRPC + STUBS, exempt=EDGE_FILES)
    assert not bad, "plane domain code imports gRPC or stubs:\n" + "\n".join(bad)


def test_the_ebs_facade_uses_domain_code_not_grpc_and_nothing_below_uses_it():
    assert (REPO / "ebs_facade" / "routes.py").exists(), "ebs_facade is missing"
    bad = violations(("ebs_facade",), GRPC + STUBS + ("services", "clients"))
    bad += violations(("control_plane", "data_plane"), ("ebs_facade",))
    assert not bad, "EBS facade layering broken:\n" + "\n".join(bad)


def test_rpc_observers_know_their_role_not_the_interceptor():
    """Metrics, log line and span observe calls through services/rpc_observer.py; the one
    interceptor that measures them (services/observed_calls.py) stays replaceable."""
    observers = [REPO / "services" / f"{name}.py" for name in ("metrics", "rpclog",
                                                                "traced_calls")]
    assert all(p.exists() for p in observers), "an observer module moved: update the list"
    bad = [f"{p.relative_to(REPO)} imports services.observed_calls" for p in observers
           if any(_matches(n, ("services.observed_calls",)) for n in imported_names(p))]
    assert not bad, "observers reach into the interceptor:\n" + "\n".join(bad)


def test_the_checker_sees_relative_and_from_imports(tmp_path, monkeypatch):
    """Guards the guard: a relative import and `from grpc import aio` are both seen."""
    package = tmp_path / "control_plane"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "volumes.py").write_text("from grpc import aio\nfrom .servicer import x\n")
    monkeypatch.setitem(globals(), "REPO", tmp_path)
    names = imported_names(package / "volumes.py")
    assert {"grpc", "grpc.aio", "control_plane.servicer"} <= names
    assert violations(("control_plane",), GRPC) == ["control_plane/volumes.py imports grpc",
                                                    "control_plane/volumes.py imports grpc.aio"]
