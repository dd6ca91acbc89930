"""The blocking `Client` and the CLI, against the fake server on its own loop thread."""

import json

import grpc
import pytest

from clients import Client, NotFound
from clients.cli import main
from tests.clients.fakeserver import FakeControlPlane, serve_in_thread


@pytest.fixture
def fake():
    servicer = FakeControlPlane()
    with serve_in_thread(servicer) as address:
        servicer.address = address
        yield servicer


def cli(fake, *args: str) -> int:
    return main([*args, "--address", fake.address, "--token", "tok"])


def test_sync_client_runs_every_kind_of_method(fake):
    with Client(fake.address, "tok") as c:
        volume, initial = c.create_volume(size_bytes=2 << 30, labels={"a": "b"})
        assert volume.size_bytes == 2 << 30 and initial == ""
        assert c.get_volume(volume.volume_id).labels == {"a": "b"}
        c.create_volume()
        c.create_volume()
        assert [v.volume_id for v in c.list_volumes()] == ["vol-1", "vol-2", "vol-3"]
        c.delete_volume("vol-2")
        with pytest.raises(NotFound) as info:
            c.get_volume("vol-2")
        assert info.value.reason == "INVALID_VOLUME_ID"


def test_sync_client_stops_early_iteration_cleanly(fake):
    with Client(fake.address, "tok") as c:
        for _ in range(5):
            c.create_volume()
        first = next(iter(c.list_volumes()))
        assert first.volume_id == "vol-1"
    c.close()  # closing twice is harmless


def test_cli_volume_create_json_parses_sizes(fake, capsys):
    assert cli(fake, "volume", "create", "--size", "2G", "--chunk-size", "64K",
               "--label", "env=test", "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["volume"]["size_bytes"] == 2 << 30 and out["volume"]["chunk_size"] == 64 << 10
    assert out["volume"]["labels"] == {"env": "test"} and out["initial_snapshot_id"] == ""


def test_cli_volume_list_prints_a_table(fake, capsys):
    cli(fake, "volume", "create")
    capsys.readouterr()
    assert cli(fake, "volume", "list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["VOLUME", "ID", "SIZE"]
    assert lines[1].startswith("vol-1") and "1 GiB" in lines[1]


def test_cli_not_found_is_one_line_and_exit_3(fake, capsys):
    assert cli(fake, "volume", "get", "vol-123") == 3
    err = capsys.readouterr().err
    assert err == "error: NOT_FOUND INVALID_VOLUME_ID: volume vol-123 not found\n"


def test_cli_unavailable_after_retries_is_exit_6(fake, capsys):
    fake.fail("ListVolumes", grpc.StatusCode.UNAVAILABLE, times=10)
    assert cli(fake, "volume", "list") == 6
    assert "UNAVAILABLE" in capsys.readouterr().err


def test_cli_usage_errors_are_exit_2(fake, capsys, monkeypatch):
    monkeypatch.delenv("BLOCKSTORE_TOKEN", raising=False)
    assert main(["volume", "list", "--address", fake.address]) == 2
    assert "no token" in capsys.readouterr().err
    assert cli(fake, "volume", "create", "--size", "12X") == 2
    assert "invalid size" in capsys.readouterr().err
    assert cli(fake, "snapshot", "progress", "snap-1", "150%") == 2
    assert main([]) == 2
    assert cli(fake, "volume", "list", "--ca", "/nonexistent/ca.pem") == 2


def test_cli_help_documents_exit_codes(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "exit codes:" in out and "3    not found" in out


def test_sync_client_exposes_plain_attributes_and_hides_private_ones(fake):
    with Client(fake.address, "tok", timeout=7.0) as c:
        assert c.timeout == 7.0 and c.address == fake.address
        with pytest.raises(AttributeError):
            c._unary
