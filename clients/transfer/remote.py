"""What the target already holds, read along with the upload in chunk order.

A cursor over `ListBlocks` instead of one big map keeps memory bounded for any volume
size: the planner asks for one batch's range at a time, always ascending.
"""

from __future__ import annotations

class RemoteBlocks:
    """Per chunk index: its token, or None for written zeros; holes are absent."""

    PAGE = 5000
    compares = True

    def __init__(self, client, chunk_size: int, *, volume_id: str | None = None,
                 snapshot_id: str | None = None) -> None:
        self._entries = client.list_blocks(volume_id=volume_id, snapshot_id=snapshot_id,
                                           page_size=self.PAGE)
        self.chunk_size = chunk_size
        self._ahead = None          # the first entry past the last range asked for
        self._done = False

    async def upto(self, end_index: int) -> dict[int, bytes | None]:
        """Entries with index < end_index not returned before, as {index: token or None}."""
        found: dict[int, bytes | None] = {}
        while not self._done:
            entry = self._ahead or await anext(self._entries, None)
            self._ahead = None
            if entry is None:
                self._done = True
                break
            index = entry.offset // self.chunk_size
            if index >= end_index:
                self._ahead = entry
                break
            found[index] = None if entry.zero or not entry.token else bytes(entry.token)
        return found

    async def close(self) -> None:
        await self._entries.aclose()


class NoRemote:
    """An upload that compares with nothing: every chunk is sent."""

    compares = False

    async def upto(self, end_index: int) -> dict[int, bytes | None]:
        return {}

    async def close(self) -> None:
        return None
