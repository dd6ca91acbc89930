"""Server settings from a TOML file and `BLOCKSTORE_*` environment variables.

Owns the precedence rule: a command-line flag beats the environment, which beats the
`--config FILE` (TOML), which beats the built-in default. Keys are the long flag names
(`gc-interval = 600` or `gc_interval = 600`); the environment spells them
`BLOCKSTORE_GC_INTERVAL`. An unknown key or a value of the wrong type is an error that
names the key and where it came from, never silently ignored.
"""

from __future__ import annotations

import argparse
import os
import tomllib
from pathlib import Path
from typing import Any, Mapping

ENV_PREFIX = "BLOCKSTORE_"
# `init` binds a chunk store to a new, empty manifest (services/identity.py): as a standing
# setting it would silently re-create a lost manifest on every start, so it is a flag only.
NOT_SETTINGS = {"help", "config", "command", "init"}
TRUE, FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}


def settings_defaults(parser: argparse.ArgumentParser, config: Path | None,
                      environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """The defaults `parser` should take from the file and the environment."""
    actions = {a.dest: a for a in parser._actions if a.dest not in NOT_SETTINGS}
    values: dict[str, Any] = {}
    if config is not None:
        for key, raw in _load(config).items():
            dest = key.replace("-", "_")
            if dest not in actions:
                raise ValueError(f"--config {config}: unknown setting {key!r}; known: "
                                 f"{', '.join(sorted(a.replace('_', '-') for a in actions))}")
            values[dest] = _convert(actions[dest], raw, f"{key} in {config}")
    for dest, action in actions.items():
        name = ENV_PREFIX + dest.upper()
        if name in environ:
            values[dest] = _convert(action, environ[name], f"environment {name}")
    return values


def _load(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except OSError as err:
        raise ValueError(f"--config {path}: cannot read it ({err.strerror})") from None
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"--config {path}: not valid TOML ({err})") from None


def _convert(action: argparse.Action, raw: Any, where: str) -> Any:
    if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction)):
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in TRUE | FALSE:
            return text in TRUE
        raise ValueError(f"{where}: {raw!r} is not a boolean (true/false)")
    if isinstance(raw, (dict, list)):
        raise ValueError(f"{where}: expected a single value, got {type(raw).__name__}")
    try:
        return action.type(str(raw)) if action.type else str(raw)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{where}: {raw!r} is not valid ({err})") from None
