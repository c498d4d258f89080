package coordinator

import (
	"bytes"
	"context"
	"encoding/json"
	"io"

	"github.com/sous-ml/sous/artifacts"
	"github.com/sous-ml/sous/recipes"
)

func writeBytes(ctx context.Context, s artifacts.Store, name string, data []byte) error {
	return s.Put(ctx, name, bytes.NewReader(data), int64(len(data)))
}

func readKeyDoc(ctx context.Context, s artifacts.Store, name string) (*recipes.KeyDoc, error) {
	rc, err := s.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return nil, err
	}
	var doc recipes.KeyDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	return &doc, nil
}

// digestCache remembers source digests between runs; see recipes.DigestCache.
type digestCache struct {
	path  string
	cache *recipes.DigestCache
}

func newDigestCache(path string) *digestCache { return &digestCache{path: path} }

func (d *digestCache) digest(p string) (string, int64, error) {
	if d.cache == nil {
		c, err := recipes.NewDigestCache(d.path)
		if err != nil {
			return "", 0, err
		}
		d.cache = c
	}
	return d.cache.Digest(p)
}

func (d *digestCache) save() error {
	if d.cache == nil || d.path == "" {
		return nil
	}
	return d.cache.Save()
}
