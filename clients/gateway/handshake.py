"""NBD fixed newstyle handshake: option haggling until the client picks an export.

Rules kept: a client that does not speak fixed newstyle, sends a bad magic, an unknown
client flag or an option longer than MAX_OPTION is disconnected (nothing was exported
yet, so nothing can be half-done); a malformed known option gets NBD_REP_ERR_INVALID, an
unknown one NBD_REP_ERR_UNSUP, and the haggling goes on. Export names: the empty name
(the default export) and the volume id.
"""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass

from clients.gateway import nbdproto as p

MAX_OPTION = 8192   # an option carries at most a name (<= 4096 bytes) and a few fields


class HandshakeRefused(Exception):
    """The client broke the handshake; the connection is closed without an export."""


@dataclass(frozen=True)
class Export:
    names: frozenset[str]
    size: int
    description: str = ""


async def negotiate(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    export: Export) -> bool:
    """True when the client entered transmission; False when it aborted politely."""
    writer.write(p.HANDSHAKE.pack(p.NBDMAGIC, p.IHAVEOPT, p.FLAG_FIXED_NEWSTYLE | p.FLAG_NO_ZEROES))
    await writer.drain()
    (client_flags,) = struct.unpack(">I", await reader.readexactly(4))
    known = p.FLAG_FIXED_NEWSTYLE | p.FLAG_NO_ZEROES
    if client_flags & ~known or not client_flags & p.FLAG_FIXED_NEWSTYLE:
        raise HandshakeRefused(f"client flags {client_flags:#x} are not fixed newstyle")
    no_zeroes = bool(client_flags & p.FLAG_NO_ZEROES)
    while True:
        magic, option, length = p.OPTION_HEADER.unpack(await reader.readexactly(16))
        if magic != p.IHAVEOPT:
            raise HandshakeRefused(f"bad option magic {magic:#x}")
        if length > MAX_OPTION:
            raise HandshakeRefused(f"option {option} of {length} bytes is too long")
        data = await reader.readexactly(length)
        done = _option(writer, export, option, data, no_zeroes)
        await writer.drain()
        if done is not None:
            return done


def _option(writer, export: Export, option: int, data: bytes, no_zeroes: bool):
    """Answers one option; True/False ends the haggling, None goes on."""
    if option == p.OPT_EXPORT_NAME:
        if data.decode(errors="replace") not in export.names:
            raise HandshakeRefused("unknown export name")  # the protocol's only answer
        writer.write(struct.pack(">QH", export.size, p.TRANSMISSION_FLAGS)
                     + (b"" if no_zeroes else bytes(124)))
        return True
    if option == p.OPT_ABORT:
        _reply(writer, option, p.REP_ACK)
        return False
    if option == p.OPT_LIST:
        if data:
            _reply(writer, option, p.REP_ERR_INVALID, b"NBD_OPT_LIST takes no data")
            return None
        for name in sorted(export.names):
            raw = name.encode()
            _reply(writer, option, p.REP_SERVER, struct.pack(">I", len(raw)) + raw)
        _reply(writer, option, p.REP_ACK)
        return None
    if option in (p.OPT_INFO, p.OPT_GO):
        return _info(writer, export, option, data)
    _reply(writer, option, p.REP_ERR_UNSUP, b"option not supported")
    return None


def _info(writer, export: Export, option: int, data: bytes):
    parsed = _parse_info(data)
    if parsed is None:
        _reply(writer, option, p.REP_ERR_INVALID, b"malformed NBD_OPT_INFO/GO")
        return None
    name, requests = parsed
    if name not in export.names:
        _reply(writer, option, p.REP_ERR_UNKNOWN, b"no such export")
        return None
    _reply(writer, option, p.REP_INFO,
           p.EXPORT_INFO.pack(p.INFO_EXPORT, export.size, p.TRANSMISSION_FLAGS))
    if p.INFO_BLOCK_SIZE in requests:
        _reply(writer, option, p.REP_INFO, p.BLOCK_INFO.pack(
            p.INFO_BLOCK_SIZE, p.MIN_BLOCK, p.PREFERRED_BLOCK, p.MAX_PAYLOAD))
    _reply(writer, option, p.REP_ACK)
    return True if option == p.OPT_GO else None


def _parse_info(data: bytes) -> tuple[str, set[int]] | None:
    if len(data) < 6:
        return None
    (name_len,) = struct.unpack_from(">I", data)
    if 4 + name_len + 2 > len(data):
        return None
    name = data[4:4 + name_len]
    (count,) = struct.unpack_from(">H", data, 4 + name_len)
    rest = data[6 + name_len:]
    if len(rest) != 2 * count:
        return None
    try:
        return name.decode(), set(struct.unpack(f">{count}H", rest))
    except UnicodeDecodeError:
        return None


def _reply(writer, option: int, reply: int, payload: bytes = b"") -> None:
    writer.write(p.OPTION_REPLY.pack(p.OPT_REPLY_MAGIC, option, reply, len(payload)) + payload)
