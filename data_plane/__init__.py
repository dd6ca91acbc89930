"""The data plane: blocks in and out with BLAKE3 checksums, dedup tokens and zstd.

It reads and writes only through the manifest database and the chunk store, so any
number of data-plane processes can share one database and one chunk store. Domain
modules (`upload`, `download`, `listing`, `views`, `blocks`) know nothing of gRPC;
`servicer.py` converts at the edge and `wiring.py` assembles the parts.
"""
