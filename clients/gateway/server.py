"""NBD transmission phase: requests in, simple replies out, many connections at once.

Rules kept:
- a request is checked in full (magic, command, flags, range, length) before the disk
  sees it, and a WRITE's payload is read completely first: a client that disconnects
  mid-payload leaves nothing applied;
- a bad request gets the protocol's errno (EINVAL, ENOSPC past the end of a write,
  ENOTSUP) and the connection goes on; only a request that leaves the stream unreadable
  (bad magic, a WRITE longer than MAX_PAYLOAD) closes it;
- requests of one connection run concurrently (up to MAX_IN_FLIGHT), replies go out as
  each finishes (cookies match them up); one connection failing never touches another;
- DISC waits for the connection's requests in flight, then closes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from clients.gateway import nbdproto as p
from clients.gateway.disk import Disk, DiskError
from clients.gateway.handshake import Export, HandshakeRefused, negotiate

log = logging.getLogger("blockstore.gateway")
MAX_IN_FLIGHT = 64
DRAIN_ABOVE = 4 << 20     # wait for a slow reader only once this much is queued
_NO_DATA = b""


class NbdServer:
    """Serves one `Disk` as one export on a listening socket."""

    def __init__(self, disk: Disk, export: Export) -> None:
        self.disk, self.export = disk, export
        self._server: asyncio.base_events.Server | None = None
        self._connections: set[asyncio.Task] = set()

    async def start(self, host: str, port: int) -> tuple[str, int]:
        self._server = await asyncio.start_server(self._connection, host, port)
        return self._server.sockets[0].getsockname()[:2]

    async def close(self) -> None:
        if self._server:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections.add(asyncio.current_task())
        try:
            if await negotiate(reader, writer, self.export):
                await Transmission(self.disk, self.export.size, reader, writer).run()
        except HandshakeRefused as err:
            log.info("nbd: handshake refused: %s", err)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the client went away; nothing half-done stays behind
        finally:
            self._connections.discard(asyncio.current_task())
            writer.close()


class Transmission:
    def __init__(self, disk: Disk, size: int, reader, writer) -> None:
        self.disk, self.size, self.reader, self.writer = disk, size, reader, writer
        self._slots = asyncio.Semaphore(MAX_IN_FLIGHT)
        self._tasks: set[asyncio.Task] = set()

    async def run(self) -> None:
        try:
            while await self._one():
                pass
        finally:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _one(self) -> bool:
        header = await self.reader.readexactly(p.REQUEST.size)
        magic, flags, cmd, cookie, offset, length = p.REQUEST.unpack(header)
        if magic != p.REQUEST_MAGIC:
            log.info("nbd: bad request magic %#x; closing the connection", magic)
            return False
        payload = _NO_DATA
        if cmd == p.CMD_WRITE:
            if length > p.MAX_PAYLOAD:
                log.info("nbd: WRITE of %d bytes is over the maximum; closing", length)
                return False
            payload = await self.reader.readexactly(length)
        if cmd == p.CMD_DISC:
            return False
        error = check(cmd, flags, offset, length, self.size)
        if error:
            self._reply(cookie, error)
            return True
        if cmd == p.CMD_READ and self._read_now(cookie, offset, length):
            if self.writer.transport.get_write_buffer_size() > DRAIN_ABOVE:
                await self.writer.drain()    # a client that does not read its replies
            return True
        await self._slots.acquire()
        task = asyncio.create_task(self._serve(cmd, flags, cookie, offset, length, payload))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def _serve(self, cmd, flags, cookie, offset, length, payload) -> None:
        try:
            data = await _dispatch(self.disk, cmd, bool(flags & p.CMD_FLAG_FUA), offset, length, payload)
            self._reply(cookie, 0, data)
        except DiskError as err:
            log.warning("nbd: command %d at %d+%d failed: %s", cmd, offset, length, err)
            self._reply(cookie, err.errno)
        except Exception:
            log.exception("nbd: command %d at %d+%d failed", cmd, offset, length)
            self._reply(cookie, p.EIO)
        finally:
            self._slots.release()
        if self.writer.transport.get_write_buffer_size() > DRAIN_ABOVE:
            try:
                await self.writer.drain()
            except ConnectionError:
                pass

    def _read_now(self, cookie: int, offset: int, length: int) -> bool:
        """Answers a READ whose bytes are at hand without a task (the warm-cache path)."""
        try:
            data = self.disk.read_now(offset, length)
        except Exception:
            return False            # the scheduled path reports the error properly
        if data is None:
            return False
        self._reply(cookie, 0, data)
        return True

    def _reply(self, cookie: int, error: int, data: bytes = _NO_DATA) -> None:
        if not self.writer.is_closing():
            self.writer.write(p.SIMPLE_REPLY.pack(p.SIMPLE_REPLY_MAGIC, error, cookie) + data)


def check(cmd: int, flags: int, offset: int, length: int, size: int) -> int:
    """The errno a request gets before it reaches the disk, or 0 if it may go ahead."""
    allowed = p.ALLOWED_FLAGS.get(cmd)
    if allowed is None:
        return p.EINVAL
    if flags & ~allowed:
        return p.EINVAL
    if cmd == p.CMD_FLUSH:
        return p.EINVAL if offset or length else 0
    if cmd == p.CMD_READ and length > p.MAX_PAYLOAD:
        return p.EINVAL
    if offset + length > size:
        return p.ENOSPC if cmd in (p.CMD_WRITE, p.CMD_WRITE_ZEROES) else p.EINVAL
    return 0


_HANDLERS: dict[int, Callable] = {
    p.CMD_READ: lambda d, fua, o, n, data: d.read(o, n),
    p.CMD_WRITE: lambda d, fua, o, n, data: d.write(o, data, fua),
    p.CMD_FLUSH: lambda d, fua, o, n, data: d.flush(),
    p.CMD_TRIM: lambda d, fua, o, n, data: d.zero(o, n, fua),
    p.CMD_WRITE_ZEROES: lambda d, fua, o, n, data: d.zero(o, n, fua),
}


async def _dispatch(disk: Disk, cmd: int, fua: bool, offset: int, length: int,
                    payload: bytes) -> bytes:
    result = await _HANDLERS[cmd](disk, fua, offset, length, payload)
    return result if cmd == p.CMD_READ else _NO_DATA
