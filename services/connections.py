"""How many connections a server process takes, and how long it keeps idle or dead ones.

Why: every HTTP/2 connection costs a file descriptor and some memory whether or not it
carries calls. Without bounds, 1,100 idle connections under a 1,024 fd limit made
open() fail for chunk files and the manifest (uploads failed with EMFILE) and made new
clients time out. So, at start:
- the soft RLIMIT_NOFILE is raised to the hard limit (nothing to lose, and the
  default soft limit of 1,024 is small for a server);
- at most `max_connections` are accepted at once (gRPC's
  `grpc.max_allowed_incoming_connections`: a connection over the quota is closed at
  once); by default the fd limit less FD_RESERVE, kept for chunk files, the manifest,
  worker threads and the metrics listener, and at most AUTO_CAP;
- a connection with no call for `max_connection_idle_s` gets GOAWAY and is closed; a
  peer that does not answer keepalive pings within KEEPALIVE_TIMEOUT_MS is dropped;
  one that never finishes its handshake is dropped after HANDSHAKE_TIMEOUT_MS; every
  connection is recycled after MAX_AGE_MS (clients reconnect by themselves), with
  AGE_GRACE_MS for the calls it still carries.
"""

from __future__ import annotations

import logging
import resource

log = logging.getLogger("blockstore.connections")
FD_RESERVE = 256
AUTO_CAP = 4096
KEEPALIVE_TIME_MS = 60_000
KEEPALIVE_TIMEOUT_MS = 20_000
HANDSHAKE_TIMEOUT_MS = 20_000
MAX_AGE_MS = 2 * 3600_000
AGE_GRACE_MS = 15 * 60_000


def raise_fd_limit() -> int:
    """Raises the soft RLIMIT_NOFILE to the hard limit; returns the soft limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft == hard:
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError) as err:
        log.warning("could not raise the open-file limit from %d to %d: %s", soft, hard, err)
        return soft
    return hard


def connection_cap(configured: int, fd_limit: int) -> int:
    """`configured` if set (> 0), else what the fd limit leaves after the reserve."""
    if configured > 0:
        return configured
    return max(16, min(AUTO_CAP, fd_limit - FD_RESERVE))


def connection_options(max_connections: int, max_idle_s: float) -> list[tuple[str, int]]:
    """gRPC server options for the bounds above (fd limit raised first)."""
    cap = connection_cap(max_connections, raise_fd_limit())
    return [("grpc.max_allowed_incoming_connections", cap),
            ("grpc.max_connection_idle_ms", int(max_idle_s * 1000)),
            ("grpc.max_connection_age_ms", MAX_AGE_MS),
            ("grpc.max_connection_age_grace_ms", AGE_GRACE_MS),
            ("grpc.keepalive_time_ms", KEEPALIVE_TIME_MS),
            ("grpc.keepalive_timeout_ms", KEEPALIVE_TIMEOUT_MS),
            ("grpc.server_handshake_timeout_ms", HANDSHAKE_TIMEOUT_MS)]
