"""A deliberately simple NBD client on a raw socket, for tests that must send what a
well-behaved client never would (garbage, past-end requests, short payloads)."""

from __future__ import annotations

import socket
import struct

from clients.gateway import nbdproto as p


class RawNbd:
    def __init__(self, host: str, port: int, timeout: float = 30.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)

    def close(self) -> None:
        self.sock.close()

    def recv_exact(self, n: int) -> bytes:
        out = bytearray()
        while len(out) < n:
            got = self.sock.recv(n - len(out))
            if not got:
                raise EOFError(f"connection closed after {len(out)} of {n} bytes")
            out += got
        return bytes(out)

    def closed_by_server(self) -> bool:
        """True once the server has closed the connection (reads EOF)."""
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True

    # --- handshake
    def greeting(self) -> int:
        magic, opt, flags = p.HANDSHAKE.unpack(self.recv_exact(p.HANDSHAKE.size))
        assert (magic, opt) == (p.NBDMAGIC, p.IHAVEOPT)
        return flags

    def option(self, option: int, data: bytes = b"") -> None:
        self.sock.sendall(p.OPTION_HEADER.pack(p.IHAVEOPT, option, len(data)) + data)

    def option_reply(self) -> tuple[int, int, bytes]:
        magic, option, reply, length = p.OPTION_REPLY.unpack(self.recv_exact(p.OPTION_REPLY.size))
        assert magic == p.OPT_REPLY_MAGIC
        return option, reply, self.recv_exact(length)

    def go(self, name: str = "") -> int:
        """Fixed newstyle + NBD_OPT_GO; returns the export size."""
        self.greeting()
        self.sock.sendall(struct.pack(">I", p.FLAG_FIXED_NEWSTYLE | p.FLAG_NO_ZEROES))
        raw = name.encode()
        self.option(p.OPT_GO, struct.pack(">I", len(raw)) + raw + struct.pack(">H", 0))
        size = None
        while True:
            _, reply, data = self.option_reply()
            if reply == p.REP_INFO and struct.unpack_from(">H", data)[0] == p.INFO_EXPORT:
                size = p.EXPORT_INFO.unpack(data)[1]
            elif reply == p.REP_ACK:
                return size
            else:
                raise AssertionError(f"NBD_OPT_GO answered {reply:#x}")

    # --- transmission
    def request(self, cmd: int, offset: int = 0, length: int = 0, data: bytes = b"",
                flags: int = 0, cookie: int = 1) -> None:
        self.sock.sendall(p.REQUEST.pack(p.REQUEST_MAGIC, flags, cmd, cookie, offset, length) + data)

    def reply(self, read_length: int = 0) -> tuple[int, int, bytes]:
        """(errno, cookie, data); data only for a successful READ of `read_length`."""
        magic, error, cookie = p.SIMPLE_REPLY.unpack(self.recv_exact(p.SIMPLE_REPLY.size))
        assert magic == p.SIMPLE_REPLY_MAGIC
        return error, cookie, self.recv_exact(read_length) if read_length and not error else b""

    def call(self, cmd: int, offset: int = 0, length: int = 0, data: bytes = b"",
             flags: int = 0) -> tuple[int, bytes]:
        self.request(cmd, offset, length, data, flags)
        error, _, payload = self.reply(length if cmd == p.CMD_READ else 0)
        return error, payload
