"""Fixtures of the hostile-input suite: one real server per module, the canary world,
and the check after every test that the server is up and the world unchanged. The tally
of examples per RPC is printed by tests/conftest.py (loaded where pytest-xdist's workers
report to)."""

from __future__ import annotations

import pytest

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

