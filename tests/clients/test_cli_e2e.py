"""End to end: the `blockstore` CLI as a subprocess against a real `blockstore serve`."""

import json

import pytest

from tests.serverproc import blockstore_cmd


@pytest.fixture
def run(server, account):
    """Runs the CLI as the test's account; returns the CompletedProcess (never raises)."""
    env = {"BLOCKSTORE_ADDRESS": server.address, "BLOCKSTORE_TOKEN": account["token"]}

    def run_(*args: str):
        return blockstore_cmd(*args, check=False, env=env, timeout=60)
    return run_


def ok_json(proc):
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_volume_lifecycle_with_json(run):
    created = ok_json(run("volume", "create", "--size", "64M", "--chunk-size", "64K",
                          "--label", "team=storage", "--json"))
    vol = created["volume"]
    assert vol["volume_id"].startswith("vol-")
    assert vol["size_bytes"] == 64 << 20 and vol["chunk_size"] == 64 << 10
    assert vol["labels"] == {"team": "storage"}
    assert created["initial_snapshot_id"].startswith("snap-"), "every volume has one"

    got = ok_json(run("volume", "get", vol["volume_id"], "--json"))
    assert got["volume_id"] == vol["volume_id"] and got["size_bytes"] == 64 << 20

    listed = ok_json(run("volume", "list", "--json"))
    assert [v["volume_id"] for v in listed] == [vol["volume_id"]]

    deleted = ok_json(run("volume", "delete", vol["volume_id"], "--json"))
    assert deleted == {"volume_id": vol["volume_id"], "deleted": True}
    assert ok_json(run("volume", "list", "--json")) == []


def test_human_output_is_a_table(run):
    vol = ok_json(run("volume", "create", "--size", "1G", "--json"))["volume"]
    table = run("volume", "list")
    assert table.returncode == 0, table.stderr
    header, row = table.stdout.splitlines()[:2]
    assert header.startswith("VOLUME ID") and row.startswith(vol["volume_id"])
    assert "1 GiB" in row


def test_upload_snapshot_progress_to_completion(run):
    created = ok_json(run("volume", "create", "--size", "8M", "--json"))
    vol = created["volume"]
    snap = ok_json(run("snapshot", "create", vol["volume_id"], "--mode", "upload",
                       "--description", "nightly", "--json"))
    assert snap["state"] == "SNAPSHOT_STATE_PENDING" and snap["mode"] == "SNAPSHOT_MODE_UPLOAD"
    assert snap["version"] == 2 and snap["description"] == "nightly"
    assert snap["parent_snapshot_id"] == created["initial_snapshot_id"]

    half = ok_json(run("snapshot", "progress", snap["snapshot_id"], "50%", "--json"))
    assert half["progress"] == 0.5 and half["state"] == "SNAPSHOT_STATE_PENDING"
    done = ok_json(run("snapshot", "progress", snap["snapshot_id"], "1", "--json"))
    assert done["state"] == "SNAPSHOT_STATE_COMPLETED" and done["completed_at"]

    listed = ok_json(run("snapshot", "list", "--volume", vol["volume_id"], "--json"))
    assert sorted(s["snapshot_id"] for s in listed) == sorted(
        [created["initial_snapshot_id"], snap["snapshot_id"]])
    got = ok_json(run("snapshot", "get", snap["snapshot_id"], "--json"))
    assert got["state"] == "SNAPSHOT_STATE_COMPLETED"


def test_point_in_time_snapshot_completes_at_once_and_deletes(run):
    vol = ok_json(run("volume", "create", "--json"))["volume"]
    snap = ok_json(run("snapshot", "create", vol["volume_id"], "--json"))
    assert snap["state"] == "SNAPSHOT_STATE_COMPLETED" and snap["progress"] == 1.0
    assert ok_json(run("snapshot", "delete", snap["snapshot_id"], "--json"))["deleted"] is True
    assert run("snapshot", "get", snap["snapshot_id"]).returncode == 3


def test_not_found_exit_code_and_message(run):
    proc = run("volume", "get", "vol-doesnotexist")
    assert proc.returncode == 3
    assert proc.stderr.startswith("error: NOT_FOUND INVALID_VOLUME_ID: ")
    assert "vol-doesnotexist" in proc.stderr and proc.stderr.count("\n") == 1
    assert run("volume", "delete", "vol-doesnotexist", "--allow-missing").returncode == 0


def test_invalid_size_from_server_is_exit_4(run):
    proc = run("volume", "create", "--size", "1000")  # below 1 MiB, and not 512-aligned
    assert proc.returncode == 4, proc.stderr
    assert proc.stderr.startswith("error: INVALID_ARGUMENT INVALID_VOLUME_SIZE: ")


def test_bad_token_is_exit_5(server):
    env = {"BLOCKSTORE_ADDRESS": server.address, "BLOCKSTORE_TOKEN": "not-a-token"}
    proc = blockstore_cmd("volume", "list", check=False, env=env, timeout=60)
    assert proc.returncode == 5
    assert proc.stderr.startswith("error: UNAUTHENTICATED AUTHENTICATION_FAILED")


def test_snapshot_share_unshare_shares_and_list_shared_with_me(run, server, other_account):
    env = {"BLOCKSTORE_ADDRESS": server.address, "BLOCKSTORE_TOKEN": other_account["token"]}

    def grantee(*args: str):
        return blockstore_cmd(*args, check=False, env=env, timeout=60)

    created = ok_json(run("volume", "create", "--size", "8M", "--json"))
    snap_id = created["initial_snapshot_id"]
    grantee_id = other_account["account_id"]
    shared = ok_json(run("snapshot", "share", snap_id, grantee_id, "--no-export", "--json"))
    assert (shared["snapshot_id"], shared["account_id"], shared["allow_export"]) == \
        (snap_id, grantee_id, False)
    listed = ok_json(run("snapshot", "shares", snap_id, "--json"))
    assert [(s["account_id"], s["allow_export"]) for s in listed] == [(grantee_id, False)]
    assert grantee_id in run("snapshot", "shares", snap_id).stdout
    mine = ok_json(grantee("snapshot", "list", "--shared-with-me", "--json"))
    assert [s["snapshot_id"] for s in mine] == [snap_id]
    assert mine[0]["owner_account_id"] != grantee_id
    refused = grantee("snapshot", "delete", snap_id)
    assert refused.returncode != 0 and "NOT_OWNER" in refused.stderr
    assert ok_json(run("snapshot", "unshare", snap_id, grantee_id, "--json"))["shared"] is False
    assert ok_json(grantee("snapshot", "list", "--shared-with-me", "--json")) == []
    assert run("snapshot", "shares", snap_id).stdout.strip() == "not shared"
