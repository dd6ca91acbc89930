"""Idle connections cannot take the server's file descriptors away from real work.

A server started with a soft fd limit of 256 (hard 512) gets 600 raw HTTP/2
connections that send the preface and then nothing. Before the fix it accepted them
until accept() and open() failed with EMFILE: uploads failed as UNKNOWN "[Errno 24]
Too many open files: <server path>" and new clients timed out. Now the server raises
its soft limit to the hard one at start, accepts at most `--max-connections` (by
default the fd limit less a reserve for files), closes connections idle for
`--max-connection-idle` seconds, and keeps serving the client it already has.
"""

from __future__ import annotations

import os
import socket
import time

import pytest

from blockstore.v1 import control_plane_pb2 as cpb
from tests.limits.conftest import CHUNK, Client, block, target
from tests.serverproc import ServerProcess

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes.fromhex("000000040000000000")
SOFT, HARD, RAW, IDLE_S = 256, 512, 600, 2


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        kib = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    return kib / 1024


@pytest.fixture
def server(tmp_path):
    proc = ServerProcess(["serve", "--data-dir", str(tmp_path / "data"), "--listen",
                          "127.0.0.1:0", "--max-connection-idle", str(IDLE_S)],
                         prefix=("prlimit", f"--nofile={SOFT}:{HARD}", "--"))
    proc.start()
    proc.data_dir = tmp_path / "data"
    yield proc
    proc.stop()


def raw_connections(address: str, count: int) -> list[socket.socket]:
    host, _, port = address.rpartition(":")
    socks = []
    for _ in range(count):
        s = socket.create_connection((host, int(port)), timeout=5)
        s.sendall(PREFACE)
        socks.append(s)
    return socks


def upload_and_read(client: Client, volume_id: str, index: int) -> None:
    data = os.urandom(CHUNK)
    client.dp.UploadBlocks(iter([target(volume_id), block(index * CHUNK, data, CHUNK)]),
                           timeout=20)
    client.cp.GetVolume(cpb.GetVolumeRequest(volume_id=volume_id), timeout=20)


def test_idle_connections_leave_room_for_work_and_are_closed(server):
    pid = server.proc.pid
    with open(f"/proc/{pid}/limits") as f:
        soft = next(int(line.split()[3]) for line in f if line.startswith("Max open files"))
    assert soft == HARD, "the server raises its soft fd limit to the hard limit at start"
    client = Client(server.address, server.data_dir)
    vid = client.volume(4 << 20)
    upload_and_read(client, vid, 0)
    rss_before = rss_mib(pid)
    socks = raw_connections(server.address, RAW)
    try:
        fds_with_raw = open_fds(pid)
        # The client that was already connected keeps working: files still open.
        for i in range(1, 9):
            upload_and_read(client, vid, i)
        assert fds_with_raw < HARD - 32, f"{fds_with_raw} fds open: the cap left no room"
        print(f"\nfds with {RAW} raw connections: {fds_with_raw}; RSS {rss_before:.0f} -> "
              f"{rss_mib(pid):.0f} MiB")
        # Idle connections are closed; a new client gets in once they are.
        deadline = time.monotonic() + 30
        while True:
            fresh = Client(server.address, token=client.token)
            try:
                fresh.cp.GetVolume(cpb.GetVolumeRequest(volume_id=vid), timeout=2)
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
            finally:
                fresh.close()
    finally:
        for s in socks:
            s.close()
        client.close()
    assert server.proc.poll() is None, "the server survived"
