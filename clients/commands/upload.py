"""`blockstore upload FILE (--volume ID | --create)`: write a local image into a volume.

Chunks the volume already holds at the same offset are skipped, so re-running an
interrupted upload sends only what is missing; see clients.transfer.
"""

from __future__ import annotations

from clients.commands import _args, _transfer
from clients.transfer import upload_image, volume_target

MIN_VOLUME = 1 << 20      # the smallest volume a server accepts


def register(subparsers, common) -> None:
    p = subparsers.add_parser("upload", parents=[common],
                              help="write a local image or block device into a volume",
                              description=__doc__.splitlines()[0].replace("`", ""))
    p.add_argument("file", metavar="FILE", help="image file or block device")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--volume", metavar="ID", help="the volume to write")
    where.add_argument("--create", action="store_true",
                       help="create a volume sized from FILE (rounded up to 512 bytes, "
                            "at least 1 MiB)")
    p.add_argument("--chunk-size", type=_args.size, default=0,
                   help="with --create: chunk size, power of two 64K..4M (default 1M)")
    _transfer.add_tuning(p, compress=True)
    p.set_defaults(handler=upload)


async def upload(client, args) -> None:
    size = _transfer.image_size(args.file)
    if args.create:
        volume, _ = await client.create_volume(size_bytes=volume_size_for(size),
                                               chunk_size=args.chunk_size)
    else:
        volume = await client.get_volume(args.volume)
    _transfer.check_fits(args.file, size, volume.size_bytes, f"volume {volume.volume_id}")
    vid = volume.volume_id
    with _transfer.bar(args, volume.size_bytes, "upload") as bar:
        stats = await upload_image(client, args.file, volume.size_bytes, volume.chunk_size,
                                   volume_target(vid), tuning=_transfer.tuning(args),
                                   compare_with={"volume_id": vid}, on_progress=bar.advance)
    _transfer.finish(args, stats, "uploaded", {"volume_id": vid, "created": args.create}, vid)


def volume_size_for(image_size: int) -> int:
    """The image's size rounded up to 512 bytes, and to the server's 1 MiB minimum."""
    return max(MIN_VOLUME, -(-image_size // 512) * 512)
