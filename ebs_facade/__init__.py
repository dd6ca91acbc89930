"""EBS direct facade: the six Amazon EBS direct APIs over HTTP(S), SigV4-authenticated.

StartSnapshot, PutSnapshotBlock, CompleteSnapshot, GetSnapshotBlock, ListSnapshotBlocks
and ListChangedBlocks, with the REST shapes of botocore's `ebs` model, mapped onto the
same domain objects the gRPC planes use (control_plane Volumes/Snapshots, data_plane
upload, download and listing) over the same manifest and chunk store; never through our
own gRPC server. docs/ebs.md sets out the mapping. Rules kept:
- every request is SigV4-verified and every query scoped by the key's account (another
  account's snapshot is ResourceNotFoundException, like a missing one, unless it is
  shared with the caller: then it is read out only with allow_export, as over gRPC);
- a block is stored only if its SHA256 matches x-amz-Checksum and, like every upload,
  its BLAKE3 token; it is acknowledged only once durable and committed;
- errors map to EBS error shapes in one table (ebs_facade/errors.py).

Modules: sigv4 (signature checks around botocore's signer), errors (the table), tokens
(block/page tokens), snapshots / blocks / groups / listing / aggregate (domain; groups:
concurrent puts to one snapshot committed together), routes / routes_blocks (HTTP
handlers), server (app, edge, listener; HTTPS with the context the wiring builds from
the server's TLS files, services/https.py). This package imports neither gRPC, nor the generated
stubs, nor the process wiring (services/ hands it what it needs).
"""
