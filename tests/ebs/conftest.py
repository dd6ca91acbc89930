"""A `blockstore serve --ebs-listen` per module and real botocore `ebs` clients.

botocore is pointed at the loopback endpoint with an account's keys, an explicit
region and no metadata service, config files or retries, so it never looks elsewhere.
"""

from __future__ import annotations

import os
import uuid

import botocore.session
import pytest
from botocore.config import Config

from tests.serverproc import create_account, serve

os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
EBS_LINE = "EBS direct on "


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


@pytest.fixture(scope="module")
def ebs_server(tmp_path_factory):
    proc = serve(tmp_path_factory.mktemp("data"), "--ebs-listen", "127.0.0.1:0")
    proc.data_dir = proc.args[proc.args.index("--data-dir") + 1]
    proc.ebs = ebs_endpoint(proc)
    yield proc
    proc.stop()


def new_account(server) -> dict:
    return create_account(f"ebs-{uuid.uuid4().hex[:10]}", data_dir=server.data_dir)


@pytest.fixture
def ebs_account(ebs_server):
    return new_account(ebs_server)


@pytest.fixture
def ebs(ebs_server, ebs_account):
    return ebs_client(ebs_server.ebs, ebs_account["access_key_id"],
                      ebs_account["secret_access_key"])
