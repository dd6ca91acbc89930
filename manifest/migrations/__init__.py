"""Versioned schema migrations, applied in order at start-up.

Each `NNNN_name.sql` file is applied once, in its own `BEGIN IMMEDIATE` transaction
together with its row in `schema_migrations`, so several processes starting on one
database at once apply each migration exactly once. Statements are separated by
`;` at the end of a line (no string literal ends a line with `;`, and a trigger keeps
the `;` inside its body off the end of a line).
"""

from __future__ import annotations

from importlib import resources

import aiosqlite

LEDGER = """CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"""


def migrations() -> list[tuple[int, str, str]]:
    found = []
    for entry in resources.files(__package__).iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            found.append((version, entry.name, entry.read_text()))
    return sorted(found)


def statements(script: str) -> list[str]:
    lines = [ln for ln in script.splitlines() if not ln.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";\n") if s.strip().strip(";")]


async def apply_migrations(conn: aiosqlite.Connection) -> int:
    """Apply every pending migration; returns the schema version now in force."""
    await conn.execute(LEDGER)
    current = 0
    for version, name, script in migrations():
        await conn.execute("BEGIN IMMEDIATE")
        try:
            async with conn.execute("SELECT 1 FROM schema_migrations WHERE version = ?",
                                    (version,)) as cur:
                done = await cur.fetchone()
            if not done:
                for stmt in statements(script):
                    await conn.execute(stmt.rstrip(";"))
                await conn.execute("INSERT INTO schema_migrations VALUES (?, ?, datetime('now'))",
                                   (version, name))
        except BaseException:
            await conn.execute("ROLLBACK")
            raise
        await conn.execute("COMMIT")
        current = version
    return current
