"""Measure obstore against boto3 as the S3 chunk store's client, on SeaweedFS.

Starts SeaweedFS on loopback (tests/s3server.py) and times, per client: 128 create-only
puts of 1 MiB objects (If-None-Match: *), 128 gets, 128 heads, eight at a time, as the
data plane issues them. boto3 is synchronous, so it runs on a thread pool; obstore is
async. Prints MB/s and requests/s; the chunk store uses the faster.

    .venv/bin/python bench/s3_client.py
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from tests.s3server import ACCESS_KEY, SECRET_KEY, start_seaweedfs  # noqa: E402

N, SIZE, PAR = 128, 1 << 20, 8
BLOBS = [os.urandom(SIZE) for _ in range(8)]


async def bounded(fns) -> None:
    sem = asyncio.Semaphore(PAR)

    async def one(fn):
        async with sem:
            await fn()
    await asyncio.gather(*(one(f) for f in fns))


async def run_obstore(endpoint: str, run: int) -> dict[str, float]:
    import obstore
    from obstore.store import S3Store
    s = S3Store("bench", endpoint=endpoint, access_key_id=ACCESS_KEY,
                secret_access_key=SECRET_KEY, region="us-east-1",
                client_options={"allow_http": True})
    keys = [f"obstore{run}/{i}" for i in range(N)]
    out = {}
    t = time.perf_counter()
    await bounded([lambda k=k, i=i: obstore.put_async(s, k, BLOBS[i % 8], mode="create")
                   for i, k in enumerate(keys)])
    out["put"] = time.perf_counter() - t

    async def get(k):
        await (await obstore.get_async(s, k)).bytes_async()
    t = time.perf_counter()
    await bounded([lambda k=k: get(k) for k in keys])
    out["get"] = time.perf_counter() - t
    t = time.perf_counter()
    await bounded([lambda k=k: obstore.head_async(s, k) for k in keys])
    out["head"] = time.perf_counter() - t
    return out


async def run_boto3(endpoint: str, run: int) -> dict[str, float]:
    import boto3
    c = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=ACCESS_KEY,
                     aws_secret_access_key=SECRET_KEY, region_name="us-east-1")
    pool = ThreadPoolExecutor(PAR)
    loop = asyncio.get_running_loop()
    keys = [f"boto{run}/{i}" for i in range(N)]

    def call(fn, **kw):
        return lambda: loop.run_in_executor(pool, lambda: fn(Bucket="bench", **kw))
    out = {}
    t = time.perf_counter()
    await bounded([call(c.put_object, Key=k, Body=BLOBS[i % 8], IfNoneMatch="*")
                   for i, k in enumerate(keys)])
    out["put"] = time.perf_counter() - t
    t = time.perf_counter()
    await bounded([call(lambda **kw: c.get_object(**kw)["Body"].read(), Key=k) for k in keys])
    out["get"] = time.perf_counter() - t
    t = time.perf_counter()
    await bounded([call(c.head_object, Key=k) for k in keys])
    out["head"] = time.perf_counter() - t
    pool.shutdown()
    return out


async def main() -> None:
    weed = start_seaweedfs()
    try:
        for run in range(2):
            for name, fn in (("obstore", run_obstore), ("boto3", run_boto3)):
                r = await fn(weed.endpoint, run)
                print(f"{name:8} run {run}: put {N * SIZE / r['put'] / 1e6:6.0f} MB/s  "
                      f"get {N * SIZE / r['get'] / 1e6:6.0f} MB/s  "
                      f"head {N / r['head']:6.0f} req/s")
    finally:
        weed.stop()


if __name__ == "__main__":
    asyncio.run(main())
