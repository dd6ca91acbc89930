"""Blockstore: remote volume-based block storage over gRPC.

`blockstore.v1` holds the generated stubs of the public API (protos/blockstore/v1).
"""
