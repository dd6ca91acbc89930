// Drives a running Blockstore server from TypeScript with the stubs that `buf generate`
// writes to gen/ts (protobuf-es) over Connect's gRPC transport for Node.
//
//   node ts_client.js ADDRESS TOKEN        (after tsc; tests/interop/test_ts_client.py)
//
// Creates a volume, uploads one block with its BLAKE3 checksum, downloads it and
// compares, then uploads a block whose checksum is wrong and reads the ErrorInfo reason
// from the status details. Prints one JSON line; exits non-zero on surprise.
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { BinaryReader } from "@bufbuild/protobuf/wire";
import { blake3 } from "@noble/hashes/blake3.js";
import { Compression } from "../../gen/ts/blockstore/v1/common_pb.js";
import { ControlPlaneService } from "../../gen/ts/blockstore/v1/control_plane_pb.js";
import { DataPlaneService } from "../../gen/ts/blockstore/v1/data_plane_pb.js";

const CHUNK = 64 * 1024;

type Data = ReturnType<typeof createClient<typeof DataPlaneService>>;

// The block the test uploads: byte i is (i*7 + 3) mod 251, as in go_client/main.go.
function pattern(): Uint8Array {
  return Uint8Array.from({ length: CHUNK }, (_, i) => (i * 7 + 3) % 251);
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

async function upload(data: Data, volumeId: string, block: Uint8Array, checksum: Uint8Array) {
  async function* messages() {
    yield { message: { case: "target" as const,
                       value: { id: { case: "volumeId" as const, value: volumeId },
                                blockCount: 1n } } };
    yield { message: { case: "block" as const,
                       value: { offset: BigInt(CHUNK), length: BigInt(block.length), checksum,
                                compression: Compression.NONE, data: block } } };
  }
  return data.uploadBlocks(messages());
}

// Reads the block back, checking each piece against its BLAKE3 checksum.
async function download(data: Data, volumeId: string) {
  const pieces: Uint8Array[] = [];
  let checksum: Uint8Array = new Uint8Array();
  for await (const piece of data.downloadBlocks({
    source: { case: "volumeId", value: volumeId },
    ranges: [{ offset: BigInt(CHUNK), length: BigInt(CHUNK) }] })) {
    if (hex(blake3(piece.data)) !== hex(piece.checksum)) {
      throw new Error(`block at offset ${piece.offset} failed its BLAKE3 check`);
    }
    pieces.push(piece.data);
    checksum = piece.checksum;
  }
  return { bytes: Buffer.concat(pieces), checksum };
}

// google.rpc.ErrorInfo is not among our protos: its fields are reason = 1, domain = 2 and
// metadata = 3, a map<string, string> whose entries are messages of key = 1, value = 2.
function errorInfo(value: Uint8Array) {
  const info = { reason: "", domain: "", metadata: {} as Record<string, string> };
  const reader = new BinaryReader(value);
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1) info.reason = reader.string();
    else if (field === 2) info.domain = reader.string();
    else if (field === 3) {
      const entry = mapEntry(reader.bytes());
      info.metadata[entry.key] = entry.value;
    } else reader.skip(wireType);
  }
  return info;
}

function mapEntry(bytes: Uint8Array) {
  const entry = { key: "", value: "" };
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    if (field === 1) entry.key = reader.string();
    else if (field === 2) entry.value = reader.string();
    else reader.skip(wireType);
  }
  return entry;
}

function describe(err: unknown) {
  const error = ConnectError.from(err);
  // Details that came over the wire are {type, value}; decode the ErrorInfo one.
  const incoming = error.details.flatMap((d) => ("type" in d ? [d] : []));
  const detail = incoming.find((d) => d.type === "google.rpc.ErrorInfo");
  const info = detail ? errorInfo(detail.value) : null;
  return { code: Code[error.code], message: error.rawMessage, ...info };
}

async function main() {
  const [address, token] = process.argv.slice(2);
  if (!token) throw new Error("usage: ts_client.js ADDRESS TOKEN");
  const auth: Interceptor = (next) => (req) => {
    req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
  const transport = createGrpcTransport({ baseUrl: `http://${address}`, interceptors: [auth] });
  const control = createClient(ControlPlaneService, transport);
  const data = createClient(DataPlaneService, transport);

  const created = await control.createVolume(
    { sizeBytes: 1n << 20n, chunkSize: BigInt(CHUNK), labels: { from: "typescript" } });
  const volumeId = created.volume!.volumeId;
  const block = pattern();
  const checksum = blake3(block);
  const written = await upload(data, volumeId, block, checksum);
  const got = await download(data, volumeId);
  let error = null;
  try {
    await upload(data, volumeId, block, blake3(new TextEncoder().encode("not the block")));
  } catch (err) {
    error = describe(err);
  }
  console.log(JSON.stringify({
    volume_id: volumeId, blocks_written: Number(written.blocksWritten),
    checksum: hex(checksum), downloaded_checksum: hex(got.checksum),
    same_bytes: Buffer.from(block).equals(got.bytes), error }));
}

main().catch((err) => {
  console.error(`ts_client: ${err instanceof Error ? err.stack : err}`);
  process.exit(1);
});
