"""The control plane: volumes, snapshots, versions, snapshot progress, idempotency keys.

`Volumes` and `Snapshots` are the domain objects; they run each operation as one
manifest write transaction, so version counters move atomically and snapshots of a
volume complete strictly in creation order (`manifest.ordering`). `servicer.py` is
the only module here that knows gRPC.
"""
