"""Bad NBD clients on a raw socket: each gets the protocol's answer (an errno, an option
error, or its connection closed), the gateway never crashes, nothing is half-applied,
and a well-behaved connection alongside keeps working."""

from __future__ import annotations

import struct

import pytest

from clients.gateway import nbdproto as p
from tests.gateway.conftest import CHUNK, create_volume
from tests.gateway.rawnbd import RawNbd

SIZE = 4 << 20


@pytest.fixture
def gw(env, gateways):
    return gateways(env, create_volume(env, "4M"))


def connect(gw) -> RawNbd:
    return RawNbd(*gw.host_port)


def test_export_size_read_write_flush_round_trip(gw):
    c = connect(gw)
    assert c.go() == SIZE
    data = bytes(range(256)) * 20
    assert c.call(p.CMD_WRITE, CHUNK - 100, len(data), data, flags=p.CMD_FLAG_FUA)[0] == 0
    assert c.call(p.CMD_FLUSH) == (0, b"")
    assert c.call(p.CMD_READ, CHUNK - 100, len(data)) == (0, data)
    assert c.call(p.CMD_WRITE_ZEROES, CHUNK, 1000)[0] == 0
    assert c.call(p.CMD_READ, CHUNK - 100, 1100) == (0, data[:100] + bytes(1000))
    assert c.call(p.CMD_TRIM, 0, SIZE)[0] == 0
    assert c.call(p.CMD_READ, CHUNK - 100, 200) == (0, bytes(200))


def test_requests_past_the_end_get_einval_or_enospc_and_change_nothing(gw):
    c = connect(gw)
    c.go()
    assert c.call(p.CMD_WRITE, SIZE - 512, 512, b"\x01" * 512)[0] == 0
    assert c.call(p.CMD_READ, SIZE - 512, 1024)[0] == p.EINVAL
    assert c.call(p.CMD_WRITE, SIZE - 512, 1024, b"\x02" * 1024)[0] == p.ENOSPC
    assert c.call(p.CMD_WRITE_ZEROES, SIZE, 512)[0] == p.ENOSPC
    assert c.call(p.CMD_TRIM, SIZE - 512, 4096)[0] == p.EINVAL
    assert c.call(p.CMD_READ, SIZE - 512, 512) == (0, b"\x01" * 512)


def test_unknown_commands_flags_and_oversized_reads_get_einval(gw):
    c = connect(gw)
    c.go()
    assert c.call(42, 0, 0)[0] == p.EINVAL
    assert c.call(p.CMD_CACHE, 0, 4096)[0] == p.EINVAL   # not advertised
    assert c.call(p.CMD_READ, 0, 512, flags=1 << 9)[0] == p.EINVAL
    assert c.call(p.CMD_WRITE, 0, 512, bytes(512), flags=p.CMD_FLAG_NO_HOLE)[0] == p.EINVAL
    assert c.call(p.CMD_FLUSH, 0, 512)[0] == p.EINVAL
    assert c.call(p.CMD_READ, 0, p.MAX_PAYLOAD + 1)[0] == p.EINVAL
    assert c.call(p.CMD_READ, 0, 512) == (0, bytes(512))    # still in business


def test_oversized_write_closes_only_that_connection(gw):
    good, bad = connect(gw), connect(gw)
    good.go()
    bad.go()
    bad.request(p.CMD_WRITE, 0, p.MAX_PAYLOAD + 1)
    assert bad.closed_by_server()
    assert good.call(p.CMD_WRITE, 0, 512, b"\x07" * 512)[0] == 0
    assert good.call(p.CMD_READ, 0, 512) == (0, b"\x07" * 512)


def test_a_short_write_payload_applies_nothing(gw):
    c = connect(gw)
    c.go()
    assert c.call(p.CMD_WRITE, 0, CHUNK, b"\x11" * CHUNK)[0] == 0
    cut = connect(gw)
    cut.go()
    cut.request(p.CMD_WRITE, 0, CHUNK, b"\x22" * (CHUNK // 2))   # then hang up
    cut.close()
    other = connect(gw)
    other.go()
    assert other.call(p.CMD_FLUSH)[0] == 0
    assert other.call(p.CMD_READ, 0, CHUNK) == (0, b"\x11" * CHUNK)


def test_bad_request_magic_closes_the_connection(gw):
    c = connect(gw)
    c.go()
    c.sock.sendall(b"\xde\xad\xbe\xef" + bytes(24))
    assert c.closed_by_server()
    d = connect(gw)
    assert d.go() == SIZE


@pytest.mark.parametrize("garbage", [
    struct.pack(">I", 0),                                       # not fixed newstyle
    struct.pack(">I", p.FLAG_FIXED_NEWSTYLE | 1 << 7),          # unknown client flag
    struct.pack(">I", p.FLAG_FIXED_NEWSTYLE) + b"NOTIHAVEOPT....." + bytes(8),
    struct.pack(">I", p.FLAG_FIXED_NEWSTYLE) + p.OPTION_HEADER.pack(p.IHAVEOPT, p.OPT_GO, 1 << 30),
])
def test_garbage_in_the_handshake_closes_that_connection(gw, garbage):
    c = connect(gw)
    c.greeting()
    c.sock.sendall(garbage)
    assert c.closed_by_server()
    assert connect(gw).go() == SIZE


def test_option_haggling_answers_list_info_unknown_and_malformed(gw):
    c = connect(gw)
    c.greeting()
    c.sock.sendall(struct.pack(">I", p.FLAG_FIXED_NEWSTYLE))
    c.option(p.OPT_LIST)
    names = []
    while (reply := c.option_reply())[1] == p.REP_SERVER:
        names.append(reply[2][4:].decode())
    assert reply[1] == p.REP_ACK and "" in names and any(n.startswith("vol-") for n in names)
    c.option(p.OPT_LIST, b"x")
    assert c.option_reply()[1] == p.REP_ERR_INVALID
    c.option(p.OPT_INFO, struct.pack(">I", 4) + b"nope" + struct.pack(">H", 0))
    assert c.option_reply()[1] == p.REP_ERR_UNKNOWN
    c.option(p.OPT_INFO, struct.pack(">I", 99) + b"short")
    assert c.option_reply()[1] == p.REP_ERR_INVALID
    c.option(p.OPT_STARTTLS)
    assert c.option_reply()[1] == p.REP_ERR_UNSUP
    c.option(p.OPT_INFO, struct.pack(">IH", 0, 1) + struct.pack(">H", p.INFO_BLOCK_SIZE))
    replies = [c.option_reply() for _ in range(3)]
    assert [r[1] for r in replies] == [p.REP_INFO, p.REP_INFO, p.REP_ACK]
    assert p.BLOCK_INFO.unpack(replies[1][2])[3] == p.MAX_PAYLOAD
    c.option(p.OPT_ABORT)
    assert c.option_reply()[1] == p.REP_ACK
    assert c.closed_by_server()


def test_disc_answers_requests_in_flight_then_closes(gw):
    c = connect(gw)
    c.go()
    c.request(p.CMD_WRITE, 0, 512, b"\x05" * 512, cookie=7)
    c.request(p.CMD_DISC)
    assert c.reply() == (0, 7, b"")
    assert c.closed_by_server()
