"""AWS Signature Version 4, verified server-side (no HTTP framework here).

A request is accepted only if its `Authorization: AWS4-HMAC-SHA256 ...` header names a
known access key, a credential scope of `<date>/<any region>/ebs/aws4_request` whose
date is the day of `x-amz-date`, a time within `MAX_SKEW_S` of the server's clock, signs
at least `host` and `x-amz-date`, and carries the signature we compute from the
canonical request with that key's secret, as botocore's own SigV4 signer computes it
(the code the AWS SDK for Python signs with; only the checks around it are ours). The
payload hash is `x-amz-content-sha256` when the client signed that header (botocore
sends `UNSIGNED-PAYLOAD` for PutSnapshotBlock over TLS; the block's own SHA256 then
protects it), else the SHA256 of the body as received. Every refusal is the same
`SignatureRejected` to the client (the message says which check failed, never whether
the key exists).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Awaitable, Callable, Mapping

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ALGORITHM = "AWS4-HMAC-SHA256"
SERVICE = "ebs"
MAX_SKEW_S = 15 * 60
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
_AUTH = re.compile(r"AWS4-HMAC-SHA256\s+Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),"
                   r"\s*Signature=([0-9a-f]{64})$")


class SignatureRejected(Exception):
    """The request is not signed by a known key, or not recently, or not for us."""


@dataclass(frozen=True)
class SignedRequest:
    method: str
    raw_path: str                 # as on the wire, percent-encoded, without the query
    raw_query: str                # as on the wire, without "?"
    headers: Mapping[str, str]    # names in any case
    body: bytes
    body_sha256: str = ""         # hex SHA256 of body, if the caller computed it already


@dataclass(frozen=True)
class Credential:
    access_key_id: str
    date: str
    region: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_authorization(header: str) -> Credential:
    match = _AUTH.match(header.strip())
    if not match:
        raise SignatureRejected("missing or malformed AWS4-HMAC-SHA256 Authorization header")
    scope = match.group(1).split("/")
    if len(scope) != 5 or scope[3] != SERVICE or scope[4] != "aws4_request":
        raise SignatureRejected(f"credential scope must be KEY/DATE/REGION/{SERVICE}/"
                                "aws4_request")
    return Credential(scope[0], scope[1], scope[2], tuple(match.group(2).split(";")),
                      match.group(3))


def check_time(amz_date: str, credential: Credential, now_s: float) -> None:
    try:
        signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        raise SignatureRejected("x-amz-date must be YYYYMMDDTHHMMSSZ") from None
    if amz_date[:8] != credential.date:
        raise SignatureRejected("credential scope date is not the day of x-amz-date")
    if abs(signed_at.timestamp() - now_s) > MAX_SKEW_S:
        raise SignatureRejected("request time is more than 15 minutes from the server's "
                                "clock")


class _Signer(SigV4Auth):
    """botocore's own SigV4 signer, given the payload hash we already checked (it would
    otherwise hash the body again, or see UNSIGNED-PAYLOAD only over https)."""

    def __init__(self, secret: str, region: str, payload_hash: str) -> None:
        super().__init__(Credentials("", secret), SERVICE, region)
        self.payload_hash = payload_hash

    def payload(self, request: AWSRequest) -> str:
        return self.payload_hash


def expected_signature(req: SignedRequest, cred: Credential, amz_date: str, secret: str,
                       payload_hash: str) -> str:
    """The signature botocore computes for this request, as the client signed it: the
    canonical request over exactly the headers the client listed as signed."""
    headers = {k.lower(): v for k, v in req.headers.items()}
    query = f"?{req.raw_query}" if req.raw_query else ""
    # The URL's host is a placeholder: `host` is one of the signed headers (checked), so
    # the canonical request takes it from there; the path and query are as on the wire.
    request = AWSRequest(method=req.method, url=f"http://signed-host{req.raw_path}{query}",
                         headers={name: headers.get(name, "") for name in cred.signed_headers})
    request.context["timestamp"] = amz_date
    signer = _Signer(secret, cred.region, payload_hash)
    return signer.signature(signer.string_to_sign(request, signer.canonical_request(request)),
                            request)


def _payload_hash(req: SignedRequest, signed: tuple[str, ...]) -> str:
    headers = {k.lower(): v for k, v in req.headers.items()}
    body_hash = req.body_sha256 or hashlib.sha256(req.body).hexdigest()
    claimed = headers.get("x-amz-content-sha256")
    if claimed is None:
        return body_hash
    if "x-amz-content-sha256" not in signed:
        raise SignatureRejected("x-amz-content-sha256 is sent but not signed")
    if claimed != UNSIGNED_PAYLOAD and claimed != body_hash:
        raise SignatureRejected("the body does not match x-amz-content-sha256")
    return claimed


async def verify(req: SignedRequest, secret_of: Callable[[str], Awaitable[str | None]],
                 now_s: float) -> str:
    """Check the signature; returns the access key id. `secret_of(key_id)` -> secret."""
    headers = {k.lower(): v for k, v in req.headers.items()}
    cred = parse_authorization(headers.get("authorization", ""))
    if not {"host", "x-amz-date"} <= set(cred.signed_headers) \
            or list(cred.signed_headers) != sorted(set(cred.signed_headers)):
        raise SignatureRejected("SignedHeaders must be sorted and include host and x-amz-date")
    check_time(headers.get("x-amz-date", ""), cred, now_s)
    payload = _payload_hash(req, cred.signed_headers)
    secret = await secret_of(cred.access_key_id)
    if secret is None:
        raise SignatureRejected("the access key or signature is not valid")
    expected = expected_signature(req, cred, headers["x-amz-date"], secret, payload)
    if not hmac.compare_digest(expected, cred.signature):
        raise SignatureRejected("the access key or signature is not valid")
    return cred.access_key_id
