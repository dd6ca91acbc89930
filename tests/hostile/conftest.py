"""Fixtures of the hostile-input suite: one real server per module, the canary world,
and the check after every test that the server is up and the world unchanged."""

from __future__ import annotations

import pytest

from tests.hostile.hostile import TALLY
from tests.hostile.world import World, build_world


@pytest.fixture(scope="module")
def world(server) -> World:
    w = build_world(server.address, server.data_dir)
    yield w
    w.channel.close()


@pytest.fixture(autouse=True)
def intact(world, server):
    """Every hostile test leaves the server SERVING and the stored data as it was."""
    yield
    assert server.proc.poll() is None, "server process died:\n" + "".join(server.output[-40:])
    world.assert_intact()
    log = "".join(server.output)
    assert "Traceback" not in log, "the server logged an unexpected exception:\n" + log[-4000:]


def pytest_terminal_summary(terminalreporter):
    if not TALLY:
        return
    terminalreporter.section("hostile input: hypothesis examples per RPC")
    for rpc, count in sorted(TALLY.items()):
        terminalreporter.write_line(f"{rpc:28s} {count:6d}")
    terminalreporter.write_line(f"{'total':28s} {sum(TALLY.values()):6d}")
