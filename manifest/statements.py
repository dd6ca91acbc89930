"""Portable SQL: the text of each statement SQLite and PostgreSQL run alike, written once.

Owns the statements of the manifest whose text is the same on both engines but for the
placeholders. Each is an `Sql`: the SQLite text itself (`?` placeholders), with `.pg`,
the same text in PostgreSQL's numbered placeholders (`$1..$n`, in order), made once at
import. The backends (manifest/sqlite_*.py, manifest/postgres_*.py) run them; what does
differ between the engines stays in the backend's module: upserts written differently
(`INSERT OR REPLACE`), row counts and new ids, array parameters (`= ANY($1)`) against
batched `IN (?, ...)`, advisory locks and `FOR UPDATE`.

Rules: a statement is here only if both engines run this exact text; each `?` is one
parameter, in order (a value needed twice is passed twice), and no `?` appears in
statement text other than as a placeholder. Both engines keep the same tables and
columns (manifest/migrations/), so the column lists of manifest/rows.py serve both.
"""

from __future__ import annotations

from manifest.rows import SNAPSHOT_SELECT, VOLUME_COLS
from manifest.visibility import READERS


class Sql(str):
    """A statement in SQLite's placeholders; `pg` is the same in PostgreSQL's."""

    pg: str

    def __new__(cls, text: str) -> Sql:
        self = super().__new__(cls, text)
        parts = text.split("?")
        self.pg = parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], 1))
        return self


ACCOUNT_COLS = "account_id, name, created_at"
OPERATION_COLS = "op_id, kind, target, holder, vid, version, started_at, expires_at"
PLANE_COLS = "process_id, address, started_at, renewed_at, expires_at"

# -- accounts and access keys --------------------------------------------------------
INSERT_ACCOUNT = Sql("INSERT INTO accounts VALUES (?, ?, ?, ?)")
ACCOUNT_BY_TOKEN_HASH = Sql(f"SELECT {ACCOUNT_COLS} FROM accounts WHERE token_hash = ?")
ACCOUNT_BY_NAME = Sql(f"SELECT {ACCOUNT_COLS} FROM accounts WHERE name = ?")
ACCOUNT_BY_ID = Sql(f"SELECT {ACCOUNT_COLS} FROM accounts WHERE account_id = ?")
ACCOUNTS = Sql(f"SELECT {ACCOUNT_COLS} FROM accounts ORDER BY name")
ACCOUNT_COUNT = Sql("SELECT COUNT(*) FROM accounts")
INSERT_ACCESS_KEY = Sql("INSERT INTO access_keys (access_key_id, account_id, secret, "
                        "created_at) VALUES (?, ?, ?, ?)")
ACCESS_KEY = Sql("SELECT account_id, secret FROM access_keys WHERE access_key_id = ?")

# -- volumes (PostgreSQL's write transactions append FOR UPDATE: manifest/postgres.py) --
VOLUME = Sql(f"SELECT {VOLUME_COLS} FROM volumes WHERE volume_id = ? AND account_id = ? "
             "AND deleted_at IS NULL")
VOLUME_BY_VID = Sql(f"SELECT {VOLUME_COLS} FROM volumes WHERE vid = ?")
VOLUMES = Sql(f"SELECT {VOLUME_COLS} FROM volumes WHERE account_id = ? AND deleted_at IS NULL "
              "AND volume_id > ? ORDER BY volume_id LIMIT ?")
SET_OPEN_VERSION = Sql("UPDATE volumes SET open_version = ? WHERE vid = ?")
MARK_VOLUME_DELETED = Sql("UPDATE volumes SET deleted_at = ? WHERE vid = ?")
COUNT_DEPENDENT_CLONES = Sql(
    "SELECT COUNT(*) FROM volumes v WHERE v.source_snapshot_id = ? AND "
    "(v.deleted_at IS NULL OR EXISTS (SELECT 1 FROM snapshots s WHERE s.vid = v.vid "
    "AND s.deleted_at IS NULL))")
CLONE_VIDS = Sql("SELECT vid FROM volumes WHERE source_vid = ? ORDER BY vid")
LIVE_CLONES = Sql(f"SELECT {VOLUME_COLS} FROM volumes WHERE source_snapshot_id = ? "
                  "AND deleted_at IS NULL ORDER BY volume_id")

# -- snapshots (new ids: SQLite's lastrowid, PostgreSQL's RETURNING) ----------------------
INSERT_SNAPSHOT = Sql(
    "INSERT INTO snapshots (snapshot_id, account_id, vid, version, mode, state, progress, "
    "size_bytes, chunk_size, parent_snapshot_id, description, labels, created_at, "
    "completed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
SNAPSHOT = Sql(f"{SNAPSHOT_SELECT} WHERE s.snapshot_id = ? AND s.account_id = ? "
               "AND s.deleted_at IS NULL")
SNAPSHOT_ANY = Sql(f"{SNAPSHOT_SELECT} WHERE s.snapshot_id = ?")
VOLUME_SNAPSHOTS = Sql(f"{SNAPSHOT_SELECT} WHERE s.vid = ? AND s.deleted_at IS NULL "
                       "ORDER BY s.version")
LATEST_SNAPSHOT = Sql(f"{SNAPSHOT_SELECT} WHERE s.vid = ? AND s.deleted_at IS NULL "
                      "ORDER BY s.version DESC LIMIT 1")
PENDING_SNAPSHOTS = Sql(f"{SNAPSHOT_SELECT} WHERE s.vid = ? AND s.state = 'PENDING' "
                        "AND s.deleted_at IS NULL ORDER BY s.version")
COUNT_PENDING_SNAPSHOTS = Sql("SELECT COUNT(*) FROM snapshots WHERE account_id = ? AND "
                              "state = 'PENDING' AND deleted_at IS NULL")
UPDATE_SNAPSHOT = Sql("UPDATE snapshots SET state = ?, progress = ?, completed_at = ?, "
                      "deleted_at = ? WHERE sid = ?")
IDEMPOTENCY = Sql("SELECT fingerprint, result, created_at FROM idempotency_keys "
                  "WHERE account_id = ? AND operation = ? AND key = ?")

# -- blocks and chunks, for compaction and GC (visibility: manifest/visibility.py) -------
BLOCK_VIDS = Sql("SELECT v.vid FROM volumes v WHERE EXISTS (SELECT 1 FROM blocks b "
                 "WHERE b.vid = v.vid) ORDER BY v.vid")
READER_VERSIONS = Sql(READERS + " SELECT DISTINCT version FROM readers WHERE vid = ? "
                      "ORDER BY version")
COMPACTION_EDGE = Sql("SELECT chunk_index FROM blocks WHERE vid = ? AND chunk_index >= ? "
                      "ORDER BY chunk_index, version LIMIT 1 OFFSET ?")
COMPACTION_ROWS = Sql("SELECT chunk_index, version FROM blocks WHERE vid = ? AND "
                      "chunk_index >= ? AND chunk_index < ? ORDER BY chunk_index, version")
REFERENCED_TOKENS_AFTER = Sql("SELECT DISTINCT token FROM blocks WHERE token > ? "
                              "ORDER BY token LIMIT ?")
CHUNK_TOKENS_AFTER = Sql("SELECT token FROM chunks WHERE token > ? ORDER BY token LIMIT ?")

# -- over a set of tokens: `{one_of}` is each engine's "is one of these" ----------------
# SQLite binds `IN (?, ...)` a batch at a time (SqliteQueries._all_in), PostgreSQL one
# array parameter, `= ANY($1::bytea[])` (postgres_common.any_token). Plain templates,
# not `Sql`: their placeholders are the engine's own.
CHUNK_LENGTHS = "SELECT token, plain_length FROM chunks WHERE token {one_of}"
CHUNK_OWNERS = "SELECT token, account_id FROM account_chunks WHERE token {one_of}"
CHUNK_ROWS = ("SELECT token, plain_length, stored_length, created_at FROM chunks "
              "WHERE token {one_of}")
TOKEN_USES = ("SELECT b.token, b.vid, b.chunk_index, b.version, (SELECT MIN(n.version) "
              "FROM blocks n WHERE n.vid = b.vid AND n.chunk_index = b.chunk_index AND "
              "n.version > b.version) FROM blocks b WHERE b.token {one_of} "
              "ORDER BY b.vid, b.chunk_index, b.version")
FORGET_OWNERS = "DELETE FROM account_chunks WHERE token {one_of}"
FORGET_CHUNKS = "DELETE FROM chunks WHERE token {one_of}"

# -- the GC lease ------------------------------------------------------------------------
GC_LEASE = Sql("SELECT holder, expires_at FROM gc_lease WHERE name = ?")
DROP_GC_LEASE = Sql("DELETE FROM gc_lease WHERE name = ? AND holder = ?")

# -- store identity ------------------------------------------------------------------
STORE_IDENTITY = Sql("SELECT store_id FROM store_identity WHERE singleton = 1")
IS_EMPTY = Sql("SELECT EXISTS (SELECT 1 FROM accounts) OR EXISTS (SELECT 1 FROM volumes) "
               "OR EXISTS (SELECT 1 FROM chunks)")
RECORDS_CHUNKS = Sql("SELECT EXISTS (SELECT 1 FROM chunks)")

# -- snapshot shares -------------------------------------------------------------------
DELETE_SHARE = Sql("DELETE FROM snapshot_shares WHERE sid = ? AND account_id = ?")
SHARE = Sql("SELECT account_id, allow_export, created_at FROM snapshot_shares "
            "WHERE sid = ? AND account_id = ?")
SHARES = Sql("SELECT account_id, allow_export, created_at FROM snapshot_shares "
             "WHERE sid = ? ORDER BY account_id")
SHARED_SNAPSHOT = Sql(f"{SNAPSHOT_SELECT} JOIN snapshot_shares h ON h.sid = s.sid WHERE "
                      "s.snapshot_id = ? AND h.account_id = ? AND s.deleted_at IS NULL")

# -- volume leases -------------------------------------------------------------------
VOLUME_LEASE = Sql("SELECT holder, expires_at FROM volume_leases WHERE vid = ?")
PUT_VOLUME_LEASE = Sql("INSERT INTO volume_leases (vid, holder, expires_at) VALUES (?, ?, ?) "
                       "ON CONFLICT (vid) DO UPDATE SET holder = excluded.holder, "
                       "expires_at = excluded.expires_at")
DROP_VOLUME_LEASE = Sql("DELETE FROM volume_leases WHERE vid = ? AND holder = ?")

# -- EBS snapshot deadlines ----------------------------------------------------------
PUT_EBS_TIMEOUT = Sql("INSERT INTO ebs_timeouts (snapshot_id, account_id, timeout_us, "
                      "deadline_us) VALUES (?, ?, ?, ?)")
EBS_DEADLINE = Sql("SELECT deadline_us FROM ebs_timeouts WHERE snapshot_id = ?")
EXTEND_EBS_DEADLINE = Sql("UPDATE ebs_timeouts SET deadline_us = ? + timeout_us "
                          "WHERE snapshot_id = ?")
EXPIRED_EBS_TIMEOUTS = Sql("SELECT account_id, snapshot_id FROM ebs_timeouts WHERE "
                           "deadline_us < ? ORDER BY deadline_us LIMIT ?")
DROP_EBS_TIMEOUT = Sql("DELETE FROM ebs_timeouts WHERE snapshot_id = ?")

# -- data-plane registrations ----------------------------------------------------------
PUT_DATA_PLANE = Sql(f"INSERT INTO data_planes ({PLANE_COLS}) VALUES (?, ?, ?, ?, ?) "
                     "ON CONFLICT (process_id) DO UPDATE SET address = excluded.address, "
                     "renewed_at = excluded.renewed_at, expires_at = excluded.expires_at")
DROP_DATA_PLANE = Sql("DELETE FROM data_planes WHERE process_id = ?")
PRUNE_DATA_PLANES = Sql("DELETE FROM data_planes WHERE expires_at < ?")
LIVE_DATA_PLANES = Sql(f"SELECT {PLANE_COLS} FROM data_planes WHERE expires_at > ? "
                       "ORDER BY address, started_at")

# -- active operations and chunk releases ----------------------------------------------
START_OPERATION = Sql(f"INSERT INTO active_operations ({OPERATION_COLS}) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
RENEW_OPERATIONS = Sql("UPDATE active_operations SET expires_at = ? WHERE holder = ?")
ACTIVE_OPERATIONS = Sql(f"SELECT {OPERATION_COLS} FROM active_operations ORDER BY started_at")
PRUNE_RELEASES = Sql("DELETE FROM chunk_releases WHERE released_at < ?")
