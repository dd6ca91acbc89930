"""Idempotent creates.

Owns `run_once` and request fingerprints. Rule: one key, one resource, one answer; the
same key with a different request is refused, not answered with the first result.

The key, the request's fingerprint and the first result are stored in the same write
transaction that creates the resource. Writer transactions are serialized
(`BEGIN IMMEDIATE`), so of many concurrent requests with one key exactly one runs the
create and every other one reads its record: one resource, one answer. The record
lives `ttl` (24 hours by default); after that the key may be used afresh.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Awaitable, Callable, TypeVar

from blockstore.errors import IdempotencyKeyReused
from manifest import IdempotencyRecord, ManifestTx

T = TypeVar("T")
PURGE_PER_CREATE = 16


def fingerprint(params: dict[str, Any]) -> bytes:
    return hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).digest()


async def run_once(tx: ManifestTx, account_id: str, operation: str, key: str,
                   params: dict[str, Any], now_us: int, ttl_us: int,
                   create: Callable[[], Awaitable[T]], encode: Callable[[T], str],
                   decode: Callable[[str], T]) -> T:
    """Run `create` unless `key` already produced a result for these `params`."""
    if not key:
        return await create()
    digest = fingerprint(params)
    record = await tx.get_idempotency(account_id, operation, key)
    if record and record.created_at + ttl_us > now_us:
        if record.fingerprint != digest:
            raise IdempotencyKeyReused(
                f"idempotency key {key!r} was already used for a {operation} with different "
                "parameters", idempotency_key=key)
        return decode(record.result)
    result = await create()
    await tx.put_idempotency(account_id, operation, key,
                             IdempotencyRecord(digest, encode(result), now_us))
    # Each keyed create also clears a few expired records (of any account), so the table
    # stays about one TTL's worth of creates without a separate sweeper.
    await tx.purge_idempotency(now_us - ttl_us, PURGE_PER_CREATE)
    return result
