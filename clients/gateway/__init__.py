"""`blockstore gateway`: a Blockstore volume as a live disk over NBD.

A client of the public API only (it imports no server code): it works against any
Blockstore deployment. Pieces, each in its own module:
- `nbdproto`, `handshake`, `server`: the NBD protocol (fixed newstyle handshake, simple
  replies) in asyncio, serving any `disk.Disk`;
- `primary`: the volume is the disk: `clean` + `cache` (clean chunks by token, LRU,
  verified on entry), `wal` (durable write-back log), `basis` (which volume state the log
  applies to) and `remote` (ListBlocks, DownloadBlocks, UploadBlocks streams up to the cap);
- `shadow`, `shadowsync`: shadow mode (local file primary, background upload, bootstrap);
- `lease`: the volume's writer lease and the disk wrapper that enforces it;
- `run`: assembly, signals, status (`status`).

Invariants: a write is acknowledged only once it is durable locally; FLUSH/FUA returns
only once every earlier write is committed in the service; a crash never leaves half a
write inside a chunk; a failing FLUSH keeps every dirty chunk.
"""
