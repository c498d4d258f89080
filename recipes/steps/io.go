package steps

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/sous-ml/sous/artifacts"
	"github.com/sous-ml/sous/proto"
	"github.com/sous-ml/sous/recipes/frame"
	"github.com/sous-ml/sous/worker"
)

// input returns the ref of a named input of the job.
func input(job *proto.Job, name string) (proto.ArtifactRef, error) {
	ref, ok := job.Inputs[name]
	if !ok {
		return proto.ArtifactRef{}, worker.Permanent(proto.CodeBadMessage, fmt.Errorf("%s: job has no input %q", job.Step, name))
	}
	return ref, nil
}

// readTable loads a parquet input of the job.
func readTable(ctx context.Context, job *proto.Job, env *worker.Env, name string) (*frame.Frame, error) {
	ref, err := input(job, name)
	if err != nil {
		return nil, err
	}
	path, cleanup, err := artifacts.OpenBlobFile(ctx, env.Store, ref.Digest, env.TempDir)
	if err != nil {
		return nil, fmt.Errorf("%s: input %s: %w", job.Step, name, err)
	}
	defer cleanup()
	f, err := frame.ReadParquetFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: input %s: %w", job.Step, name, err)
	}
	return f, nil
}

// readBlob loads a small input (a model, a transformer, metrics) into memory.
func readBlob(ctx context.Context, job *proto.Job, env *worker.Env, name string) ([]byte, error) {
	ref, err := input(job, name)
	if err != nil {
		return nil, err
	}
	rc, err := env.Store.Get(ctx, artifacts.BlobName(ref.Digest))
	if err != nil {
		return nil, fmt.Errorf("%s: input %s: %w", job.Step, name, err)
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// writeTable stores f as a parquet blob.
func writeTable(ctx context.Context, env *worker.Env, name string, f *frame.Frame) (proto.ArtifactRef, error) {
	path := filepath.Join(env.TempDir, name+".parquet")
	if err := frame.WriteParquetFile(path, f); err != nil {
		return proto.ArtifactRef{}, fmt.Errorf("write %s: %w", name, err)
	}
	defer os.Remove(path)
	digest, size, err := artifacts.PutBlobFile(ctx, env.Store, path)
	if err != nil {
		return proto.ArtifactRef{}, fmt.Errorf("store %s: %w", name, err)
	}
	return proto.ArtifactRef{Digest: digest, Size: size}, nil
}

// writeBlob stores bytes as a blob.
func writeBlob(ctx context.Context, env *worker.Env, name string, data []byte) (proto.ArtifactRef, error) {
	digest, size, err := artifacts.PutBlob(ctx, env.Store, bytes.NewReader(data))
	if err != nil {
		return proto.ArtifactRef{}, fmt.Errorf("store %s: %w", name, err)
	}
	return proto.ArtifactRef{Digest: digest, Size: size}, nil
}
