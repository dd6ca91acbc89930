"""The `blockstore` console script.

Server and admin commands (serve, control-plane, data-plane, account, gc, verify)
live in `services`; client commands (volume, snapshot, upload, backup, download,
diff) live in `clients`, which imports no server code. This module only picks one.
"""

from __future__ import annotations

import sys

SERVER_COMMANDS = {"serve", "control-plane", "data-plane", "account", "gc", "verify"}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in SERVER_COMMANDS:
        from services.cli import main as server_main

        return server_main(argv)
    from clients.cli import main as client_main

    return client_main(argv)


if __name__ == "__main__":
    sys.exit(main())
