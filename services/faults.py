"""Faults that are not domain errors (OS, SQLite, PostgreSQL, S3, bugs) made domain errors.

Every error a client can see carries a status code and an ErrorInfo reason, and no
message a client sees names a server path: `OSError` and `sqlite3` messages do (a
full disk said "[Errno 28] No space left on device: '/srv/.../chunks/ab/...'", the S3
client names the endpoint and the object key), so
they are replaced here by a message naming only the call, and the original goes to
the server log. The edge interceptor (services/auth.py) applies this to whatever a
handler raises.
"""

from __future__ import annotations

import errno
import logging
import sqlite3

import asyncpg

from blockstore import errors as e
from chunkstore.open import STORE_ERRORS

log = logging.getLogger("blockstore.faults")
FULL_RETRY_S = 30.0
BUSY_RETRY_S = 2.0
DEPENDENCY_RETRY_S = 1.0
# PostgreSQL gone or going (a restart, a failover, a dropped connection): retry later.
_PG_GONE = (asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError,
            asyncpg.AdminShutdownError, asyncpg.CrashShutdownError,
            asyncpg.ConnectionDoesNotExistError)
_CORRUPT = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}
_BUSY = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}
_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
_FD_ERRNOS = {errno.EMFILE, errno.ENFILE}
# PostgreSQL SQLSTATEs that clear by waiting: connection exceptions (08), transaction
# rollbacks such as deadlock and serialization victims (40), insufficient resources
# such as too many connections (53, but disk full is 53100), lock not available (55P03),
# shutting down, crash shutdown, cannot connect now (57P01-3).
_PG_BUSY_CLASSES = {"08", "40", "53"}
_PG_BUSY = {"55P03", "57P01", "57P02", "57P03"}
_PG_CORRUPT = {"XX001", "XX002"}
_PG_FULL = "53100"


def storage_full(what: str) -> e.StorageFull:
    return e.StorageFull(f"{what} refused: the server's storage is full or under its "
                         "free-space reserve; delete volumes or snapshots and collect "
                         "garbage, or add space", retry_after_s=FULL_RETRY_S)


def _closed_connection(exc: Exception) -> bool:
    """A pooled connection the database closed or broke under us (a restart): asyncpg
    raises a plain InterfaceError ("connection is closed") or an InternalClientError
    ("cannot switch to state ...") for it, not a connection error."""
    return (isinstance(exc, asyncpg.InterfaceError) and "closed" in str(exc)) \
        or isinstance(exc, asyncpg.InternalClientError)


def domain_error(exc: Exception, what: str) -> e.BlockstoreError:
    """The domain error a client should see for `exc`, raised while serving `what`."""
    if isinstance(exc, e.BlockstoreError):
        return exc
    if isinstance(exc, sqlite3.Error):
        err = _sqlite(exc, what)
    elif isinstance(exc, (*_PG_GONE, ConnectionError)) or _closed_connection(exc):
        err = e.ManifestUnavailable(f"{what} failed: the manifest database is unreachable; "
                                    "nothing was committed, retry",
                                    retry_after_s=DEPENDENCY_RETRY_S)
    elif isinstance(exc, asyncpg.PostgresError):
        err = _postgres(exc, what)
    elif isinstance(exc, STORE_ERRORS):
        # Endpoint down, 5xx, credentials refused: the chunk store is not available to
        # this process right now; the message names no endpoint, bucket or key.
        err = e.ChunkStoreUnavailable(f"{what} failed: the chunk store did not answer; "
                                      "nothing was committed, retry",
                                      retry_after_s=DEPENDENCY_RETRY_S)
    elif isinstance(exc, OSError):
        err = _os(exc, what)
    else:
        err = e.InternalError(f"internal error while serving {what}; the server log has "
                              "the details")
    if isinstance(err, (e.ResourceExhausted, e.DependencyUnavailable)):
        log.warning("%s: %s (%s)", what, err.reason, exc)
    else:
        log.error("%s failed: %s", what, err.reason, exc_info=exc)
    return err


def _sqlite(exc: sqlite3.Error, what: str) -> e.BlockstoreError:
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if code is not None else None
    if primary == sqlite3.SQLITE_FULL:
        return storage_full(what)
    if primary in _CORRUPT or "decode" in str(exc).lower():
        return e.ManifestCorrupt(f"{what} failed: the manifest database is damaged; run "
                                 "`blockstore verify` on the server")
    if primary in _BUSY:
        return e.ServerOverloaded(f"{what} failed: the manifest database stayed locked; "
                                  "retry later", retry_after_s=BUSY_RETRY_S)
    if primary == sqlite3.SQLITE_IOERR:
        return e.StorageIOError(f"{what} failed: the manifest database had an I/O error")
    return e.InternalError(f"internal manifest error while serving {what}; the server log "
                           "has the details")


def _postgres(exc: asyncpg.PostgresError, what: str) -> e.BlockstoreError:
    state = getattr(exc, "sqlstate", None) or ""
    if state == _PG_FULL:
        return storage_full(what)
    if state in _PG_CORRUPT:
        return e.ManifestCorrupt(f"{what} failed: the manifest database is damaged; run "
                                 "`blockstore verify` on the server")
    if state[:2] in _PG_BUSY_CLASSES or state in _PG_BUSY:
        return e.ServerOverloaded(f"{what} failed: the manifest database is busy or "
                                  "restarting; retry later", retry_after_s=BUSY_RETRY_S)
    return e.InternalError(f"internal manifest error while serving {what}; the server log "
                           "has the details")


def _os(exc: OSError, what: str) -> e.BlockstoreError:
    if exc.errno in _FULL_ERRNOS:
        return storage_full(what)
    if exc.errno in _FD_ERRNOS:
        return e.ServerOverloaded(f"{what} failed: the server is out of file descriptors; "
                                  "retry later", retry_after_s=BUSY_RETRY_S)
    name = errno.errorcode.get(exc.errno or 0, "unknown error")
    return e.StorageIOError(f"{what} failed: storage I/O error ({name})")
