"""EBS direct authentication (SigV4 over the wire, botocore as the client) and account
isolation: another account's snapshot is ResourceNotFoundException, exactly like a
snapshot that does not exist, for every operation."""

from __future__ import annotations

import datetime
import json
import os
import subprocess

import botocore.auth
import pytest
from botocore.exceptions import ClientError

from tests.ebs.conftest import BLOCK, all_blocks, client_of, ebs_client, get, put
from tests.serverproc import BLOCKSTORE, REPO


def _code(err: pytest.ExceptionInfo) -> tuple[str, str | None]:
    return err.value.response["Error"]["Code"], err.value.response.get("Reason")


def test_account_create_json_prints_both_credentials(server):
    out = subprocess.run([*BLOCKSTORE, "account", "create", "keys-shown", "--data-dir",
                          server.data_dir, "--json"], capture_output=True, text=True,
                         cwd=REPO, check=True).stdout
    doc = json.loads(out)
    assert set(doc) == {"account_id", "name", "token", "access_key_id", "secret_access_key"}
    assert doc["access_key_id"].startswith("BSAK") and len(doc["access_key_id"]) == 20
    assert len(doc["secret_access_key"]) >= 40


@pytest.mark.parametrize("how", ["wrong-secret", "unknown-key", "other-accounts-secret"])
def test_a_wrong_key_or_secret_is_access_denied(server, account, other_account, how):
    key, secret = account["access_key_id"], account["secret_access_key"]
    if how == "wrong-secret":
        secret = secret[:-2] + ("AA" if not secret.endswith("AA") else "BB")
    elif how == "unknown-key":
        key = "BSAKNOSUCHKEY0000000"
    else:
        secret = other_account["secret_access_key"]
    with pytest.raises(ClientError) as err:
        ebs_client(server.ebs, key, secret).start_snapshot(VolumeSize=1)
    assert _code(err) == ("AccessDeniedException", "UNAUTHORIZED_ACCOUNT")
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


@pytest.mark.parametrize("minutes", [-20, 20])
def test_a_stale_or_future_signature_is_access_denied(server, account, monkeypatch, minutes):
    ebs = client_of(server, account)
    sid = ebs.start_snapshot(VolumeSize=1)["SnapshotId"]
    real = botocore.auth.get_current_datetime
    monkeypatch.setattr(botocore.auth, "get_current_datetime",
                        lambda *a, **k: real(*a, **k) + datetime.timedelta(minutes=minutes))
    with pytest.raises(ClientError) as err:
        ebs.list_snapshot_blocks(SnapshotId=sid)
    assert _code(err) == ("AccessDeniedException", "UNAUTHORIZED_ACCOUNT")
    monkeypatch.setattr(botocore.auth, "get_current_datetime",
                        lambda *a, **k: real(*a, **k) + datetime.timedelta(minutes=10))
    assert ebs.list_snapshot_blocks(SnapshotId=sid)["Blocks"] == [], "10 minutes is within skew"


def test_any_region_the_client_signs_for_is_accepted(server, account):
    ebs = client_of(server, account, region="ap-southeast-2")
    assert ebs.start_snapshot(VolumeSize=1)["Status"] == "pending"


def test_another_accounts_snapshot_is_not_found_for_every_operation(ebs, other_ebs):
    sid = ebs.start_snapshot(VolumeSize=1)["SnapshotId"]
    data = os.urandom(BLOCK)
    put(ebs, sid, 0, data)
    ebs.complete_snapshot(SnapshotId=sid, ChangedBlocksCount=1)
    token = all_blocks(ebs, sid)[0]
    missing = "snap-" + "0" * 24
    calls = {
        "put": lambda s: put(other_ebs, s, 1, data),
        "complete": lambda s: other_ebs.complete_snapshot(SnapshotId=s, ChangedBlocksCount=0),
        "get": lambda s: get(other_ebs, s, 0, token),
        "list": lambda s: other_ebs.list_snapshot_blocks(SnapshotId=s),
        "changed": lambda s: other_ebs.list_changed_blocks(SecondSnapshotId=s),
        "parent": lambda s: other_ebs.start_snapshot(VolumeSize=1, ParentSnapshotId=s),
    }
    for name, call in calls.items():
        answers = []
        for target in (sid, missing):
            with pytest.raises(ClientError) as err:
                call(target)
            answers.append((_code(err), err.value.response["Message"].replace(target, "ID")))
        assert answers[0] == answers[1], f"{name}: another account's snapshot is told apart"
        assert answers[0][0] == ("ResourceNotFoundException", "SNAPSHOT_NOT_FOUND"), name
    assert get(ebs, sid, 0, token)[0] == data, "the owner still reads it"


def test_a_block_token_is_useless_outside_its_snapshot(ebs, other_ebs):
    sid = ebs.start_snapshot(VolumeSize=1)["SnapshotId"]
    put(ebs, sid, 0, os.urandom(BLOCK))
    ebs.complete_snapshot(SnapshotId=sid, ChangedBlocksCount=1)
    token = all_blocks(ebs, sid)[0]
    theirs = other_ebs.start_snapshot(VolumeSize=1)["SnapshotId"]
    with pytest.raises(ClientError) as err:
        get(other_ebs, theirs, 0, token)           # their own snapshot, a hole at index 0
    assert _code(err) == ("ValidationException", "INVALID_BLOCK_TOKEN")
    with pytest.raises(ClientError) as err:
        get(ebs, sid, 1, token)                    # the owner, another index
    assert _code(err) == ("ValidationException", "INVALID_BLOCK_TOKEN")
