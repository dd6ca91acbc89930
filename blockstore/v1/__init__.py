"""Generated gRPC stubs for the blockstore.v1 API (scripts/gen_protos.sh). Do not edit."""
