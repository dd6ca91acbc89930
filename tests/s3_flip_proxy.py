"""A loopback TCP proxy in front of an S3 endpoint that flips one byte in the body of
every PUT whose path contains `marker`: what a faulty NIC, cable or middlebox does to
bytes on their way to the object store (tests/chunkstore/test_s3_integrity.py).

HTTP/1.1 requests with a Content-Length body (what the S3 client sends) are parsed one
after another on each connection; responses are copied back untouched.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import AsyncIterator


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(1 << 16):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def _requests(client: asyncio.StreamReader, upstream: asyncio.StreamWriter,
                    marker: bytes, flipped: list[bytes]) -> None:
    try:
        while head := await client.readuntil(b"\r\n\r\n"):
            lines = head.split(b"\r\n")
            length = next((int(line.split(b":", 1)[1]) for line in lines
                           if line.lower().startswith(b"content-length:")), 0)
            body = bytearray(await client.readexactly(length))
            method, path = lines[0].split(b" ")[:2]
            if method == b"PUT" and marker in path and body:
                body[len(body) // 2] ^= 0x01
                flipped.append(path)
            upstream.write(head + bytes(body))
            await upstream.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        upstream.close()


@asynccontextmanager
async def flipping_proxy(port: int, marker: bytes) -> AsyncIterator[tuple[int, list[bytes]]]:
    """(the proxy's port, the paths of the PUTs it corrupted so far)."""
    flipped: list[bytes] = []
    tasks: set[asyncio.Task] = set()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
        both = asyncio.gather(_requests(reader, up_writer, marker, flipped),
                              _pipe(up_reader, writer))
        tasks.add(both)
        try:
            await both
        except asyncio.CancelledError:
            pass                       # the proxy is closing

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1], flipped
    finally:
        server.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
