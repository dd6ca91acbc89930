"""SigV4 verification (ebs_facade/sigv4.py) against requests signed by botocore's own
signer: what botocore signs is accepted, and every way a signature can be wrong is not."""

from __future__ import annotations

import asyncio
import hashlib
import time
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from ebs_facade.sigv4 import MAX_SKEW_S, SignatureRejected, SignedRequest, verify

KEYS = {"BSAKTESTKEY000000001": "secret-one"}
URL = "http://127.0.0.1:9999/snapshots/snap-00ab/blocks?pageToken=a%2Bb%3D&maxResults=100"


def signed(method="GET", url=URL, body=b"", key="BSAKTESTKEY000000001", secret="secret-one",
           service="ebs", region="eu-west-3", headers=None) -> SignedRequest:
    request = AWSRequest(method=method, url=url, data=body, headers=headers or {})
    SigV4Auth(Credentials(key, secret), service, region).add_auth(request)
    parts = urlsplit(url)
    wire = dict(request.headers.items())
    wire["Host"] = parts.netloc
    return SignedRequest(method, parts.path, parts.query, wire, body)


def check(req: SignedRequest, now: float | None = None) -> str:
    async def secret_of(key_id: str):
        return KEYS.get(key_id)
    return asyncio.run(verify(req, secret_of, time.time() if now is None else now))


def test_a_request_botocore_signed_is_accepted_in_any_region():
    assert check(signed()) == "BSAKTESTKEY000000001"
    assert check(signed(method="PUT", body=b"x" * 1000, url="http://h:1/snapshots/snap-1/"
                        "blocks/7")) == "BSAKTESTKEY000000001"


def test_unsigned_payload_is_accepted_when_signed_as_such():
    req = signed(method="PUT", body=b"data", headers={"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
    assert check(req) == "BSAKTESTKEY000000001"


@pytest.mark.parametrize("change", ["secret", "key", "service", "body", "query", "path",
                                    "header", "no-auth"])
def test_every_wrong_signature_is_rejected(change):
    req = signed(method="PUT", body=b"payload",
                 secret="wrong" if change == "secret" else "secret-one",
                 key="BSAKUNKNOWN000000000" if change == "key" else "BSAKTESTKEY000000001",
                 service="ec2" if change == "service" else "ebs")
    if change == "body":
        req = SignedRequest(req.method, req.raw_path, req.raw_query, req.headers, b"payloaX")
    elif change == "query":
        req = SignedRequest(req.method, req.raw_path, req.raw_query.replace("100", "101"),
                            req.headers, req.body)
    elif change == "path":
        req = SignedRequest(req.method, req.raw_path.replace("snap-00ab", "snap-00ac"),
                            req.raw_query, req.headers, req.body)
    elif change == "header":
        req = SignedRequest(req.method, req.raw_path, req.raw_query,
                            {**req.headers, "Host": "evil:1"}, req.body)
    elif change == "no-auth":
        req = SignedRequest(req.method, req.raw_path, req.raw_query,
                            {k: v for k, v in req.headers.items() if k != "Authorization"},
                            req.body)
    with pytest.raises(SignatureRejected):
        check(req)


def test_clock_skew_beyond_15_minutes_is_rejected_both_ways():
    req = signed()
    assert check(req, time.time() + MAX_SKEW_S - 60) == "BSAKTESTKEY000000001"
    with pytest.raises(SignatureRejected, match="15 minutes"):
        check(req, time.time() + MAX_SKEW_S + 60)       # stale
    with pytest.raises(SignatureRejected, match="15 minutes"):
        check(req, time.time() - MAX_SKEW_S - 60)       # from the future


def test_a_claimed_payload_hash_must_match_the_body():
    body = b"block"
    req = signed(method="PUT", body=body,
                 headers={"X-Amz-Content-SHA256": hashlib.sha256(b"other").hexdigest()})
    with pytest.raises(SignatureRejected, match="x-amz-content-sha256"):
        check(req)
