"""`blockstore gateway`: serve a volume as a disk over NBD (see clients.gateway).

Owns the command's flags and their defaults (cache directory, intervals). Rule: it only
parses and hands over; clients/gateway/run.py assembles and runs the gateway.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from clients.commands._args import size
from clients.cli import UsageError

DEFAULT_CACHE_SIZE = 1 << 30


def register(subparsers, common) -> None:
    parser = subparsers.add_parser(
        "gateway", parents=[common], help="serve a volume as a block device over NBD",
        description="Serve a volume over NBD: reads from a local chunk cache, writes to a "
                    "durable local log, committed to the service on FLUSH/FUA.")
    parser.add_argument("--volume", required=True, help="volume id")
    parser.add_argument("--listen", default="127.0.0.1:10809", metavar="HOST:PORT",
                        help="NBD address (default %(default)s; port 0 picks a free one)")
    parser.add_argument("--cache-dir", type=Path, default=_default_cache_dir(), metavar="DIR",
                        help="chunk cache, write-back log and gateway identity "
                             "(default %(default)s)")
    parser.add_argument("--cache-size", type=size, default=DEFAULT_CACHE_SIZE, metavar="SIZE",
                        help="chunk cache bound (default 1G)")
    parser.add_argument("--json-status", type=Path, metavar="FILE",
                        help="keep FILE updated with JSON counters (also on SIGUSR1)")
    parser.add_argument("--metrics-listen", default="", metavar="HOST:PORT",
                        help="serve the same counters as Prometheus text at "
                             "http://HOST:PORT/metrics (port 0 picks a free one)")
    parser.add_argument("--shadow", type=Path, metavar="FILE",
                        help="shadow mode: FILE (an image or block device at least the "
                             "volume's size) is the disk; writes are uploaded in the background")
    parser.add_argument("--snapshot-every", type=duration, default=0.0, metavar="DURATION",
                        help="shadow mode: take a point-in-time snapshot this often "
                             "(e.g. 30s, 15m, 1h) after draining the upload queue")
    parser.add_argument("--lease-ttl", type=int, default=30, metavar="SECONDS",
                        help="writer lease TTL; a crashed gateway's volume is free after "
                             "it (default %(default)s)")
    parser.set_defaults(handler=run)


async def run(client, args) -> int:
    # Imported here: the gateway (NBD, Prometheus, HTTP) is ~40 ms of imports that
    # every other command (a restore, a volume list) would pay at start otherwise.
    from clients.gateway.basis import StaleLog
    from clients.gateway.run import CacheDirBusy, GatewayConfig, serve
    from clients.gateway.shadow import ShadowTooSmall

    host, _, port = args.listen.rpartition(":")
    config = GatewayConfig(volume_id=args.volume, host=host.strip("[]") or "127.0.0.1",
                           port=int(port), cache_dir=args.cache_dir, cache_size=args.cache_size,
                           json_status=args.json_status, lease_ttl=args.lease_ttl,
                           shadow=args.shadow, snapshot_every=args.snapshot_every,
                           metrics_listen=args.metrics_listen)
    try:
        await serve(client, config)
    except (CacheDirBusy, ShadowTooSmall, StaleLog) as err:
        raise UsageError(str(err)) from None
    except OSError as err:      # the listen address (in use, not local) or the cache dir
        raise UsageError(f"gateway cannot start: {err.strerror or err}"
                         f"{f' ({err.filename})' if err.filename else ''}") from None
    return 0


def duration(text: str) -> float:
    """`90`, `30s`, `15m`, `2h` -> seconds (positive)."""
    units = {"s": 1, "m": 60, "h": 3600}
    try:
        value = float(text[:-1]) * units[text[-1]] if text[-1:] in units else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid duration {text!r}: use e.g. 30s, 15m, 1h") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"duration {text!r} must be positive")
    return value


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "blockstore" / "gateway"
