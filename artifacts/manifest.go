package artifacts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"sync"
	"time"
)

// ManifestSchema is the version of the manifest format this package writes.
// ReadManifest refuses manifests with a higher version.
const ManifestSchema = 1

// maxManifestSize bounds how much of a manifest object ReadManifest reads.
const maxManifestSize = 64 << 20

// checkConcurrency bounds the Stat calls CheckManifest runs at once.
const checkConcurrency = 8

// Ref names a blob: its digest (see BlobName) and size in bytes.
type Ref struct {
	Digest string `json:"digest"`
	Size   int64  `json:"size"`
}

// Manifest records one cached step output: the blobs a step produced for a
// cache key, and what the step reported. It is written once, create-only, at
// ManifestName(Step, Key), after the blobs it names are stored.
type Manifest struct {
	Schema int    `json:"schema"`
	Step   string `json:"step"`
	Key    string `json:"key"`
	// Outputs maps each output name to its blob.
	Outputs map[string]Ref     `json:"outputs"`
	Metrics map[string]float64 `json:"metrics,omitempty"`
	Summary string             `json:"summary,omitempty"`
	// Card is the digest of the step's HTML card blob, if it has one.
	Card string `json:"card,omitempty"`
	// KeyDoc is the canonical document the cache key was derived from, kept
	// to explain cache misses.
	KeyDoc json.RawMessage `json:"key_doc,omitempty"`
	// Result is the step result as the worker reported it, opaque to this package.
	Result  json.RawMessage   `json:"result,omitempty"`
	RunID   string            `json:"run_id,omitempty"`
	Created time.Time         `json:"created"`
	Extra   map[string]string `json:"extra,omitempty"`
}

// ManifestName returns the object name of the manifest for step and key:
// "steps/<step>/<key>/manifest.json".
func ManifestName(step, key string) string {
	return "steps/" + step + "/" + key + "/manifest.json"
}

// checkStepKey makes sure step and key are single, valid name elements, so
// that ManifestName cannot collide with another step's manifest.
func checkStepKey(step, key string) error {
	for _, p := range [...]struct{ what, v string }{{"step", step}, {"key", key}} {
		if strings.Contains(p.v, "/") {
			return fmt.Errorf("%w: %s %q contains /", ErrInvalidName, p.what, p.v)
		}
		if err := CheckName(p.v); err != nil {
			return fmt.Errorf("%s: %w", p.what, err)
		}
	}
	return nil
}

// Validate checks that m can be committed: a known schema, a valid step and
// key, valid digests and sizes, and finite metrics (JSON has no NaN or Inf).
func (m *Manifest) Validate() error {
	if m.Schema < 1 || m.Schema > ManifestSchema {
		return fmt.Errorf("artifacts: manifest schema %d, want 1..%d", m.Schema, ManifestSchema)
	}
	if err := checkStepKey(m.Step, m.Key); err != nil {
		return fmt.Errorf("artifacts: manifest: %w", err)
	}
	for name, ref := range m.Outputs {
		if err := checkDigest(ref.Digest); err != nil {
			return fmt.Errorf("artifacts: manifest %s/%s: output %q: %w", m.Step, m.Key, name, err)
		}
		if ref.Size < 0 {
			return fmt.Errorf("artifacts: manifest %s/%s: output %q: negative size %d", m.Step, m.Key, name, ref.Size)
		}
	}
	if m.Card != "" {
		if err := checkDigest(m.Card); err != nil {
			return fmt.Errorf("artifacts: manifest %s/%s: card: %w", m.Step, m.Key, err)
		}
	}
	for name, v := range m.Metrics {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("artifacts: manifest %s/%s: metric %q is %v, which JSON cannot hold", m.Step, m.Key, name, v)
		}
	}
	return nil
}

// CommitManifest validates m and writes it create-only. It returns an error
// wrapping ErrExists if a manifest for the same step and key was committed
// earlier; the caller treats that as a duplicate and reads the first one.
// The blobs m names must already be stored.
func CommitManifest(ctx context.Context, s Store, m *Manifest) error {
	name, data, err := encodeManifest(m)
	if err != nil {
		return err
	}
	if err := s.Create(ctx, name, bytes.NewReader(data), int64(len(data))); err != nil {
		return fmt.Errorf("artifacts: commit %s: %w", name, err)
	}
	return nil
}

// RepairManifest replaces a committed manifest that CheckManifest rejects
// (an object it names is gone, or it cannot be read) with m, whose objects
// all exist. It is the one case where a manifest is overwritten: without it
// a damaged cache entry could never be mended, since commits are create-only.
func RepairManifest(ctx context.Context, s Store, m *Manifest) error {
	name, data, err := encodeManifest(m)
	if err != nil {
		return err
	}
	if err := s.Put(ctx, name, bytes.NewReader(data), int64(len(data))); err != nil {
		return fmt.Errorf("artifacts: repair %s: %w", name, err)
	}
	return nil
}

// encodeManifest validates m and returns its object name and bytes.
func encodeManifest(m *Manifest) (string, []byte, error) {
	if err := m.Validate(); err != nil {
		return "", nil, err
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return "", nil, fmt.Errorf("artifacts: manifest %s/%s: %w", m.Step, m.Key, err)
	}
	return ManifestName(m.Step, m.Key), append(data, '\n'), nil
}

// ReadManifest reads the manifest for step and key. A missing manifest is an
// error wrapping ErrNotFound. It does not check that the blobs the manifest
// names exist; CheckManifest does.
func ReadManifest(ctx context.Context, s Store, step, key string) (*Manifest, error) {
	if err := checkStepKey(step, key); err != nil {
		return nil, fmt.Errorf("artifacts: read manifest: %w", err)
	}
	name := ManifestName(step, key)
	rc, err := s.Get(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("artifacts: read %s: %w", name, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxManifestSize+1))
	if err != nil {
		return nil, fmt.Errorf("artifacts: read %s: %w", name, err)
	}
	if len(data) > maxManifestSize {
		return nil, fmt.Errorf("artifacts: read %s: larger than %d bytes", name, maxManifestSize)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("artifacts: read %s: %w", name, err)
	}
	if m.Schema > ManifestSchema {
		return nil, fmt.Errorf("artifacts: read %s: schema %d is newer than this program's %d", name, m.Schema, ManifestSchema)
	}
	if m.Step != step || m.Key != key {
		return nil, fmt.Errorf("artifacts: read %s: manifest is for step %q key %q", name, m.Step, m.Key)
	}
	return &m, nil
}

// CheckManifest returns the manifest for step and key only if it and every
// blob it names (outputs and card) exist with the recorded sizes. Otherwise
// it returns an error wrapping ErrNotFound that names the missing object, so
// a cache hit never points at missing data.
func CheckManifest(ctx context.Context, s Store, step, key string) (*Manifest, error) {
	m, err := ReadManifest(ctx, s, step, key)
	if err != nil {
		return nil, err
	}
	type check struct {
		what string
		ref  Ref
	}
	checks := make([]check, 0, len(m.Outputs)+1)
	for name, ref := range m.Outputs {
		checks = append(checks, check{"output " + name, ref})
	}
	sort.Slice(checks, func(i, j int) bool { return checks[i].what < checks[j].what })
	if m.Card != "" {
		checks = append(checks, check{what: "card", ref: Ref{Digest: m.Card, Size: -1}})
	}

	manifest := ManifestName(step, key)
	errs := make([]error, len(checks))
	sem := make(chan struct{}, checkConcurrency)
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if !ValidDigest(c.ref.Digest) {
				errs[i] = fmt.Errorf("%w: %s of %s has invalid digest %q", ErrNotFound, c.what, manifest, c.ref.Digest)
				return
			}
			obj := BlobName(c.ref.Digest)
			info, err := s.Stat(ctx, obj)
			switch {
			case errors.Is(err, ErrNotFound):
				errs[i] = fmt.Errorf("%w: object %s (%s) of %s missing", ErrNotFound, obj, c.what, manifest)
			case err != nil:
				errs[i] = fmt.Errorf("artifacts: check %s: %w", manifest, err)
			case c.ref.Size >= 0 && info.Size != c.ref.Size:
				errs[i] = fmt.Errorf("%w: object %s (%s) of %s has %d bytes, manifest says %d",
					ErrNotFound, obj, c.what, manifest, info.Size, c.ref.Size)
			}
		})
	}
	wg.Wait()
	// Report an I/O error ahead of a miss: a miss must only be reported when
	// the store answered.
	for _, err := range errs {
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return m, nil
}
