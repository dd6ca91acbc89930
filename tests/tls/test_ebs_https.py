"""EBS direct over TLS: a server started with --tls-cert/--tls-key serves its EBS listener
as HTTPS with the same certificate (and, with --tls-client-ca, requires a client
certificate there too). boto3 (`verify=` the test CA) and the AWS CLI (`--ca-bundle`)
work end to end; a client that does not trust the CA, or speaks plain HTTP, gets nothing.
"""

from __future__ import annotations

import http.client
import json
import os
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, SSLError

from tests.ebs.conftest import BLOCK, aws_cli, ebs_endpoint, isolate_aws, sha
from tests.serverproc import blockstore_cmd, create_account, serve
from tests.tls.certs import have_openssl
from tests.tls.test_tls import tls_flags

pytestmark = pytest.mark.skipif(not have_openssl(), reason="needs the openssl CLI")


@pytest.fixture(autouse=True)
def aws_nowhere_else(monkeypatch):
    isolate_aws(monkeypatch)


def https_server(tmp_path_factory, pki, mutual: bool):
    data = tmp_path_factory.mktemp("ebs-mtls" if mutual else "ebs-tls")
    proc = serve(data, *tls_flags(pki, mutual=mutual), "--ebs-listen", "127.0.0.1:0")
    proc.ebs = ebs_endpoint(proc)
    proc.account = create_account("ebs-tls", data_dir=data)
    return proc


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory, pki):
    proc = https_server(tmp_path_factory, pki, mutual=False)
    yield proc
    assert proc.stop() == 0, "a clean stop with TLS connections open:\n" + "".join(proc.output)


@pytest.fixture(scope="module")
def mtls_server(tmp_path_factory, pki):
    proc = https_server(tmp_path_factory, pki, mutual=True)
    yield proc
    assert proc.stop() == 0, "a clean stop with TLS connections open:\n" + "".join(proc.output)


def ebs(server, verify, client_cert=None):
    account = server.account
    session = boto3.session.Session(aws_access_key_id=account["access_key_id"],
                                    aws_secret_access_key=account["secret_access_key"],
                                    region_name="us-east-1")
    return session.client("ebs", endpoint_url=server.ebs, verify=verify, config=Config(
        retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=10,
        read_timeout=60, client_cert=client_cert))


def write_snapshot(client) -> tuple[str, dict[int, bytes]]:
    blocks = {0: os.urandom(BLOCK), 3: os.urandom(BLOCK), 4: bytes(BLOCK)}
    sid = client.start_snapshot(VolumeSize=1)["SnapshotId"]
    for i, data in blocks.items():     # botocore sends these with UNSIGNED-PAYLOAD over TLS
        client.put_snapshot_block(SnapshotId=sid, BlockIndex=i, BlockData=data,
                                  DataLength=BLOCK, Checksum=sha(data),
                                  ChecksumAlgorithm="SHA256")
    client.complete_snapshot(SnapshotId=sid, ChangedBlocksCount=len(blocks))
    return sid, blocks


def test_boto3_and_the_aws_cli_read_and_write_over_https(tls_server, pki, tmp_path):
    assert tls_server.ebs.startswith("https://127.0.0.1:"), "the server announces https"
    client = ebs(tls_server, verify=str(pki.path("ca.pem")))
    sid, blocks = write_snapshot(client)
    listed = {b["BlockIndex"]: b["BlockToken"]
              for b in client.list_snapshot_blocks(SnapshotId=sid)["Blocks"]}
    assert sorted(listed) == sorted(blocks)
    for i, data in blocks.items():
        got = client.get_snapshot_block(SnapshotId=sid, BlockIndex=i, BlockToken=listed[i])
        assert got["BlockData"].read() == data, f"block {i} read back over https"
    done = aws_cli(tls_server.ebs, tls_server.account, tmp_path, "list-snapshot-blocks", "--snapshot-id", sid,
                   "--ca-bundle", str(pki.path("ca.pem")))
    assert done.returncode == 0, done.stderr
    assert {b["BlockIndex"]: b["BlockToken"] for b in json.loads(done.stdout)["Blocks"]} \
        == listed, "the AWS CLI sees what boto3 wrote"
    done = aws_cli(tls_server.ebs, tls_server.account, tmp_path, "list-snapshot-blocks", "--snapshot-id", sid)
    assert done.returncode != 0 and "SSL" in done.stderr, \
        "the CLI without --ca-bundle does not trust the test CA"


def test_a_client_that_does_not_trust_the_ca_or_speaks_http_gets_nothing(tls_server, pki):
    with pytest.raises(SSLError):
        ebs(tls_server, verify=str(pki.path("rogue-ca.pem"))).start_snapshot(VolumeSize=1)
    where = urlsplit(tls_server.ebs)
    plain = http.client.HTTPConnection(where.hostname, where.port, timeout=10)
    with pytest.raises((http.client.HTTPException, ConnectionError)):
        plain.request("POST", "/snapshots", body=b'{"VolumeSize": 1}')
        plain.getresponse()
    plain.close()


def test_with_client_certificates_required_ebs_requires_one_too(mtls_server, pki):
    ca = str(pki.path("ca.pem"))
    client = ebs(mtls_server, ca, (str(pki.path("client.pem")), str(pki.path("client.key"))))
    sid, blocks = write_snapshot(client)
    assert len(client.list_snapshot_blocks(SnapshotId=sid)["Blocks"]) == len(blocks)
    for cert in (None, (str(pki.path("rogue.pem")), str(pki.path("rogue.key")))):
        # A ClientError would mean a request was served: only the TLS layer may answer.
        with pytest.raises(BotoCoreError):
            ebs(mtls_server, ca, cert).list_snapshot_blocks(SnapshotId=sid)


def test_with_tls_any_ebs_listen_address_is_https_unless_plain_http_is_asked_for(pki,
                                                                                 tmp_path):
    base = ["serve", "--data-dir", str(tmp_path), *tls_flags(pki), "--ebs-listen",
            "0.0.0.0:8443", "--print-config", "json"]
    notes = json.loads(blockstore_cmd(*base).stdout)["notes"]
    assert "EBS direct on 0.0.0.0:8443: https (the --tls-* files)" in notes
    notes = json.loads(blockstore_cmd(*base, "--ebs-plain-http").stdout)["notes"]
    assert "EBS direct on 0.0.0.0:8443: plain http" in notes, "a TLS proxy in front"
