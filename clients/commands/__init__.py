"""Client CLI subcommands, one module per top-level command.

The hook for later commands (upload, backup, download, diff): add a module here that
defines `register(subparsers, common)`; `clients.cli` discovers every module of this
package and calls it. `common` is a parent parser holding the connection and output
flags (--address, --token, --ca, --timeout, --json): pass `parents=[common]` to each leaf
parser. A leaf sets `handler=async fn(client: AsyncClient, args) -> int | None` via
`set_defaults`; returning None means exit code 0, and raising a `BlockstoreError` maps to
the documented exit code (clients.exitcodes).
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def discover() -> list[ModuleType]:
    """Every command module of this package that has `register`, in name order."""
    modules = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "register"):
            modules.append(module)
    return modules
