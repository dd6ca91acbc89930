"""Server and admin commands of the `blockstore` console script.

    blockstore serve [--data-dir DIR | --db URL --chunks URL] [--listen HOST:PORT] [--init]
        [--advertise HOST:PORT] [--ebs-listen HOST:PORT [--ebs-plain-http]]  both planes
    (every server command also takes --config FILE, --print-config, --metrics-listen,
     --log-format; gc and verify take --config FILE for the stores, --print-config)
    blockstore control-plane --db URL [--listen HOST:PORT]
    blockstore data-plane --db URL --chunks URL [--listen HOST:PORT] [--init]
        [--advertise HOST:PORT] [--ebs-listen HOST:PORT [--ebs-plain-http]]
        (clients find it: discovery)
    blockstore account create NAME (--data-dir DIR | --db URL) [--json]
    blockstore account list (--data-dir DIR | --db URL) [--json]
    blockstore gc (--data-dir DIR | --db URL --chunks URL) [--grace SECONDS] [--json]
    blockstore verify (--data-dir DIR | --db URL --chunks URL) [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

from blockstore.clock import RandomIds, SystemClock
from clients.sizes import parse_size
from blockstore.errors import BlockstoreError
from blockstore.malloc import reuse_freed_buffers
from manifest import ManifestStore, open_manifest
from manifest.open import DB_ERRORS, check_db_url
from chunkstore.open import check_chunks_url
from services import gc_cli, server
from services.accounts import create_account_with_key, has_accounts, list_accounts
from services.config import ServerConfig, TlsConfig, check_tls_files, default_urls
from services.configfile import flags_given, setting_names, settings_defaults
from services import printconfig
from services.identity import StoreRefused
from services.logformat import FORMATS, configure_logging

DEFAULT_LISTEN = "127.0.0.1:50051"
DEFAULT_DATA_DIR = Path("./data")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# gc and verify may read a server's --config file and BLOCKSTORE_* environment, so they
# pair with the very stores the server uses; only these settings are theirs (the server's
# `gc-grace` is gc's `--grace`), the server's other keys are skipped, unknown keys refused.
STORE_SETTINGS = {"data_dir": "data_dir", "db": "db", "chunks": "chunks"}
MAINTENANCE_SETTINGS = {"gc": {**STORE_SETTINGS, "gc_grace": "grace"},
                        "verify": STORE_SETTINGS}


def _add_common(p: argparse.ArgumentParser, *, chunks: bool) -> None:
    p.add_argument("--data-dir", type=Path, help="embedded defaults live here "
                   "(manifest.db, chunks/); default ./data")
    p.add_argument("--db", help="manifest database URL: sqlite:///path or "
                   "postgresql://USER[:PASSWORD]@HOST:PORT/DBNAME")
    if chunks:
        p.add_argument("--chunks", help="chunk store URL: file:///path or "
                       "s3://BUCKET[/PREFIX]?endpoint=http://HOST:PORT[&region=REGION]")
        p.add_argument("--init", action="store_true",
                       help="start afresh: bind the chunk store to a new, empty manifest "
                            "even though it holds another store's chunks (they become "
                            "garbage); without it such a start is refused")
        p.add_argument("--no-fsync", action="store_true",
                       help="skip fsync of chunk files (benchmarks only: not durable)")
        p.add_argument("--gc-interval", type=float, default=0.0,
                       help="run garbage collection every SECONDS (0: never, the default)")
        p.add_argument("--gc-grace", type=float, default=3600.0,
                       help="GC keeps unreferenced chunks seen within SECONDS (for dedup); "
                            "chunks running streams use are kept regardless")
        p.add_argument("--max-upload-streams-per-account", type=int, default=16,
                       help="concurrent UploadBlocks streams per account on this process")
        p.add_argument("--max-upload-streams", type=int, default=64,
                       help="concurrent UploadBlocks streams on this process, all accounts "
                            "(bounds upload memory)")
        p.add_argument("--stream-idle-timeout", type=float, default=30.0,
                       help="an UploadBlocks stream silent for SECONDS is closed")
        p.add_argument("--upload-memory", type=parse_size, default=96 << 20, metavar="SIZE",
                       help="block data all upload streams of this process hold at once "
                            "(a stream over it waits); default 96M")
        p.add_argument("--max-blocks-per-stream", type=int, default=32_768, metavar="N",
                       help="blocks one UploadBlocks stream may carry (STREAM_TOO_LONG "
                            "beyond); default 32768")
        p.add_argument("--max-download-chunks", type=int, default=1 << 20, metavar="N",
                       help="chunk positions one DownloadBlocks call may span "
                            "(DOWNLOAD_TOO_LARGE beyond); default 1048576")
        p.add_argument("--advertise", default="", metavar="HOST:PORT",
                       help="register this data plane in the manifest so clients given only "
                            "the control plane's address find it and dial HOST:PORT; "
                            "`serve` advertises its own listen address when it is not a "
                            "wildcard (docs/data-plane.md)")
        p.add_argument("--advertise-ttl", type=float, default=15.0, metavar="SECONDS",
                       help="the registration expires SECONDS after its last renewal "
                            "(renewed every third of it); default 15")
        p.add_argument("--ebs-listen", default="",
                       help="serve the EBS direct APIs (SigV4, service ebs) on HOST:PORT "
                            "(port 0: pick one): HTTPS with the --tls-* files when given, "
                            "else plain HTTP, on loopback only; docs/ebs.md")
        p.add_argument("--ebs-plain-http", action="store_true",
                       help="serve EBS direct over plain HTTP even with --tls-* or off "
                            "loopback (only behind a TLS proxy); docs/ebs.md")
    p.add_argument("--max-pending-snapshots-per-account", type=int, default=64,
                   help="snapshots one account may have pending at once")
    p.add_argument("--min-free", type=parse_size, default=64 << 20,
                   help="refuse new writes (STORAGE_FULL) while a local store has less free "
                        "space than SIZE, so deletes and GC always have room; default 64M")
    p.add_argument("--max-connections", type=int, default=0,
                   help="connections accepted at once (0: the open-file limit less a reserve, "
                        "at most 4096)")
    p.add_argument("--max-connection-idle", type=float, default=300.0,
                   help="close a connection that carried no call for SECONDS")
    p.add_argument("--listen", default=DEFAULT_LISTEN, help="HOST:PORT (port 0: pick one)")
    p.add_argument("--grace", type=float, default=10.0,
                   help="seconds in-flight calls get to finish on SIGTERM")
    p.add_argument("--tls-cert", type=Path)
    p.add_argument("--tls-key", type=Path)
    p.add_argument("--tls-client-ca", type=Path, help="require client certificates (mTLS)")
    p.add_argument("--log-level", default="INFO", type=str.upper, choices=LOG_LEVELS)
    p.add_argument("--log-format", default="text", choices=FORMATS,
                   help="text (default) or json: one JSON object per line")
    p.add_argument("--metrics-listen", default="",
                   help="serve Prometheus metrics at http://HOST:PORT/metrics (port 0: pick)")
    p.add_argument("--config", type=Path,
                   help="TOML file of settings (keys are the long flag names); the "
                        "environment (BLOCKSTORE_<FLAG>) and flags override it")
    p.add_argument("--print-config", nargs="?", const="toml", choices=printconfig.FORMATS,
                   help="print the effective settings (toml, the default, or json), each "
                        "with its source, secrets masked, and exit")


SERVER_COMMANDS = {"serve": ("both planes in one process", True),
                   "control-plane": ("ControlPlaneService only", False),
                   "data-plane": ("DataPlaneService only", True)}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="blockstore")
    add_commands(parser.add_subparsers(dest="command", required=True))
    return parser


def add_commands(sub: argparse._SubParsersAction) -> None:
    """The server and admin commands (also put beside the client's for shell completion)."""
    for name, (text, chunks) in SERVER_COMMANDS.items():
        _add_common(sub.add_parser(name, help=text), chunks=chunks)
    account = sub.add_parser("account", help="manage accounts").add_subparsers(
        dest="account_command", required=True)
    create = account.add_parser("create", help="create an account and print its token")
    create.add_argument("name")
    create.add_argument("--data-dir", type=Path)
    create.add_argument("--db")
    create.add_argument("--json", action="store_true")
    listing = account.add_parser("list", help="account ids and names (to share snapshots)")
    listing.add_argument("--data-dir", type=Path)
    listing.add_argument("--db")
    listing.add_argument("--json", action="store_true")
    gc_cli.add_parsers(sub)


def _urls(args: argparse.Namespace) -> tuple[str, str]:
    db, chunks = default_urls(args.data_dir or DEFAULT_DATA_DIR)
    return args.db or db, getattr(args, "chunks", None) or chunks


def _server_config(args: argparse.Namespace) -> ServerConfig:
    db, chunks = _urls(args)
    planes = {"serve": {"control", "data"}, "control-plane": {"control"},
              "data-plane": {"data"}}[args.command]
    if bool(args.tls_cert) != bool(args.tls_key):
        raise ValueError("--tls-cert and --tls-key go together")
    tls = TlsConfig(args.tls_cert, args.tls_key, args.tls_client_ca) if args.tls_cert else None
    return ServerConfig(listen=args.listen, db_url=db, chunks_url=chunks if "data" in planes
                        else "", planes=frozenset(planes), fsync=not getattr(
                            args, "no_fsync", False), grace_s=args.grace, tls=tls,
                        gc_interval_s=getattr(args, "gc_interval", 0.0),
                        gc_grace_s=getattr(args, "gc_grace", 3600.0),
                        max_upload_streams_per_account=getattr(
                            args, "max_upload_streams_per_account", 16),
                        max_upload_streams=getattr(args, "max_upload_streams", 64),
                        init=getattr(args, "init", False),
                        stream_idle_timeout_s=getattr(args, "stream_idle_timeout", 30.0),
                        upload_memory_bytes=getattr(args, "upload_memory", 96 << 20),
                        max_blocks_per_stream=getattr(args, "max_blocks_per_stream", 32_768),
                        max_download_chunks=getattr(args, "max_download_chunks", 1 << 20),
                        min_free_bytes=args.min_free, max_connections=args.max_connections,
                        max_connection_idle_s=args.max_connection_idle,
                        max_pending_snapshots_per_account=args.max_pending_snapshots_per_account,
                        metrics_listen=args.metrics_listen,
                        ebs_listen=getattr(args, "ebs_listen", ""),
                        ebs_plain_http=getattr(args, "ebs_plain_http", False),
                        advertise=getattr(args, "advertise", ""),
                        advertise_ttl_s=getattr(args, "advertise_ttl", 15.0))


async def _first_start_banner(store: ManifestStore) -> str | None:
    """On first start of `serve`, create an account and say how to use its token."""
    if await has_accounts(store):
        return None
    account, token, key = await create_account_with_key(store, "default", SystemClock(),
                                                        RandomIds())
    return (f"blockstore: created account {account.name} ({account.account_id}); its token "
            "is shown only now:\n"
            f"  export BLOCKSTORE_TOKEN={token}\n"
            "  blockstore volume create --size 1G\n"
            "  and its EBS direct access key (docs/ebs.md):\n"
            f"  export AWS_ACCESS_KEY_ID={key.access_key_id}\n"
            f"  export AWS_SECRET_ACCESS_KEY={key.secret_access_key}")


async def _serve(args: argparse.Namespace) -> None:
    config = _server_config(args)
    check_tls_files(config.tls)
    await server.serve_forever(config, _first_start_banner if args.command == "serve"
                               else None)


async def _account_create(args: argparse.Namespace) -> None:
    store = await open_manifest(_urls(args)[0])
    try:
        account, token, key = await create_account_with_key(store, args.name, SystemClock(),
                                                            RandomIds())
    finally:
        await store.close()
    if args.json:
        print(json.dumps({"account_id": account.account_id, "name": account.name,
                          "token": token, "access_key_id": key.access_key_id,
                          "secret_access_key": key.secret_access_key}))
    else:
        print(f"account {account.name} ({account.account_id})\n"
              f"token (shown only now): {token}\n"
              f"  export BLOCKSTORE_TOKEN={token}\n"
              f"EBS direct access key (shown only now):\n"
              f"  export AWS_ACCESS_KEY_ID={key.access_key_id}\n"
              f"  export AWS_SECRET_ACCESS_KEY={key.secret_access_key}")


async def _account_list(args: argparse.Namespace) -> None:
    store = await open_manifest(_urls(args)[0])
    try:
        accounts = await list_accounts(store)
    finally:
        await store.close()
    if args.json:
        print(json.dumps([{"account_id": a.account_id, "name": a.name,
                           "created_at": a.created_at} for a in accounts]))
        return
    width = max([len(a.account_id) for a in accounts] + [len("ACCOUNT ID")])
    print(f"{'ACCOUNT ID':<{width}}  NAME")
    for a in accounts:
        print(f"{a.account_id:<{width}}  {a.name}")


def _check_maintenance(args: argparse.Namespace) -> None:
    if not args.data_dir and not (args.db and args.chunks):
        raise ValueError(f"{args.command} needs --data-dir, or both --db and --chunks (a "
                         "chunk store swept against the wrong database loses data)")
    db, chunks = _urls(args)
    check_db_url(db)
    check_chunks_url(chunks)


async def _maintenance(args: argparse.Namespace) -> int:
    _check_maintenance(args)
    run = gc_cli.run_gc if args.command == "gc" else gc_cli.run_verify
    return await run(args, _urls(args))


def _parse(argv: list[str]) -> argparse.Namespace:
    """Flags, over BLOCKSTORE_* environment variables, over --config, over defaults.

    `args.settings` maps each setting name to its dest, `args.sources` a dest to where its
    value came from (a dest missing there has its default)."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command not in SERVER_COMMANDS and args.command not in MAINTENANCE_SETTINGS:
        return args
    sub = _sub(parser, args.command)
    names = MAINTENANCE_SETTINGS.get(args.command) or setting_names(sub)
    # One file may serve every process of a deployment: another command's keys are skipped.
    server_names = setting_names(_sub(parser, "serve")).keys()
    found = settings_defaults(sub, args.config, names=names,
                              ignored=frozenset(server_names - names.keys()))
    sub.set_defaults(**found.values)
    args = parser.parse_args(argv)
    given = flags_given(_sub(_parser(), args.command), argv[1:])
    args.settings = names
    args.sources = {**found.sources, **{dest: "command line" for dest in given}}
    return args


def _sub(parser: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser:
    return parser._subparsers._group_actions[0].choices[command]


def _print_config(args: argparse.Namespace) -> None:
    """Checks the settings as a start would (without opening stores), then prints them."""
    if args.command in SERVER_COMMANDS:
        config = _server_config(args)
        notes = ["TLS files are opened at start, not by --print-config"] if config.tls else []
        if config.ebs_listen:
            scheme = "https (the --tls-* files)" if config.ebs_https else "plain http"
            notes.append(f"EBS direct on {config.ebs_listen}: {scheme}")
    else:
        _check_maintenance(args)
        notes = []
    db, chunks = _urls(args)
    notes.append(f"manifest database in use: {printconfig.mask('db', db)}")
    if args.command != "control-plane":
        notes.append(f"chunk store in use: {chunks}")
    if chunks.startswith("s3:"):
        notes.append("S3 credentials from the environment: " + ", ".join(
            f"{name} {'set' if os.environ.get(name) else 'NOT SET'}"
            for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")))
    rows = printconfig.effective(args, args.settings, args.sources)
    print(printconfig.render(args.command, rows, args.print_config, notes))


def main(argv: list[str]) -> int:
    try:
        args = _parse(argv)
        if getattr(args, "print_config", None):
            _print_config(args)
            return 0
        configure_logging(getattr(args, "log_level", "WARNING"),
                          getattr(args, "log_format", "text"))
    except ValueError as err:
        print(f"blockstore: error: {err}", file=sys.stderr)
        return 2
    reuse_freed_buffers(64 << 20, arenas=2)   # servers, gc and verify move chunk-sized buffers
    try:
        if args.command == "account":
            asyncio.run(_account_create(args) if args.account_command == "create"
                        else _account_list(args))
        elif args.command in ("gc", "verify"):
            return asyncio.run(_maintenance(args))
        else:
            asyncio.run(_serve(args))
    except StoreRefused as err:
        print(f"blockstore: error: {err}", file=sys.stderr)
        return 2
    except (BlockstoreError, ValueError) as err:
        print(f"blockstore: error: {err}", file=sys.stderr)
        return 2
    except (OSError, RuntimeError, *DB_ERRORS) as err:
        # A port already in use (gRPC raises RuntimeError), an unreadable data directory,
        # a database locked for longer than the busy timeout: one line, not a traceback.
        print(f"blockstore: error: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
