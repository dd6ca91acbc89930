"""Output for the CLI: JSON for scripts, aligned text tables for people.

Tables are drawn by `rich` (bold header, a rule under it, fitted to the terminal's width)
only when stdout is a terminal; piped or captured output is the plain aligned text, so
scripts, `grep` and tests see the same bytes as before. `--json` never changes.

JSON uses the proto field names (snake_case) and keeps int64 as numbers (the canonical
proto3 JSON mapping turns them into strings, which is awkward in jq and shell), enums as
their names, timestamps as RFC 3339 and tokens (bytes) as hex, matching BLAKE3 tools.
"""

from __future__ import annotations

import io
import json
import shutil
import sys
from collections.abc import Callable, Iterable, Sequence

from google.protobuf import descriptor, timestamp_pb2
from google.protobuf.message import Message

FD = descriptor.FieldDescriptor


def to_dict(msg: Message) -> dict:
    """Every field of `msg`, defaults included, so scripts see a stable set of keys."""
    return {f.name: _field(f, getattr(msg, f.name)) for f in msg.DESCRIPTOR.fields}


def _field(f: descriptor.FieldDescriptor, value):
    if f.message_type is not None and f.message_type.GetOptions().map_entry:
        return {k: _scalar(f.message_type.fields_by_name["value"], v) for k, v in value.items()}
    if f.is_repeated:
        return [_scalar(f, v) for v in value]
    return _scalar(f, value)


def _scalar(f: descriptor.FieldDescriptor, value):
    if f.type == FD.TYPE_MESSAGE:
        if f.message_type.full_name == timestamp_pb2.Timestamp.DESCRIPTOR.full_name:
            return format_time(value)
        return to_dict(value)
    if f.type == FD.TYPE_ENUM:
        return f.enum_type.values_by_number[value].name if value in f.enum_type.values_by_number else value
    if f.type == FD.TYPE_BYTES:
        return value.hex()
    return value


def format_time(ts: timestamp_pb2.Timestamp) -> str:
    """RFC 3339 in UTC, or "" when unset (e.g. completed_at of a pending snapshot)."""
    return ts.ToJsonString() if ts.seconds or ts.nanos else ""


def human_time(ts: timestamp_pb2.Timestamp) -> str:
    """To the second, UTC, for tables: microseconds only widen columns for people."""
    if not (ts.seconds or ts.nanos):
        return "-"
    return ts.ToDatetime().strftime("%Y-%m-%d %H:%M:%SZ")


def print_json(payload, out=None) -> None:
    json.dump(payload, out or sys.stdout, indent=2)
    (out or sys.stdout).write("\n")


def table(headers: Sequence[str], rows: Iterable[Sequence[object]],
          terminal: bool | None = None) -> str:
    """Left-aligned columns, two spaces apart; numbers are right-aligned. On a terminal
    (`terminal` None: is stdout one?) the same table as rich draws it."""
    rows = [[str(c) for c in r] for r in rows]
    numeric = [bool(rows) and all(_is_number(r[i]) for r in rows) for i in range(len(headers))]
    if sys.stdout.isatty() if terminal is None else terminal:
        return _rich_table(headers, rows, numeric)
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if num else c.ljust(w)
                         for c, w, num in zip(cells, widths, numeric)).rstrip()
    return "\n".join([line(headers)] + [line(r) for r in rows])


def _rich_table(headers: Sequence[str], rows: list[list[str]], numeric: list[bool]) -> str:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    grid = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    for header, num in zip(headers, numeric):
        # Ids and checksums are copied from here: never fold or cut them.
        grid.add_column(header, justify="right" if num else "left", no_wrap=True)
    for r in rows:
        grid.add_row(*r)
    console = Console(file=io.StringIO(), force_terminal=True,
                      width=shutil.get_terminal_size().columns)
    console.print(grid)
    return console.file.getvalue().rstrip("\n")


def fields(pairs: Iterable[tuple[str, object]]) -> str:
    """`key: value` lines for one object (the `get` commands)."""
    pairs = list(pairs)
    width = max(len(k) for k, _ in pairs)
    return "\n".join(f"{k + ':':<{width + 1}} {v}" for k, v in pairs)


def labels(mapping) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(mapping.items()))


def emit(args, payload, human: Callable[[], str]) -> None:
    """Prints `payload` as JSON with --json, else the human text `human()` builds."""
    if getattr(args, "json", False):
        print_json(payload)
    else:
        print(human())


def _is_number(text: str) -> bool:
    return text.replace(".", "", 1).replace("%", "").isdigit()
