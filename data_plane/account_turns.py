"""Per-account turns for expensive read calls (DownloadBlocks) within one process.

Why: a download can cost far more than it returns (a huge sparse range, thousands of
tiny ranges over one chunk), and each running one takes manifest read connections,
worker threads and event-loop time from every other call. Letting each account run
at most `per_account` of them at once, the rest waiting their turn (not refused:
clients of a stream have no retry), bounds what one account can take from the others
whatever it sends; its own extra calls only wait. Event-loop only: no lock needed.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import AsyncIterator


class AccountTurns:
    def __init__(self, per_account: int) -> None:
        self.per_account = per_account
        self._gates: dict[str, asyncio.Semaphore] = {}
        self._users: dict[str, int] = {}

    @asynccontextmanager
    async def turn(self, account_id: str) -> AsyncIterator[None]:
        gate = self._gates.setdefault(account_id, asyncio.Semaphore(self.per_account))
        self._users[account_id] = self._users.get(account_id, 0) + 1
        try:
            async with gate:
                yield
        finally:
            self._users[account_id] -= 1
            if not self._users[account_id]:          # forget idle accounts
                del self._users[account_id], self._gates[account_id]
