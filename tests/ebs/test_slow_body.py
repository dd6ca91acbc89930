"""A client that sends its request head and then trickles (or stops sending) its body
holds a request slot only until the body deadline: then it gets ValidationException
WRITE_REQUEST_TIMEOUT and nothing was done. In-process server (the real wiring of
services/server.py) so the deadline can be made short."""

from __future__ import annotations

import asyncio
import json

from blockstore.urls import file_url, sqlite_url
from ebs_facade import server as ebs_server
from services.config import ServerConfig
from services.server import start


async def test_a_body_that_does_not_arrive_in_time_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(ebs_server, "BODY_TIMEOUT_S", 0.5)
    running = await start(ServerConfig(
        listen="127.0.0.1:0", db_url=sqlite_url(tmp_path / "m.db"),
        chunks_url=file_url(tmp_path / "chunks"), ebs_listen="127.0.0.1:0"))
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", running.ebs_port)
        writer.write(b"PUT /snapshots/snap-00/blocks/0 HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Length: 524288\r\n\r\n" + b"\0" * 1000)
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        body = json.loads(await reader.readexactly(length))
        writer.close()
    finally:
        await running.stop(0)
    assert head.startswith(b"HTTP/1.1 400"), head
    assert b"x-amzn-errortype: validationexception" in head.lower()
    assert body["Reason"] == "WRITE_REQUEST_TIMEOUT", body
