"""Find text values of the SQLite manifest that are no longer valid UTF-8.

`PRAGMA integrity_check` checks the b-tree structure, not the bytes of a value: a
flipped bit inside a label or an id leaves a well-formed page whose text no longer
decodes, and every query reading that row fails. `verify` runs this after the pragma
so such damage is named (table, row, column) instead of surfacing only when a client
happens to read the row. Values are read as blobs, a bounded batch at a time.
"""

from __future__ import annotations

import aiosqlite

BATCH = 1000
MAX_REPORTED = 100


async def _text_columns(conn: aiosqlite.Connection) -> dict[str, list[str]]:
    async with conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                            "AND name NOT LIKE 'sqlite_%' ORDER BY name") as cur:
        tables = [r[0] for r in await cur.fetchall()]
    found: dict[str, list[str]] = {}
    for table in tables:
        async with conn.execute(f'PRAGMA table_info("{table}")') as cur:
            cols = [r[1] for r in await cur.fetchall() if "TEXT" in str(r[2]).upper()]
        if cols:
            found[table] = cols
    return found


async def undecodable_text(conn: aiosqlite.Connection) -> list[str]:
    """One line per text value that is not UTF-8 (at most MAX_REPORTED lines)."""
    problems: list[str] = []
    for table, cols in (await _text_columns(conn)).items():
        select = ", ".join(f'CAST("{c}" AS BLOB)' for c in cols)
        async with conn.execute(f'SELECT {select} FROM "{table}"') as cur:
            row_number = 0
            while rows := await cur.fetchmany(BATCH):
                for row in rows:
                    row_number += 1
                    problems += _bad_values(table, row_number, cols, row)
                if len(problems) >= MAX_REPORTED:
                    return problems[:MAX_REPORTED]
    return problems


def _bad_values(table: str, row_number: int, cols: list[str], row: tuple) -> list[str]:
    bad = []
    for col, value in zip(cols, row):
        if value is None:
            continue
        try:
            bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            bad.append(f"table {table} row {row_number} column {col}: text is not UTF-8")
    return bad
