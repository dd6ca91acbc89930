"""A server that can not start says why in one line and exits, instead of hanging."""

from __future__ import annotations

import socket

from tests.serverproc import blockstore_cmd


def test_serve_on_a_port_in_use_exits_1_with_one_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = blockstore_cmd("serve", "--data-dir", str(tmp_path), "--listen",
                              f"127.0.0.1:{port}", check=False, timeout=60)
    assert done.returncode == 1, f"exit 1 when the port is taken: {done.stderr}"
    errors = [ln for ln in done.stderr.splitlines() if ln.startswith("blockstore: error:")]
    assert errors and "bind" in errors[0].lower(), f"one line naming the problem: {done.stderr}"
    assert "Traceback" not in done.stderr, "no traceback for an operational error"
