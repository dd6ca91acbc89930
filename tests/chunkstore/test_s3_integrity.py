"""A chunk whose bytes change on the way to the object store is refused by the store, so
the put fails and nothing is acknowledged: every PUT carries a checksum of its body
(`x-amz-checksum-crc64nvme`) that the store verifies before storing.

SeaweedFS does not check the SigV4 payload hash (`x-amz-content-sha256`): with only that,
a corrupted body was stored and the put acknowledged, and the damage showed only when the
chunk was read back.
"""

from __future__ import annotations

import os

import pytest

from chunkstore.open import STORE_ERRORS
from chunkstore.s3 import S3ChunkStore
from chunkstore.s3_config import parse_s3_url
from tests.chunkstore.conftest import make_chunk
from tests.s3_flip_proxy import flipping_proxy


@pytest.mark.parametrize("overwrite", [False, True])
async def test_a_chunk_corrupted_on_its_way_to_the_store_is_refused(seaweedfs, overwrite):
    prefix = f"flip-{overwrite}-{os.getpid()}"
    token, compression, payload, plain = make_chunk(7, compressible=False)
    async with flipping_proxy(seaweedfs.s3_port, b"/chunks/") as (port, flipped):
        url = f"s3://conformance/{prefix}?endpoint=http://127.0.0.1:{port}"
        store = S3ChunkStore(parse_s3_url(url, seaweedfs.env()))
        with pytest.raises(STORE_ERRORS):
            await store.put(token, payload, compression, len(plain), overwrite=overwrite)
    assert flipped, "the proxy saw no chunk PUT"
    direct = S3ChunkStore(parse_s3_url(seaweedfs.url("conformance", prefix), seaweedfs.env()))
    assert await direct.stat(token) is None          # nothing half-true was stored
    # The same put without the faulty hop goes through and reads back whole.
    assert await direct.put(token, payload, compression, len(plain), overwrite=overwrite)
    assert (await direct.get(token)).plain == plain


@pytest.mark.parametrize("endpoint, private", [
    ("https://s3.example.com", True), ("http://127.0.0.1:8333", True),
    ("http://[::1]:8333", True), ("http://localhost:8333", True),
    ("http://10.0.0.5:8333", False), ("http://s3.example.com", False)])
def test_the_payload_hash_is_left_out_only_on_tls_or_loopback(endpoint, private):
    config = parse_s3_url(f"s3://b?endpoint={endpoint}", {"AWS_ACCESS_KEY_ID": "k",
                                                          "AWS_SECRET_ACCESS_KEY": "s"})
    assert config.private_channel is private
