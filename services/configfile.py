"""Server settings from a TOML file and `BLOCKSTORE_*` environment variables.

Owns the precedence rule: a command-line flag beats the environment, which beats the
`--config FILE` (TOML), which beats the built-in default. Keys are the long flag names
(`gc-interval = 600` or `gc_interval = 600`); the environment spells them
`BLOCKSTORE_GC_INTERVAL`. An unknown key or a value of the wrong type is an error that
names the key and where it came from, never silently ignored. Every value found is
recorded with its source, so `--print-config` can say where each one came from.
"""

from __future__ import annotations

import argparse
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

ENV_PREFIX = "BLOCKSTORE_"
# `init` binds a chunk store to a new, empty manifest (services/identity.py): as a standing
# setting it would silently re-create a lost manifest on every start, so it is a flag only.
NOT_SETTINGS = {"help", "config", "command", "init", "print_config"}
TRUE, FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}


@dataclass
class Settings:
    values: dict[str, Any] = field(default_factory=dict)    # parser dest -> value
    sources: dict[str, str] = field(default_factory=dict)   # parser dest -> where from


def setting_names(parser: argparse.ArgumentParser) -> dict[str, str]:
    """Setting name (a flag's dest) -> parser dest, for every flag that is a setting."""
    return {a.dest: a.dest for a in parser._actions if a.dest not in NOT_SETTINGS}


def settings_defaults(parser: argparse.ArgumentParser, config: Path | None,
                      environ: Mapping[str, str] = os.environ, *,
                      names: Mapping[str, str] | None = None,
                      ignored: frozenset[str] = frozenset()) -> Settings:
    """The defaults `parser` should take from the file and the environment.

    `names` maps setting names to this parser's dests (default: its own flags); a key in
    `ignored` is a setting of another command (a server's file read by `gc`), skipped."""
    names = setting_names(parser) if names is None else names
    actions = {a.dest: a for a in parser._actions}
    found = Settings()
    if config is not None:
        for key, raw in _load(config).items():
            name = key.replace("-", "_")
            if name in ignored:
                continue
            if name not in names:
                raise ValueError(f"--config {config}: unknown setting {key!r}; known: "
                                 f"{', '.join(sorted(n.replace('_', '-') for n in names))}")
            _set(found, names[name], actions, raw, f"{key} in {config}", f"--config {config}")
    for name, dest in names.items():
        env = ENV_PREFIX + name.upper()
        if env in environ:
            _set(found, dest, actions, environ[env], f"environment {env}", f"environment {env}")
    return found


def flags_given(parser: argparse.ArgumentParser, argv: list[str]) -> set[str]:
    """The dests `argv` sets explicitly (`parser` must be fresh: its defaults are lost)."""
    for action in parser._actions:
        action.default = argparse.SUPPRESS
    return set(vars(parser.parse_args(argv)))


def _set(found: Settings, dest: str, actions: dict, raw: Any, where: str, source: str) -> None:
    found.values[dest] = _convert(actions[dest], raw, where)
    found.sources[dest] = source


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
        value = action.type(str(raw)) if action.type else str(raw)
    except (TypeError, ValueError, argparse.ArgumentTypeError) as err:
        raise ValueError(f"{where}: {raw!r} is not valid ({err})") from None
    # argparse checks choices only on the command line, never on defaults: check here.
    if action.choices is not None and value not in action.choices:
        raise ValueError(f"{where}: {raw!r} is not one of {', '.join(map(str, action.choices))}")
    return value
