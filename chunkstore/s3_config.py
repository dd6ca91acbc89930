"""`--chunks s3://BUCKET[/PREFIX]?endpoint=http://HOST:PORT[&region=REGION]`, parsed and
checked when built; credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.

Owns `S3Config`, the parsing and checks of an `s3://` URL. Rule: a bad URL fails when
parsed, naming what is wrong; credentials come only from the environment, never the URL.

Object layout under PREFIX (the same bytes as the local backend's files, fileformat.py):
    chunks/ab/cd/<64 hex>       a chunk: 24-byte header + payload (user metadata `seen`)
    seen/ab/cd/<64 hex>         its last dedup hit or touch (text, Unix seconds), see s3.py
    intents/<time_ns>-<rand>    tokens about to be overwritten, see s3_intents.py
    quarantine/<hex>.<time_ns>  a chunk that failed verification
    identity                    the manifest this store is bound to
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

EXAMPLE = "s3://BUCKET[/PREFIX]?endpoint=http://HOST:PORT[&region=REGION]"


@dataclass(frozen=True)
class S3Config:
    bucket: str
    prefix: str                    # "" or "some/prefix/" (always ends with "/")
    endpoint: str
    region: str
    access_key_id: str
    secret_access_key: str

    @property
    def private_channel(self) -> bool:
        """TLS or loopback: nothing between this process and the store can rewrite a
        request body unnoticed (TLS authenticates the bytes; loopback has no wire)."""
        parts = urlsplit(self.endpoint)
        if parts.scheme == "https" or parts.hostname == "localhost":
            return True
        try:
            return ipaddress.ip_address(parts.hostname or "").is_loopback
        except ValueError:
            return False                   # a host name: it may resolve anywhere

    def key(self, *parts: str) -> str:
        return self.prefix + "/".join(parts)

    def chunk_key(self, token: bytes) -> str:
        name = token.hex()
        return self.key("chunks", name[:2], name[2:4], name)

    def seen_key(self, token: bytes) -> str:
        name = token.hex()
        return self.key("seen", name[:2], name[2:4], name)


def check_s3_url(url: str) -> tuple[str, dict[str, list[str]]]:
    """The URL's bucket and query once its shape is right (no credentials needed, so a
    configuration can be checked where they are not set)."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    if parts.scheme != "s3" or not parts.netloc or set(query) - {"endpoint", "region"}:
        raise ValueError(f"chunk store URL {url!r}: expected {EXAMPLE}")
    endpoint = query.get("endpoint", [""])[0]
    if not urlsplit(endpoint).scheme in ("http", "https") or not urlsplit(endpoint).netloc:
        raise ValueError(f"chunk store URL {url!r}: endpoint=http(s)://HOST:PORT is required")
    return parts.netloc, query


def parse_s3_url(url: str, env: dict[str, str] | None = None) -> S3Config:
    env = os.environ if env is None else env
    check_s3_url(url)
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    endpoint = query["endpoint"][0]
    key_id, secret = env.get("AWS_ACCESS_KEY_ID", ""), env.get("AWS_SECRET_ACCESS_KEY", "")
    if not key_id or not secret:
        raise ValueError(f"chunk store {parts.netloc!r}: set AWS_ACCESS_KEY_ID and "
                         "AWS_SECRET_ACCESS_KEY")
    prefix = parts.path.strip("/")
    return S3Config(parts.netloc, prefix + "/" if prefix else "", endpoint.rstrip("/"),
                    query.get("region", ["us-east-1"])[0], key_id, secret)
