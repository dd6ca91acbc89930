"""Account administration against the manifest database directly."""

from __future__ import annotations

from blockstore.clock import Clock, IdGenerator
from blockstore.errors import InvalidArgument
from manifest import Account, ManifestStore
from services.auth import new_token, token_hash


async def create_account(store: ManifestStore, name: str, clock: Clock,
                         ids: IdGenerator) -> tuple[Account, str]:
    """Create an account; returns it with its bearer token (shown once, stored hashed)."""
    if not name or len(name) > 128:
        raise InvalidArgument(f"account name {name[:40]!r} must have 1..128 characters")
    token = new_token()
    account = Account(ids.new("acct"), name, clock.now_us())
    async with store.write() as tx:
        if await tx.account_by_name(name):
            raise InvalidArgument(f"account {name!r} already exists")
        await tx.insert_account(account, token_hash(token))
    return account, token


async def has_accounts(store: ManifestStore) -> bool:
    async with store.read() as tx:
        return await tx.account_count() > 0
