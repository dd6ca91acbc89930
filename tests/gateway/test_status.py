"""What the gateway reports: its URI, cache hits and misses, dirty bytes (file, SIGUSR1 and
--metrics-listen)."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from clients.gateway import nbdproto as p
from tests.gateway.conftest import CHUNK, create_volume
from tests.gateway.rawnbd import RawNbd
from tests.serverproc import BLOCKSTORE, REPO


def counters(path) -> dict:
    return json.loads(path.read_text())


def wait_for(check, what: str, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, f"never saw {what}"
        time.sleep(0.05)
    return result


def scrape(gw) -> dict[str, float]:
    url = wait_for(lambda: next((m.group(1) for x in gw.output if (
        m := re.search(r"gateway metrics on (http://\S+/metrics)", x))), None),
        "the gateway's metrics address")
    with urllib.request.urlopen(url, timeout=10) as reply:
        text = reply.read().decode()
    return {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples}


def test_status_counts_cache_misses_hits_and_dirty_bytes(env, gateways, tmp_path):
    volume = create_volume(env, "4M")
    first = gateways(env, volume, cache_dir=tmp_path / "a")
    assert first.uri.startswith("nbd://127.0.0.1:")
    c = RawNbd(*first.host_port)
    c.go()
    assert c.call(p.CMD_WRITE, 0, CHUNK, b"\x09" * CHUNK)[0] == 0
    assert c.call(p.CMD_FLUSH)[0] == 0
    assert first.stop(signal.SIGTERM) == 0

    st = tmp_path / "status.json"
    gw = gateways(env, volume, "--json-status", str(st), "--metrics-listen", "127.0.0.1:0",
                  cache_dir=tmp_path / "b")                                   # cold cache
    c = RawNbd(*gw.host_port)
    c.go()
    assert c.call(p.CMD_READ, 0, 4096) == (0, b"\x09" * 4096)
    assert c.call(p.CMD_READ, 4096, 4096) == (0, b"\x09" * 4096)
    assert c.call(p.CMD_WRITE, 2 * CHUNK, 512, b"\x01" * 512)[0] == 0
    seen = wait_for(lambda: st.exists() and counters(st)["dirty_bytes"] and counters(st),
                    "a status file with the dirty write")
    assert (seen["cache_misses"], seen["cache_hits"]) == (1, 1)
    assert seen["dirty_bytes"] == CHUNK and seen["dirty_chunks"] == 1
    assert seen["mode"] == "primary" and seen["uri"] == gw.uri
    assert seen["cache_bytes"] == CHUNK        # the one chunk fetched
    metrics = scrape(gw)
    assert (metrics["blockstore_gateway_cache_misses_total"],
            metrics["blockstore_gateway_cache_hits_total"]) == (1, 1)
    assert (metrics["blockstore_gateway_dirty_bytes"],
            metrics["blockstore_gateway_cache_bytes"]) == (CHUNK, CHUNK)

    gw.proc.send_signal(signal.SIGUSR1)
    line = wait_for(lambda: next((x for x in gw.output if x.startswith("blockstore: status ")), None),
                    "the SIGUSR1 status line")
    assert json.loads(line.split("status ", 1)[1])["dirty_bytes"] == CHUNK


def test_start_up_problems_are_one_error_line_not_a_traceback(env, gateways, tmp_path):
    volume = create_volume(env, "4M")
    gw = gateways(env, volume, cache_dir=tmp_path / "a")
    small = tmp_path / "small.img"
    small.write_bytes(bytes(4096))
    other = create_volume(env, "4M")
    for vol, extra, message in (
            (volume, ["--cache-dir", str(tmp_path / "a")], "is in use by another gateway"),
            (other, ["--cache-dir", str(tmp_path / "b"), "--listen",
                     f"127.0.0.1:{gw.host_port[1]}"], "gateway cannot start"),
    ):
        done = subprocess.run([*BLOCKSTORE, "gateway", "--volume", vol, *extra], env=env,
                              capture_output=True, text=True, timeout=60, cwd=REPO)
        assert done.returncode == 2 and message in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
    gw.stop(signal.SIGTERM)
    done = subprocess.run([*BLOCKSTORE, "gateway", "--volume", volume, "--shadow", str(small),
                           "--cache-dir", str(tmp_path / "c")], env=env, capture_output=True,
                          text=True, timeout=60, cwd=REPO)
    assert done.returncode == 2 and "smaller than the volume" in done.stderr, done.stderr
