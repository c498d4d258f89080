package artifacts_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sous-ml/sous/artifacts"
)

// committed stores two outputs and a card and returns a manifest naming them.
func committed(t *testing.T, s artifacts.Store) *artifacts.Manifest {
	t.Helper()
	ctx := t.Context()
	ref := func(data string) artifacts.Ref {
		d, n, err := artifacts.PutBlob(ctx, s, strings.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		return artifacts.Ref{Digest: d, Size: n}
	}
	card := ref("<html>card</html>")
	return &artifacts.Manifest{
		Schema:  artifacts.ManifestSchema,
		Step:    "train",
		Key:     "0123abcd",
		Outputs: map[string]artifacts.Ref{"model": ref("model bytes"), "metrics": ref("{}")},
		Metrics: map[string]float64{"rmse": 0.25},
		Summary: "trained",
		Card:    card.Digest,
		KeyDoc:  json.RawMessage(`{"step":"train","inputs":["a"]}`),
		Result:  json.RawMessage(`{"ok":true}`),
		RunID:   "run-1",
		Created: time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC),
		Extra:   map[string]string{"worker": "w1"},
	}
}

func TestManifestName(t *testing.T) {
	if got := artifacts.ManifestName("train", "abc"); got != "steps/train/abc/manifest.json" {
		t.Errorf("ManifestName = %q", got)
	}
}

func TestCommitReadManifest(t *testing.T) {
	ctx := t.Context()
	s := newLocal(t)
	m := committed(t, s)
	if err := artifacts.CommitManifest(ctx, s, m); err != nil {
		t.Fatal(err)
	}
	got, err := artifacts.ReadManifest(ctx, s, "train", "0123abcd")
	if err != nil {
		t.Fatal(err)
	}
	// RawMessages come back re-indented; compare them compacted.
	for _, raw := range []*json.RawMessage{&got.KeyDoc, &got.Result, &m.KeyDoc, &m.Result} {
		var buf bytes.Buffer
		if err := json.Compact(&buf, *raw); err != nil {
			t.Fatal(err)
		}
		*raw = buf.Bytes()
	}
	if !reflect.DeepEqual(got, m) {
		t.Errorf("ReadManifest = %+v\nwant %+v", got, m)
	}

	second := *m
	second.RunID = "run-2"
	if err := artifacts.CommitManifest(ctx, s, &second); !errors.Is(err, artifacts.ErrExists) {
		t.Fatalf("second CommitManifest error = %v, want ErrExists", err)
	}
	if got, _ := artifacts.ReadManifest(ctx, s, "train", "0123abcd"); got.RunID != "run-1" {
		t.Errorf("RunID = %q after a second commit, want the first one's", got.RunID)
	}

	if _, err := artifacts.ReadManifest(ctx, s, "train", "other"); !errors.Is(err, artifacts.ErrNotFound) {
		t.Errorf("ReadManifest of a missing key error = %v, want ErrNotFound", err)
	}
	if _, err := artifacts.ReadManifest(ctx, s, "../x", "k"); !errors.Is(err, artifacts.ErrInvalidName) {
		t.Errorf("ReadManifest with a bad step error = %v, want ErrInvalidName", err)
	}
}

func TestCommitManifestRace(t *testing.T) {
	s := newLocal(t)
	base := committed(t, s)
	var (
		wg   sync.WaitGroup
		wins atomic.Int32
	)
	for i := range 8 {
		wg.Go(func() {
			m := *base
			m.RunID = string(rune('a' + i))
			err := artifacts.CommitManifest(t.Context(), s, &m)
			switch {
			case err == nil:
				wins.Add(1)
			case !errors.Is(err, artifacts.ErrExists):
				t.Errorf("CommitManifest: %v", err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d commits won, want 1", wins.Load())
	}
}

func TestManifestValidate(t *testing.T) {
	good := strings.Repeat("ab", 32)
	tests := []struct {
		name string
		mod  func(m *artifacts.Manifest)
		want string
	}{
		{"ok", func(*artifacts.Manifest) {}, ""},
		{"no outputs", func(m *artifacts.Manifest) { m.Outputs = nil }, ""},
		{"zero schema", func(m *artifacts.Manifest) { m.Schema = 0 }, "schema"},
		{"future schema", func(m *artifacts.Manifest) { m.Schema = artifacts.ManifestSchema + 1 }, "schema"},
		{"empty step", func(m *artifacts.Manifest) { m.Step = "" }, "step"},
		{"step with slash", func(m *artifacts.Manifest) { m.Step = "a/b" }, "step"},
		{"dotdot key", func(m *artifacts.Manifest) { m.Key = ".." }, "key"},
		{"bad output digest", func(m *artifacts.Manifest) { m.Outputs["x"] = artifacts.Ref{Digest: "abc"} }, `output "x"`},
		{"negative size", func(m *artifacts.Manifest) { m.Outputs["x"] = artifacts.Ref{Digest: good, Size: -1} }, "negative"},
		{"bad card", func(m *artifacts.Manifest) { m.Card = "../x" }, "card"},
		{"NaN metric", func(m *artifacts.Manifest) { m.Metrics["r2"] = math.NaN() }, `metric "r2"`},
		{"Inf metric", func(m *artifacts.Manifest) { m.Metrics["x"] = math.Inf(1) }, `metric "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &artifacts.Manifest{
				Schema: artifacts.ManifestSchema, Step: "s", Key: "k",
				Outputs: map[string]artifacts.Ref{"o": {Digest: good, Size: 1}},
				Metrics: map[string]float64{"m": 1},
			}
			tt.mod(m)
			err := m.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Validate error = %v, want one mentioning %q", err, tt.want)
			}
			if tt.want != "" {
				s := newLocal(t)
				if err := artifacts.CommitManifest(t.Context(), s, m); err == nil {
					t.Fatal("CommitManifest of an invalid manifest succeeded")
				}
				if infos, _ := s.List(t.Context(), ""); len(infos) != 0 {
					t.Fatalf("invalid manifest stored: %v", infos)
				}
			}
		})
	}
}

func TestReadManifestRejects(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"newer schema", `{"schema": 99, "step": "s", "key": "k"}`, "newer"},
		{"other step", `{"schema": 1, "step": "t", "key": "k"}`, "for step"},
		{"not json", `{`, "unexpected end"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newLocal(t)
			if err := s.Put(t.Context(), artifacts.ManifestName("s", "k"), strings.NewReader(tt.doc), int64(len(tt.doc))); err != nil {
				t.Fatal(err)
			}
			_, err := artifacts.ReadManifest(t.Context(), s, "s", "k")
			if err == nil || !strings.Contains(err.Error(), tt.want) || errors.Is(err, artifacts.ErrNotFound) {
				t.Fatalf("ReadManifest error = %v, want one mentioning %q and not ErrNotFound", err, tt.want)
			}
		})
	}
}

func TestCheckManifest(t *testing.T) {
	tests := []struct {
		name string
		// damage breaks the store after the manifest m is committed.
		damage func(t *testing.T, s artifacts.Store, m *artifacts.Manifest)
		// want is "" for a hit, else a substring of the ErrNotFound error.
		want string
	}{
		{"hit", func(*testing.T, artifacts.Store, *artifacts.Manifest) {}, ""},
		{"output missing", func(t *testing.T, s artifacts.Store, m *artifacts.Manifest) {
			del(t, s, artifacts.BlobName(m.Outputs["model"].Digest))
		}, "output model"},
		{"card missing", func(t *testing.T, s artifacts.Store, m *artifacts.Manifest) {
			del(t, s, artifacts.BlobName(m.Card))
		}, "card"},
		{"output truncated", func(t *testing.T, s artifacts.Store, m *artifacts.Manifest) {
			if err := s.Put(t.Context(), artifacts.BlobName(m.Outputs["metrics"].Digest), strings.NewReader("{"), 1); err != nil {
				t.Fatal(err)
			}
		}, "has 1 bytes, manifest says 2"},
		{"manifest missing", func(t *testing.T, s artifacts.Store, m *artifacts.Manifest) {
			del(t, s, artifacts.ManifestName(m.Step, m.Key))
		}, "manifest.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newLocal(t)
			m := committed(t, s)
			if err := artifacts.CommitManifest(t.Context(), s, m); err != nil {
				t.Fatal(err)
			}
			tt.damage(t, s, m)
			got, err := artifacts.CheckManifest(t.Context(), s, m.Step, m.Key)
			if tt.want == "" {
				if err != nil || got.RunID != m.RunID {
					t.Fatalf("CheckManifest = %v, %v; want a hit", got, err)
				}
				return
			}
			if !errors.Is(err, artifacts.ErrNotFound) || !strings.Contains(err.Error(), tt.want) || got != nil {
				t.Fatalf("CheckManifest = %v, %v; want ErrNotFound mentioning %q", got, err, tt.want)
			}
		})
	}
}

// TestCheckManifestStatError makes sure a store failure is not mistaken for
// a miss.
func TestCheckManifestStatError(t *testing.T) {
	real := newLocal(t)
	m := committed(t, real)
	if err := artifacts.CommitManifest(t.Context(), real, m); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("connection reset")
	s := &fakeStore{Store: real, stat: func(ctx context.Context, name string) (artifacts.Info, error) {
		if strings.HasSuffix(name, m.Card) {
			return artifacts.Info{}, boom
		}
		return real.Stat(ctx, name)
	}}
	del(t, real, artifacts.BlobName(m.Outputs["model"].Digest))
	_, err := artifacts.CheckManifest(t.Context(), s, m.Step, m.Key)
	if !errors.Is(err, boom) || errors.Is(err, artifacts.ErrNotFound) {
		t.Fatalf("CheckManifest error = %v, want the stat error and not ErrNotFound", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := artifacts.CheckManifest(ctx, real, m.Step, m.Key); !errors.Is(err, context.Canceled) {
		t.Fatalf("CheckManifest with a cancelled context error = %v", err)
	}
}

func del(t *testing.T, s artifacts.Store, name string) {
	t.Helper()
	if err := s.Delete(t.Context(), name); err != nil {
		t.Fatal(err)
	}
}
