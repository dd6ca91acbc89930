#!/usr/bin/env node
// Drives a running Blockstore server from Node.js, loading our .proto files as they are.
//
//   node tests/interop/node_client.js ADDRESS TOKEN GRANTEE_TOKEN GRANTEE_ACCOUNT_ID
//
// Creates a volume, finds it in ListVolumes, takes a snapshot, then calls GetVolume on
// a missing id and decodes the error's google.rpc.Status / ErrorInfo from the
// `grpc-status-details-bin` trailer. Then shares the snapshot (without export) with a
// second account, which finds it through ListSnapshots(shared_with_me), clones it, and
// is refused a delete (PERMISSION_DENIED NOT_OWNER). Prints one JSON line; exits
// non-zero on surprise.
"use strict";

const path = require("path");
const grpc = require("@grpc/grpc-js");
const protoLoader = require("@grpc/proto-loader");
// protobufjs comes with proto-loader; resolve it from there rather than relying on hoisting.
const protobuf = require(require.resolve("protobufjs", {
  paths: [path.dirname(require.resolve("@grpc/proto-loader"))],
}));

const PROTOS = path.resolve(__dirname, "..", "..", "protos");

// google.rpc.Status and ErrorInfo, declared inline (the wire format is all we need).
const RPC = protobuf.Root.fromJSON({
  nested: {
    google: {
      nested: {
        protobuf: { nested: { Any: { fields: {
          type_url: { type: "string", id: 1 }, value: { type: "bytes", id: 2 } } } } },
        rpc: { nested: {
          Status: { fields: {
            code: { type: "int32", id: 1 },
            message: { type: "string", id: 2 },
            details: { rule: "repeated", type: "google.protobuf.Any", id: 3 } } },
          ErrorInfo: { fields: {
            reason: { type: "string", id: 1 },
            domain: { type: "string", id: 2 },
            metadata: { keyType: "string", type: "string", id: 3 } } },
        } },
      },
    },
  },
});
const Status = RPC.lookupType("google.rpc.Status");
const ErrorInfo = RPC.lookupType("google.rpc.ErrorInfo");

function loadControlPlane() {
  const definition = protoLoader.loadSync("blockstore/v1/control_plane.proto", {
    includeDirs: [PROTOS], keepCase: true, longs: String, enums: String, defaults: true,
  });
  return grpc.loadPackageDefinition(definition).blockstore.v1.ControlPlaneService;
}

function unary(client, method, request, metadata) {
  return new Promise((resolve, reject) => {
    client[method](request, metadata, { deadline: Date.now() + 15000 }, (err, reply) =>
      (err ? reject(err) : resolve(reply)));
  });
}

function errorInfo(err) {
  const raw = err.metadata && err.metadata.get("grpc-status-details-bin")[0];
  if (!raw) return null;
  const status = Status.decode(raw);
  const any = status.details.find((d) => d.type_url.endsWith("/google.rpc.ErrorInfo"));
  return any ? { status_code: status.code, ...ErrorInfo.toObject(ErrorInfo.decode(any.value)) }
    : null;
}

// The error of a call that must fail, decoded (null if it succeeded).
async function failure(call) {
  try {
    await call;
  } catch (err) {
    const info = errorInfo(err);
    return { code: err.code, code_name: grpc.status[err.code], message: err.details,
             reason: info && info.reason, domain: info && info.domain,
             status_code: info && info.status_code };
  }
  return null;
}

// The owner shares without export; the grantee sees, lists and clones, and may not delete.
async function share(client, md, snapshotId, granteeToken, granteeId) {
  const granted = (await unary(client, "ShareSnapshot",
    { snapshot_id: snapshotId, account_id: granteeId, allow_export: false }, md)).share;
  const shares = (await unary(client, "ListSnapshotShares", { snapshot_id: snapshotId }, md))
    .shares;
  const gmd = new grpc.Metadata();
  gmd.set("authorization", `Bearer ${granteeToken}`);
  const seen = (await unary(client, "GetSnapshot", { snapshot_id: snapshotId }, gmd)).snapshot;
  const listed = (await unary(client, "ListSnapshots", { shared_with_me: true }, gmd))
    .snapshots;
  const cloned = (await unary(client, "CreateVolume", { source_snapshot_id: snapshotId }, gmd))
    .volume;
  const deleteError = await failure(
    unary(client, "DeleteSnapshot", { snapshot_id: snapshotId }, gmd));
  return { share: granted, shares: shares.map((s) => s.account_id),
           owner_account_id: seen.owner_account_id,
           shared_with_me: listed.map((s) => s.snapshot_id),
           clone_source: cloned.source_snapshot_id, delete_error: deleteError };
}

async function main() {
  const [address, token, granteeToken, granteeId] = process.argv.slice(2);
  if (!granteeId) {
    throw new Error("usage: node_client.js ADDRESS TOKEN GRANTEE_TOKEN GRANTEE_ACCOUNT_ID");
  }
  const ControlPlane = loadControlPlane();
  const client = new ControlPlane(address, grpc.credentials.createInsecure());
  const md = new grpc.Metadata();
  md.set("authorization", `Bearer ${token}`);

  const created = await unary(client, "CreateVolume",
    { size_bytes: String(8 << 20), labels: { from: "node" } }, md);
  const volume = created.volume;
  const listed = await unary(client, "ListVolumes", { page_size: 1000 }, md);
  const snapshot = (await unary(client, "CreateSnapshot",
    { volume_id: volume.volume_id, mode: "SNAPSHOT_MODE_POINT_IN_TIME" }, md)).snapshot;

  const error = await failure(
    unary(client, "GetVolume", { volume_id: "vol-missing-from-node" }, md));
  const sharing = await share(client, md, snapshot.snapshot_id, granteeToken, granteeId);
  client.close();
  console.log(JSON.stringify({
    volume_id: volume.volume_id,
    size_bytes: Number(volume.size_bytes),
    open_version: Number(volume.open_version),
    listed: listed.volumes.some((v) => v.volume_id === volume.volume_id),
    snapshot: { snapshot_id: snapshot.snapshot_id, volume_id: snapshot.volume_id,
                version: Number(snapshot.version), state: snapshot.state },
    initial_snapshot_id: created.initial_snapshot_id,
    error,
    sharing,
  }));
}

main().catch((err) => {
  console.error(`node_client: ${err.stack || err}`);
  process.exit(1);
});
