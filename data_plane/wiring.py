"""Builds the data-plane servicer for services/server.py (UNIMPLEMENTED until written)."""

from __future__ import annotations

from blockstore.v1 import data_plane_pb2_grpc


async def build_data_plane(config, store):
    async def close() -> None:
        return None
    return data_plane_pb2_grpc.DataPlaneServiceServicer(), close
