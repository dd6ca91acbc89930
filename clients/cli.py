"""The client half of the `blockstore` console script (volume, snapshot, and later
upload, backup, download, diff). `blockstore.cli` hands every non-server command here.

Output: human text on stdout, `--json` for scripts; one `error: CODE REASON: message`
line on stderr and a stable exit code (clients.exitcodes) on failure.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from clients import commands
from clients.aio import AsyncClient
from clients.errors import BlockstoreError
from clients.exitcodes import EPILOG, ExitCode, for_status

DEFAULT_ADDRESS = "127.0.0.1:50051"


class UsageError(Exception):
    """A problem with how the CLI was invoked, found after argparse (exit code 2)."""


def common_parser() -> argparse.ArgumentParser:
    """Flags every leaf command takes, so they may follow the subcommand."""
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("connection and output")
    group.add_argument("--address", default=os.environ.get("BLOCKSTORE_ADDRESS", DEFAULT_ADDRESS),
                       help="server HOST:PORT (env BLOCKSTORE_ADDRESS, default %(default)s)")
    group.add_argument("--token", default=os.environ.get("BLOCKSTORE_TOKEN"),
                       help="bearer token (env BLOCKSTORE_TOKEN)")
    group.add_argument("--ca", default=os.environ.get("BLOCKSTORE_CA"), metavar="PEM",
                       help="CA certificate file; enables TLS (env BLOCKSTORE_CA)")
    group.add_argument("--cert", default=os.environ.get("BLOCKSTORE_CERT"), metavar="PEM",
                       help="client certificate for mutual TLS (env BLOCKSTORE_CERT)")
    group.add_argument("--key", default=os.environ.get("BLOCKSTORE_KEY"), metavar="PEM",
                       help="client private key for mutual TLS (env BLOCKSTORE_KEY)")
    group.add_argument("--timeout", type=_positive, default=30.0, metavar="SECONDS",
                       help="deadline of each call attempt (default %(default)s)")
    group.add_argument("--json", action="store_true", help="print JSON for scripts")
    return common


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="blockstore", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Blockstore client: manage volumes and snapshots on a Blockstore server.")
    parser.add_argument("--version", action=_Version)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    common = common_parser()
    for module in commands.discover():
        module.register(subparsers, common)
    return parser


class _Version(argparse.Action):
    """`--version`, looked up only when asked: importlib.metadata is ~25 ms of CPU that
    every other command (a backup included) would pay at start."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, **kwargs) -> None:
        super().__init__(option_strings, dest, default=argparse.SUPPRESS, nargs=0,
                         help="show the program's version number and exit")

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        print(f"blockstore {version()}")
        parser.exit()


def version() -> str:
    """The installed distribution's version (pyproject.toml), never a second copy of it."""
    import importlib.metadata

    try:
        return importlib.metadata.version("blockstore")
    except importlib.metadata.PackageNotFoundError:   # run from a tree never installed
        return "unknown (not installed)"


def main(argv: list[str]) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse exits 2 on usage errors and 0 on --help
        return int(exit_.code or 0)
    try:
        return asyncio.run(_run(args))
    except UsageError as err:
        return _fail(f"error: {err}", ExitCode.USAGE)
    except BlockstoreError as err:
        return _fail(f"error: {err}", for_status(err.code))
    except BrokenPipeError:  # `blockstore volume list | head`: the reader had enough
        _silence_stdout()
        return int(ExitCode.OK)
    except KeyboardInterrupt:
        return _fail("error: interrupted", ExitCode.INTERRUPTED)
    except Exception as err:  # the one place a bug surfaces: say what, not a traceback
        return _fail(f"error: unexpected {type(err).__name__}: {err}", ExitCode.UNEXPECTED)


async def _run(args: argparse.Namespace) -> int:
    if not args.token:
        raise UsageError("no token: pass --token or set BLOCKSTORE_TOKEN")
    ca, cert, key = (_read_file(f, what) for f, what in
                     ((args.ca, "CA"), (args.cert, "certificate"), (args.key, "key")))
    if (cert or key) and not (cert and key and ca):
        raise UsageError("mutual TLS needs --ca, --cert and --key together")
    async with AsyncClient(args.address, args.token, ca_cert=ca, client_cert=cert,
                           client_key=key, timeout=args.timeout) as client:
        return int(await args.handler(client, args) or ExitCode.OK)


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def _read_file(path: str | None, what: str) -> bytes | None:
    if not path:
        return None
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as err:
        raise UsageError(f"cannot read {what} file {path}: {err.strerror}") from err


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _fail(message: str, code: ExitCode) -> int:
    print(message, file=sys.stderr)
    return int(code)
