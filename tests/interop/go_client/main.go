// Command go_client drives a running Blockstore server from Go with the stubs that
// `buf generate` writes to gen/go (package blockstore/gen/go/blockstore/v1).
//
//	go_client ADDRESS TOKEN
//
// Creates a volume, uploads one block with its BLAKE3 checksum, downloads it and
// compares, then uploads a block whose checksum is wrong and reads the ErrorInfo reason
// from the status details. Prints one JSON line; exits non-zero on surprise.
package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	blockstorev1 "blockstore/gen/go/blockstore/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"lukechampine.com/blake3"
)

const chunkSize = 64 << 10

// Pattern is the block the test uploads: byte i is (i*7 + 3) mod 251, so the Python
// side can rebuild it and check what the server stored.
func pattern() []byte {
	data := make([]byte, chunkSize)
	for i := range data {
		data[i] = byte((i*7 + 3) % 251)
	}
	return data
}

type failure struct {
	Code     string            `json:"code"`
	Message  string            `json:"message"`
	Reason   string            `json:"reason"`
	Domain   string            `json:"domain"`
	Metadata map[string]string `json:"metadata"`
}

type result struct {
	VolumeID      string   `json:"volume_id"`
	BlocksWritten int64    `json:"blocks_written"`
	Checksum      string   `json:"checksum"`
	Downloaded    string   `json:"downloaded_checksum"`
	Same          bool     `json:"same_bytes"`
	Error         *failure `json:"error"`
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: go_client ADDRESS TOKEN")
		os.Exit(2)
	}
	out, err := run(os.Args[1], os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, "go_client:", err)
		os.Exit(1)
	}
	line, _ := json.Marshal(out)
	fmt.Println(string(line))
}

func run(address, token string) (*result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
	// Plaintext on loopback. Debian 12's grpc-go (1.33) predates credentials/insecure,
	// so WithInsecure it is; a TLS server takes grpc.WithTransportCredentials instead.
	conn, err := grpc.DialContext(ctx, address, grpc.WithInsecure(), grpc.WithBlock())
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", address, err)
	}
	defer conn.Close()
	control := blockstorev1.NewControlPlaneServiceClient(conn)
	data := blockstorev1.NewDataPlaneServiceClient(conn)

	created, err := control.CreateVolume(ctx, &blockstorev1.CreateVolumeRequest{
		SizeBytes: 1 << 20, ChunkSize: chunkSize, Labels: map[string]string{"from": "go"}})
	if err != nil {
		return nil, fmt.Errorf("CreateVolume: %w", err)
	}
	volumeID := created.GetVolume().GetVolumeId()
	block := pattern()
	sum := blake3.Sum256(block)
	written, err := upload(ctx, data, volumeID, block, sum[:])
	if err != nil {
		return nil, fmt.Errorf("UploadBlocks: %w", err)
	}
	got, gotSum, err := download(ctx, data, volumeID)
	if err != nil {
		return nil, fmt.Errorf("DownloadBlocks: %w", err)
	}
	wrong := blake3.Sum256([]byte("not the block"))
	_, err = upload(ctx, data, volumeID, block, wrong[:])
	return &result{
		VolumeID: volumeID, BlocksWritten: written.GetBlocksWritten(),
		Checksum: hex.EncodeToString(sum[:]), Downloaded: hex.EncodeToString(gotSum),
		Same: bytes.Equal(got, block), Error: describe(err),
	}, nil
}

// Upload sends one block at offset chunkSize in its own stream.
func upload(ctx context.Context, data blockstorev1.DataPlaneServiceClient, volumeID string,
	block, checksum []byte) (*blockstorev1.UploadBlocksResponse, error) {
	stream, err := data.UploadBlocks(ctx)
	if err != nil {
		return nil, err
	}
	target := &blockstorev1.UploadTarget{
		Id: &blockstorev1.UploadTarget_VolumeId{VolumeId: volumeID}, BlockCount: 1}
	messages := []*blockstorev1.UploadBlocksRequest{
		{Message: &blockstorev1.UploadBlocksRequest_Target{Target: target}},
		{Message: &blockstorev1.UploadBlocksRequest_Block{Block: &blockstorev1.UploadBlock{
			Offset: chunkSize, Length: int64(len(block)), Checksum: checksum,
			Compression: blockstorev1.Compression_COMPRESSION_NONE, Data: block}}},
	}
	for _, message := range messages {
		if err := stream.Send(message); err != nil && err != io.EOF {
			return nil, err
		}
	}
	return stream.CloseAndRecv()
}

// Download reads the block back and checks each piece against its BLAKE3 checksum.
func download(ctx context.Context, data blockstorev1.DataPlaneServiceClient,
	volumeID string) ([]byte, []byte, error) {
	stream, err := data.DownloadBlocks(ctx, &blockstorev1.DownloadBlocksRequest{
		Source: &blockstorev1.DownloadBlocksRequest_VolumeId{VolumeId: volumeID},
		Ranges: []*blockstorev1.ByteRange{{Offset: chunkSize, Length: chunkSize}}})
	if err != nil {
		return nil, nil, err
	}
	var got, checksum []byte
	for {
		piece, err := stream.Recv()
		if err == io.EOF {
			return got, checksum, nil
		}
		if err != nil {
			return nil, nil, err
		}
		sum := blake3.Sum256(piece.GetData())
		if !bytes.Equal(sum[:], piece.GetChecksum()) {
			return nil, nil, fmt.Errorf("block at offset %d failed its BLAKE3 check",
				piece.GetOffset())
		}
		got, checksum = append(got, piece.GetData()...), piece.GetChecksum()
	}
}

// Describe turns a gRPC error into its code, message and google.rpc.ErrorInfo.
func describe(err error) *failure {
	if err == nil {
		return nil
	}
	st := status.Convert(err)
	out := &failure{Code: st.Code().String(), Message: st.Message()}
	for _, detail := range st.Details() {
		if info, ok := detail.(*errdetails.ErrorInfo); ok {
			out.Reason, out.Domain, out.Metadata = info.GetReason(), info.GetDomain(),
				info.GetMetadata()
		}
	}
	return out
}
