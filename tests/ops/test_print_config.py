"""`--print-config` and the precedence rule on every command that reads settings.

The commands run in-process through services.cli.main (what the console script calls);
the README's production example is loaded by the real console script, so it cannot rot.
"""

from __future__ import annotations

import json
import re
import tomllib

import pytest

from services.cli import main
from tests.serverproc import REPO, blockstore_cmd

COMMANDS = ["serve", "control-plane", "data-plane", "gc", "verify"]


def printed(capsys, *argv: str) -> dict:
    assert main([*argv, "--print-config", "json"]) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("command", COMMANDS)
def test_file_then_environment_then_flags_on_every_command(command, tmp_path, monkeypatch,
                                                           capsys):
    config = tmp_path / "shared.toml"
    # One file for a whole deployment: keys of other commands (listen for gc, chunks for the
    # control plane) are skipped, not refused.
    config.write_text('db = "sqlite:///from/file.db"\nchunks = "file:///srv/chunks"\n'
                      'listen = "127.0.0.1:7000"\n')
    monkeypatch.delenv("BLOCKSTORE_DB", raising=False)
    out = printed(capsys, command, "--config", str(config))
    assert out["settings"]["db"] == "sqlite:///from/file.db"
    assert out["sources"]["db"] == f"--config {config}"
    monkeypatch.setenv("BLOCKSTORE_DB", "sqlite:///from/env.db")
    out = printed(capsys, command, "--config", str(config))
    assert (out["settings"]["db"], out["sources"]["db"]) == \
        ("sqlite:///from/env.db", "environment BLOCKSTORE_DB")
    out = printed(capsys, command, "--config", str(config), "--db", "sqlite:///from/flag.db")
    assert (out["settings"]["db"], out["sources"]["db"]) == \
        ("sqlite:///from/flag.db", "command line")
    assert ("chunks" in out["settings"]) == (command != "control-plane")


def test_gc_takes_the_servers_gc_grace_not_its_shutdown_grace(tmp_path, capsys):
    config = tmp_path / "serve.toml"
    config.write_text(f'data-dir = "{tmp_path / "d"}"\ngrace = 5\ngc-grace = 120\n')
    out = printed(capsys, "gc", "--config", str(config))
    assert out["settings"] == {"data-dir": str(tmp_path / "d"), "db": None, "chunks": None,
                               "gc-grace": 120.0}


def test_gc_runs_on_the_stores_a_config_file_names(tmp_path):
    data = tmp_path / "data"
    config = tmp_path / "serve.toml"
    config.write_text(f'data-dir = "{data}"\nlisten = "127.0.0.1:0"\nmetrics-listen = ""\n')
    done = blockstore_cmd("gc", "--config", str(config), "--json", timeout=60)
    assert json.loads(done.stdout)["chunks_swept"] == 0
    assert (data / "manifest.db").exists(), "gc opened the data-dir the file names"


def test_passwords_in_urls_are_masked(tmp_path, capsys):
    url = "postgresql://bs:hunter2-secret@db.example:5432/bs"
    out = printed(capsys, "control-plane", "--db", url)
    assert out["settings"]["db"] == "postgresql://bs:***@db.example:5432/bs"
    assert main(["control-plane", "--db", url, "--print-config"]) == 0
    text = capsys.readouterr().out
    assert "hunter2" not in text and "bs:***@db.example" in text


def test_printed_toml_is_a_config_file_giving_the_same_settings(tmp_path, capsys):
    first = tmp_path / "first.toml"
    first.write_text(f'data-dir = "{tmp_path}"\ngc-interval = 600\nno-fsync = true\n'
                     'log-level = "debug"\nmin-free = "1G"\n')
    assert main(["serve", "--config", str(first), "--print-config"]) == 0
    saved = tmp_path / "saved.toml"
    saved.write_text(capsys.readouterr().out)
    tomllib.loads(saved.read_text())
    again = printed(capsys, "serve", "--config", str(saved))
    original = printed(capsys, "serve", "--config", str(first))
    assert again["settings"] == original["settings"]
    assert original["settings"]["min-free"] == 1 << 30
    assert original["settings"]["log-level"] == "DEBUG"


@pytest.mark.parametrize("content, named", [
    ("max-connections = 'many'\n", "max-connections in"),
    ("log-format = 'xml'\n", "log-format in"),
    ("listne = '127.0.0.1:1'\n", "unknown setting 'listne'"),
    ("listen = 'nohost'\n", "--listen 'nohost'"),
])
def test_print_config_refuses_what_a_start_refuses(tmp_path, capsys, content, named):
    config = tmp_path / "bad.toml"
    config.write_text(content)
    assert main(["serve", "--config", str(config), "--print-config"]) == 2
    assert named in capsys.readouterr().err


def readme_example() -> str:
    text = (REPO / "README.md").read_text()
    found = re.search(r"<!-- tests/ops/test_print_config.py .*?-->\n```toml\n(.*?)```", text,
                      re.S)
    assert found, "the README keeps its production config example under the marker"
    return found.group(1)


def test_readme_production_example_loads(tmp_path):
    config = tmp_path / "data-plane.toml"
    config.write_text(readme_example())
    written = tomllib.loads(config.read_text())
    done = blockstore_cmd("data-plane", "--config", str(config), "--print-config", "json",
                          env={"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
                               "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/EXAMPLEKEY"}, timeout=60)
    out = json.loads(done.stdout)
    for key, value in written.items():
        if key != "db":
            assert out["settings"][key] == value, key
        assert out["sources"][key] == f"--config {config}", key
    assert out["settings"]["db"] == \
        "postgresql://blockstore:***@db.example.internal:5432/blockstore"
    assert "change-me" not in done.stdout and "wJalrXUtnFEMI" not in done.stdout
    assert {"tls-cert", "tls-key", "chunks", "metrics-listen", "max-upload-streams"} <= \
        written.keys(), "the example shows TLS, S3, metrics and limits"
    assert any("AWS_SECRET_ACCESS_KEY set" in note for note in out["notes"])

