"""`--print-config [toml|json]`: the effective settings of a command, secrets masked.

Owns what an operator sees before a start: every setting the command reads, its value
after the precedence rule of services/configfile.py, and where that value came from
(command line, environment variable, --config file, default). The TOML form is a valid
`--config` file (keys are the long flag names; unset values are comments), so a printed
configuration can be saved and edited. Rule: no secret is printed. A password inside a
URL is replaced by `***` (blockstore.urls.redacted) and a setting whose name says it is
a secret (token, secret, password) is `***` whole; file paths (TLS keys) are not secrets,
their content would be and is never read here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from blockstore.urls import redacted

FORMATS = ("toml", "json")
SECRET_WORDS = ("token", "secret", "password")


def mask(name: str, value: Any) -> Any:
    if isinstance(value, Path):
        value = str(value)
    if value is None or value == "":
        return value
    if any(word in name for word in SECRET_WORDS):
        return "***"
    if isinstance(value, str) and "://" in value:
        return redacted(value)
    return value


def effective(args, names: Mapping[str, str], sources: Mapping[str, str]) -> list[tuple]:
    """(key, masked value, source) for each setting, in the parser's order."""
    return [(name.replace("_", "-"), mask(name, getattr(args, dest, None)),
             sources.get(dest, "default")) for name, dest in names.items()]


def render(command: str, rows: list[tuple], fmt: str, notes: Iterable[str] = ()) -> str:
    if fmt == "json":
        return json.dumps({"command": command, "settings": {k: v for k, v, _ in rows},
                           "sources": {k: s for k, _, s in rows}, "notes": list(notes)},
                          indent=2)
    lines = [f"# blockstore {command}: effective configuration; secrets masked.",
             "# Precedence: command line > BLOCKSTORE_* environment > --config file > default.",
             *(f"# {note}" for note in notes)]
    for key, value, source in rows:
        if value is None:
            lines.append(f"# {key} is unset ({source})")
        else:
            lines.append(f"{key} = {toml_value(value)}  # {source}")
    return "\n".join(lines)


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    # A JSON string is a valid TOML basic string (same escapes, \uXXXX for the rest).
    return json.dumps(str(value))
