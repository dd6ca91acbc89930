"""`blockstore --help` shows every command, client and server alike."""

from __future__ import annotations

from tests.serverproc import blockstore_cmd


def test_help_lists_client_and_server_commands():
    done = blockstore_cmd("--help")
    for command in ("volume", "snapshot", "upload", "backup", "download", "diff",
                    "serve", "control-plane", "data-plane", "account", "gc", "verify"):
        assert f" {command} " in done.stdout, f"`blockstore --help` mentions {command}"


def test_no_command_is_a_usage_error():
    done = blockstore_cmd(check=False)
    assert done.returncode == 2, "no command: usage error, exit 2"
    assert "serve" in done.stderr, "the usage error points at the server commands too"
