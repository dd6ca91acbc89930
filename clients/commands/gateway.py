"""`blockstore gateway`: serve a volume as a disk over NBD (see clients.gateway)."""

from __future__ import annotations

import os
from pathlib import Path

from clients.commands._args import size
from clients.gateway.run import GatewayConfig, serve

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
    parser.add_argument("--lease-ttl", type=int, default=30, metavar="SECONDS",
                        help="writer lease TTL; a crashed gateway's volume is free after "
                             "it (default %(default)s)")
    parser.set_defaults(handler=run)


async def run(client, args) -> int:
    host, _, port = args.listen.rpartition(":")
    config = GatewayConfig(volume_id=args.volume, host=host.strip("[]") or "127.0.0.1",
                           port=int(port), cache_dir=args.cache_dir, cache_size=args.cache_size,
                           json_status=args.json_status, lease_ttl=args.lease_ttl)
    await serve(client, config)
    return 0


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "blockstore" / "gateway"
