"""The `blockstore` console script.

Server and admin commands (serve, control-plane, data-plane, account, gc, verify)
live in `services`; client commands (volume, snapshot, upload, backup, download,
diff) live in `clients`, which imports no server code; `completion` (blockstore.completion)
knows both. This module only picks one.
"""

from __future__ import annotations

import sys

SERVER_COMMANDS = {"serve", "control-plane", "data-plane", "account", "gc", "verify"}

SERVER_HELP = """
server and admin commands (each takes --help):
    serve          both planes in one process on embedded defaults (--data-dir, --listen)
    control-plane  ControlPlaneService only (--db)
    data-plane     DataPlaneService only (--db, --chunks)
    account        account create NAME: a new account and its bearer token
    gc             free the space of deleted volumes and snapshots
    verify         re-read every chunk, report and quarantine bad ones
    completion     completion bash|zsh: a shell completion script
"""


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "completion":
        from blockstore.completion import main as completion_main

        return completion_main(argv[1:])
    if argv and argv[0] in SERVER_COMMANDS:
        from services.cli import main as server_main

        return server_main(argv)
    from clients.cli import main as client_main

    if not argv or argv[0] in ("-h", "--help"):
        code = _exit_code(client_main, argv)
        print(SERVER_HELP, file=sys.stdout if argv else sys.stderr)
        return code
    return client_main(argv)


def _exit_code(fn, argv: list[str]) -> int:
    try:
        return fn(argv)
    except SystemExit as done:          # argparse exits after --help and usage errors
        return done.code if isinstance(done.code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
