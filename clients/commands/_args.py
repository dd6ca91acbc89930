"""Argument types shared by command modules (argparse turns ValueError into exit code 2).

Owns the parsing of sizes, labels and the progress flag, and the option-group helper.
Rule: a bad value raises ValueError naming it, so every command reports it the same way.
"""

from __future__ import annotations

import argparse

from clients.sizes import parse_size


def size(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def label(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"invalid label {text!r}: use KEY=VALUE")
    return key, value


def progress(text: str) -> float:
    """`0.5`, `1`, or `50%`."""
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid progress {text!r}: use 0..1 or 0%..100%") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"progress {text} is outside 0..1")
    return value


def add_group(subparsers, name: str, help: str):
    """A command group (`volume`, `snapshot`) whose own subcommand is required."""
    parser = subparsers.add_parser(name, help=help, description=help)
    return parser.add_subparsers(dest="action", metavar="ACTION", required=True)
