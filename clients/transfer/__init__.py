"""Bulk transfer between local images and remote volumes or snapshots.

Upload (`upload_image`), a pipeline of one planner and N sender streams:
1. the planner reads and hashes one batch of chunks at a time in worker threads
   (BLAKE3 token; an all-zero chunk has no token), and compares each with what the
   target already holds at that offset (a `ListBlocks` cursor that walks along with
   it), so unchanged chunks are never sent: this makes incremental backups and resumed
   uploads cheap;
2. `FindMissingChunks` says which tokens the account lacks: those go as data (zstd
   when that saves bytes), every other token as a reference, zeros as `zero`;
3. each batch is one `UploadBlocks` stream, committed atomically by the server, so an
   interrupted upload loses at most the streams in flight, and a rerun skips what was
   committed. A token that an earlier, still running stream of this run sends as data
   is referenced by later streams, which open only once that stream committed: no
   chunk is sent twice.
Memory stays bounded by `Tuning.max_inflight` whatever the image size: only the
batches being planned, queued and sent hold data.

Download (`download_to_fd`): ranges spread over N streams; every block is checked
against its BLAKE3 (a failure is `DataLoss` with reason CLIENT_VERIFICATION_FAILED);
zero blocks are skipped (sparse output) or written as zeros / punched holes when the
output already holds data.
"""

from clients.data import snapshot_target, volume_target
from clients.transfer.download import changed_ranges, download_to_fd, verify_block
from clients.transfer.output import output_size
from clients.transfer.stats import TransferStats
from clients.transfer.tuning import Tuning
from clients.transfer.upload import upload_image

__all__ = ["Tuning", "TransferStats", "changed_ranges", "download_to_fd", "output_size",
           "snapshot_target", "upload_image", "verify_block", "volume_target"]
