"""Names of the processes that hold something in the manifest (the maintenance lease,
active operations): "host:pid:nonce", so that a holder which died on this host can be
recognised at once instead of waiting for its expiry.

Owns `new_holder` and `holder_is_dead`. Rule: only a holder of this host is judged dead
at once (its pid is gone); one of another host is left to its expiry.
"""

from __future__ import annotations

import os
import secrets
import socket


def new_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def holder_is_dead(holder: str) -> bool:
    """True only when the holder provably ran on this host and its process is gone."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
