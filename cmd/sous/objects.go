package main

import (
	"context"

	"fmt"
	"os"
	"path"
	"strings"
	"sync"

	"github.com/sous-ml/sous/artifacts"
	"github.com/sous-ml/sous/artifacts/s3"
	"github.com/sous-ml/sous/worker"
)

// s3Objects reads data where it lives in S3: it lists s3:// source
// locations for a submission and opens objects for the steps
// (worker.Objects), with the AWS_* environment and one client per bucket.
type s3Objects struct {
	mu     sync.Mutex
	stores map[string]*s3.Store
}

func newS3Objects() *s3Objects { return &s3Objects{stores: map[string]*s3.Store{}} }

// splitS3 splits s3://bucket/key.
func splitS3(uri string) (bucket, key string, err error) {
	rest, ok := strings.CutPrefix(uri, "s3://")
	bucket, key, _ = strings.Cut(rest, "/")
	if !ok || bucket == "" {
		return "", "", fmt.Errorf("%q: want s3://bucket/key", uri)
	}
	return bucket, key, nil
}

func (o *s3Objects) store(ctx context.Context, bucket string) (*s3.Store, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if st, ok := o.stores[bucket]; ok {
		return st, nil
	}
	cfg, err := s3.ConfigFromEnv("s3://"+bucket, os.Getenv)
	if err != nil {
		return nil, err
	}
	st, err := s3.New(ctx, cfg)
	if err != nil {
		return nil, err
	}
	o.stores[bucket] = st
	return st, nil
}

// Open opens s3://bucket/key for random access.
func (o *s3Objects) Open(ctx context.Context, uri string) (worker.Object, error) {
	bucket, key, err := splitS3(uri)
	if err != nil {
		return nil, err
	}
	st, err := o.store(ctx, bucket)
	if err != nil {
		return nil, err
	}
	return st.Open(ctx, key)
}

// list resolves an s3:// location to its objects: the object itself when
// the location ends with ext, else every object with extension ext under it
// as a directory, skipping names that start with "." or "_" (as for a local
// directory). Infos are named by their s3:// URI.
func (o *s3Objects) list(ctx context.Context, location, ext string) ([]artifacts.Info, error) {
	bucket, key, err := splitS3(location)
	if err != nil {
		return nil, err
	}
	st, err := o.store(ctx, bucket)
	if err != nil {
		return nil, err
	}
	var infos []artifacts.Info
	if strings.HasSuffix(key, ext) {
		info, err := st.Stat(ctx, key)
		if err != nil {
			return nil, err
		}
		infos = []artifacts.Info{info}
	} else {
		prefix := strings.TrimSuffix(key, "/")
		if prefix != "" {
			prefix += "/"
		}
		all, err := st.List(ctx, prefix)
		if err != nil {
			return nil, err
		}
		for _, info := range all {
			base := path.Base(info.Name)
			if strings.HasSuffix(info.Name, ext) && !strings.HasPrefix(base, ".") && !strings.HasPrefix(base, "_") {
				infos = append(infos, info)
			}
		}
	}
	if len(infos) == 0 {
		return nil, fmt.Errorf("%s holds no %s objects: %w", location, ext, artifacts.ErrNotFound)
	}
	for i := range infos {
		infos[i].Name = "s3://" + bucket + "/" + infos[i].Name
	}
	return infos, nil
}

func (o *s3Objects) close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, st := range o.stores {
		_ = st.Close()
	}
	o.stores = map[string]*s3.Store{}
}

var _ worker.Objects = (*s3Objects)(nil)
