"""The data plane's registration on a gRPC server, with DownloadBlocks framed by hand.

Owns one rule: a downloaded block's bytes are copied once between the chunk store and
gRPC. The generated class copied them three times per message (into the message, into
its encoding, into the bytes object returned), ~13% of a restore's server CPU. Here the
servicer yields `BlockOut` records and `block_wire` encodes one: the small fields by the
generated class, the data field appended after them (a protobuf parser reads fields in
any order, so the bytes are a valid DownloadBlocksResponse). Every other method is
registered exactly as the generated code does.
"""

from __future__ import annotations

import grpc

from blockstore.protowire import varint
from blockstore.v1 import common_pb2 as pb
from blockstore.v1 import data_plane_pb2 as dp
from blockstore.v1 import data_plane_pb2_grpc as dp_grpc
from data_plane.download import BlockOut

COMPRESSION_PB = {"none": pb.COMPRESSION_NONE, "zstd": pb.COMPRESSION_ZSTD}
_DATA_KEY = bytes([5 << 3 | 2])        # DownloadBlocksResponse.data: field 5, length-delimited


def block_wire(b: BlockOut) -> bytes:
    """`b` as the wire bytes of a DownloadBlocksResponse."""
    head = dp.DownloadBlocksResponse(offset=b.offset, length=b.length, checksum=b.checksum,
                                     compression=COMPRESSION_PB[b.compression.value],
                                     zero=b.zero).SerializeToString()
    if not b.data:
        return head
    return b"".join((head, _DATA_KEY, varint(len(b.data)), b.data))


class _Table:
    """Stands in for the server while the generated code registers, keeping its table."""

    def add_generic_rpc_handlers(self, handlers) -> None:
        pass

    def add_registered_method_handlers(self, service: str, table: dict) -> None:
        self.service, self.table = service, dict(table)


def add_to_server(servicer: dp_grpc.DataPlaneServiceServicer, server: grpc.aio.Server) -> None:
    """The generated registration, DownloadBlocks' items encoded by `block_wire`."""
    kept = _Table()
    dp_grpc.add_DataPlaneServiceServicer_to_server(servicer, kept)
    table = kept.table
    table["DownloadBlocks"] = table["DownloadBlocks"]._replace(response_serializer=block_wire)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(kept.service, table),))
    server.add_registered_method_handlers(kept.service, table)
