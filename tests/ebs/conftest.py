"""A `blockstore serve --ebs-listen` per module and real botocore `ebs` clients.

`server` overrides the root fixture, so `account`, `cp`, `dp` and `other_account` of
tests/conftest.py talk to the same process over gRPC. botocore is pointed at the
loopback endpoint with an account's keys, an explicit region, no metadata service, no
config files and no retries, so it never looks elsewhere.
"""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys

import botocore.session
import pytest
from botocore.config import Config

from tests.serverproc import serve

EBS_LINE = "EBS direct on "
BLOCK = 512 << 10


def ebs_endpoint(proc) -> str:
    line = next(ln for ln in proc.output if EBS_LINE in ln)
    return line.rsplit(EBS_LINE, 1)[1].split()[0]


def ebs_client(endpoint: str, key_id: str, secret: str, region: str = "us-east-1"):
    session = botocore.session.Session()
    return session.create_client(
        "ebs", region_name=region, endpoint_url=endpoint, aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=10,
                      read_timeout=60))


def client_of(server, account: dict, **kw):
    return ebs_client(server.ebs, account["access_key_id"], account["secret_access_key"], **kw)


def sha(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def put(ebs, snapshot_id: str, index: int, data: bytes, **kw) -> dict:
    return ebs.put_snapshot_block(SnapshotId=snapshot_id, BlockIndex=index, BlockData=data,
                                  DataLength=len(data), Checksum=kw.pop("checksum", sha(data)),
                                  ChecksumAlgorithm="SHA256", **kw)


def get(ebs, snapshot_id: str, index: int, token: str) -> tuple[bytes, dict]:
    reply = ebs.get_snapshot_block(SnapshotId=snapshot_id, BlockIndex=index, BlockToken=token)
    return reply["BlockData"].read(), reply


def all_blocks(ebs, snapshot_id: str, **kw) -> dict[int, str]:
    """index -> BlockToken over every page of ListSnapshotBlocks."""
    found, token = {}, None
    while True:
        page = ebs.list_snapshot_blocks(SnapshotId=snapshot_id,
                                        **({"NextToken": token} if token else {}), **kw)
        for b in page["Blocks"]:
            assert b["BlockIndex"] not in found, "a block listed twice across pages"
            found[b["BlockIndex"]] = b["BlockToken"]
        token = page.get("NextToken")
        if not token:
            return found


def all_changes(ebs, second: str, first: str = "", **kw) -> dict[int, tuple]:
    found, token = {}, None
    while True:
        page = ebs.list_changed_blocks(SecondSnapshotId=second,
                                       **({"FirstSnapshotId": first} if first else {}),
                                       **({"NextToken": token} if token else {}), **kw)
        for c in page["ChangedBlocks"]:
            found[c["BlockIndex"]] = (c.get("FirstBlockToken"), c.get("SecondBlockToken"))
        token = page.get("NextToken")
        if not token:
            return found


@pytest.fixture(autouse=True)
def aws_nowhere_else(monkeypatch):
    isolate_aws(monkeypatch)


def isolate_aws(monkeypatch) -> None:
    """botocore reads no metadata service, config or credentials file of this machine."""
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                 "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_EBS"):
        monkeypatch.delenv(name, raising=False)


def aws_cli(endpoint: str, account: dict, home, *args: str) -> subprocess.CompletedProcess:
    """`aws ebs ARGS... --endpoint-url ENDPOINT --output json` with the account's keys and
    nothing of this machine's AWS setup: no config or credentials file, no instance
    metadata, one attempt."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home),
           "AWS_ACCESS_KEY_ID": account["access_key_id"],
           "AWS_SECRET_ACCESS_KEY": account["secret_access_key"],
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
           "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
           "AWS_MAX_ATTEMPTS": "1", "AWS_PAGER": ""}
    return subprocess.run([sys.executable, "-m", "awscli", "ebs", *args,
                           "--endpoint-url", endpoint, "--output", "json"],
                          capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    proc = serve(tmp_path_factory.mktemp("data"), "--ebs-listen", "127.0.0.1:0")
    proc.data_dir = proc.args[proc.args.index("--data-dir") + 1]
    proc.ebs = ebs_endpoint(proc)
    yield proc
    proc.stop()


@pytest.fixture
def ebs(server, account):
    return client_of(server, account)


@pytest.fixture
def other_ebs(server, other_account):
    return client_of(server, other_account)
