"""Account administration against the manifest database directly.

An account gets a bearer token (gRPC) and, in the same transaction, a SigV4 access key
pair (the EBS direct facade, docs/ebs.md). Both are shown once. The token is stored
only as a hash; the secret access key cannot be (an HMAC verifier needs it), so it is
stored as issued and never leaves the database again.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from blockstore.clock import Clock, IdGenerator
from blockstore.errors import InvalidArgument
from manifest import Account, ManifestStore
from services.auth import new_token, token_hash

ACCESS_KEY_PREFIX = "BSAK"
_KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


@dataclass(frozen=True)
class AccessKey:
    access_key_id: str        # "BSAK" + 16 characters, like AWS's 20-character key ids
    secret_access_key: str    # 256 random bits


def new_access_key() -> AccessKey:
    key_id = ACCESS_KEY_PREFIX + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16))
    return AccessKey(key_id, secrets.token_urlsafe(32))


async def create_account(store: ManifestStore, name: str, clock: Clock,
                         ids: IdGenerator) -> tuple[Account, str]:
    """Create an account; returns it with its bearer token (shown once, stored hashed)."""
    account, token, _ = await create_account_with_key(store, name, clock, ids)
    return account, token


async def create_account_with_key(store: ManifestStore, name: str, clock: Clock,
                                  ids: IdGenerator) -> tuple[Account, str, AccessKey]:
    """Create an account with its bearer token and its SigV4 access key pair."""
    if not name or len(name) > 128:
        raise InvalidArgument(f"account name {name[:40]!r} must have 1..128 characters")
    token, key = new_token(), new_access_key()
    account = Account(ids.new("acct"), name, clock.now_us())
    async with store.write() as tx:
        if await tx.account_by_name(name):
            raise InvalidArgument(f"account {name!r} already exists")
        await tx.insert_account(account, token_hash(token))
        await tx.insert_access_key(key.access_key_id, account.account_id,
                                   key.secret_access_key, account.created_at)
    return account, token, key


async def has_accounts(store: ManifestStore) -> bool:
    async with store.read() as tx:
        return await tx.account_count() > 0


async def list_accounts(store: ManifestStore) -> list[Account]:
    """Every account by name: ids and names only, never token hashes."""
    async with store.read() as tx:
        return await tx.list_accounts()
