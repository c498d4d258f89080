package artifacts_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"

	"github.com/sous-ml/sous/artifacts"
	"github.com/sous-ml/sous/artifacts/local"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeStore wraps a real store; non-nil function fields replace its methods,
// to inject failures and count calls.
type fakeStore struct {
	artifacts.Store
	put  func(ctx context.Context, name string, r io.Reader, size int64) error
	stat func(ctx context.Context, name string) (artifacts.Info, error)
	puts atomic.Int32
}

func (f *fakeStore) Put(ctx context.Context, name string, r io.Reader, size int64) error {
	f.puts.Add(1)
	if f.put != nil {
		return f.put(ctx, name, r, size)
	}
	return f.Store.Put(ctx, name, r, size)
}

func (f *fakeStore) Stat(ctx context.Context, name string) (artifacts.Info, error) {
	if f.stat != nil {
		return f.stat(ctx, name)
	}
	return f.Store.Stat(ctx, name)
}

// remoteStore hides the local store's Localizer, as a remote store would.
type remoteStore struct{ artifacts.Store }

func newLocal(t testing.TB) *local.Store {
	t.Helper()
	s, err := local.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sha(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{byte(n)}).Read(b)
	return b
}

func readObject(t *testing.T, s artifacts.Store, name string) []byte {
	t.Helper()
	rc, err := s.Get(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBlobName(t *testing.T) {
	d := strings.Repeat("0f", 32)
	if got := artifacts.BlobName(d); got != "objects/"+d {
		t.Errorf("BlobName = %q", got)
	}
	for d, want := range map[string]bool{
		strings.Repeat("0f", 32): true,
		strings.Repeat("0F", 32): false,
		strings.Repeat("0f", 31): false,
		strings.Repeat("0g", 32): false,
		"":                       false,
	} {
		if got := artifacts.ValidDigest(d); got != want {
			t.Errorf("ValidDigest(%q) = %v, want %v", d, got, want)
		}
	}
}

func TestPutBlob(t *testing.T) {
	sizes := []struct {
		name string
		n    int
	}{
		{"empty", 0},
		{"small", 1},
		{"memory limit", 4 << 20},
		{"spooled", 4<<20 + 1},
		{"large", 9 << 20},
	}
	for _, tt := range sizes {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			fs := &fakeStore{Store: newLocal(t)}
			data := randBytes(tt.n)
			// A reader that is not a bytes.Reader, to take the generic path.
			digest, size, err := artifacts.PutBlob(ctx, fs, io.MultiReader(bytes.NewReader(data)))
			if err != nil {
				t.Fatal(err)
			}
			if digest != sha(data) || size != int64(tt.n) {
				t.Fatalf("PutBlob = %s, %d; want %s, %d", digest, size, sha(data), tt.n)
			}
			if got := readObject(t, fs, artifacts.BlobName(digest)); !bytes.Equal(got, data) {
				t.Fatalf("stored %d bytes, want %d", len(got), len(data))
			}
			// Storing it again does not upload.
			if _, _, err := artifacts.PutBlob(ctx, fs, bytes.NewReader(data)); err != nil {
				t.Fatal(err)
			}
			if n := fs.puts.Load(); n != 1 {
				t.Errorf("%d Puts for two PutBlobs of the same bytes, want 1", n)
			}
		})
	}
}

func TestPutBlobRepairsDamagedCopy(t *testing.T) {
	ctx := t.Context()
	s := newLocal(t)
	data := []byte("the real bytes")
	if err := s.Put(ctx, artifacts.BlobName(sha(data)), strings.NewReader("trunc"), 5); err != nil {
		t.Fatal(err)
	}
	if _, _, err := artifacts.PutBlob(ctx, s, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if got := readObject(t, s, artifacts.BlobName(sha(data))); !bytes.Equal(got, data) {
		t.Fatalf("blob = %q after PutBlob, want %q", got, data)
	}
}

func TestPutBlobErrors(t *testing.T) {
	statErr := errors.New("stat failed")
	tests := []struct {
		name string
		s    func(t *testing.T) artifacts.Store
		r    io.Reader
		want error
	}{
		{"reader fails", func(t *testing.T) artifacts.Store { return newLocal(t) }, io.MultiReader(strings.NewReader("x"), failReader{}), errRead},
		{"reader fails after spooling", func(t *testing.T) artifacts.Store { return newLocal(t) }, io.MultiReader(bytes.NewReader(randBytes(5<<20)), failReader{}), errRead},
		{"stat fails", func(t *testing.T) artifacts.Store {
			return &fakeStore{Store: newLocal(t), stat: func(context.Context, string) (artifacts.Info, error) { return artifacts.Info{}, statErr }}
		}, strings.NewReader("x"), statErr},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.s(t)
			if _, _, err := artifacts.PutBlob(t.Context(), s, tt.r); !errors.Is(err, tt.want) {
				t.Fatalf("PutBlob error = %v, want %v", err, tt.want)
			}
			if infos, _ := s.List(t.Context(), ""); len(infos) != 0 {
				t.Fatalf("failed PutBlob stored %v", infos)
			}
		})
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, _, err := artifacts.PutBlob(ctx, newLocal(t), strings.NewReader("x")); !errors.Is(err, context.Canceled) {
		t.Fatalf("PutBlob with a cancelled context error = %v", err)
	}
}

var errRead = errors.New("read failed")

type failReader struct{}

func (failReader) Read([]byte) (int, error) { return 0, errRead }

func TestPutBlobFile(t *testing.T) {
	for _, n := range []int{0, 10, 5 << 20} {
		data := randBytes(n)
		path := filepath.Join(t.TempDir(), "f")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		s := newLocal(t)
		digest, size, err := artifacts.PutBlobFile(t.Context(), s, path)
		if err != nil {
			t.Fatal(err)
		}
		if digest != sha(data) || size != int64(n) {
			t.Fatalf("PutBlobFile = %s, %d; want %s, %d", digest, size, sha(data), n)
		}
		if got := readObject(t, s, artifacts.BlobName(digest)); !bytes.Equal(got, data) {
			t.Fatalf("stored %d bytes, want %d", len(got), n)
		}
	}
	if _, _, err := artifacts.PutBlobFile(t.Context(), newLocal(t), filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("PutBlobFile of a missing file error = %v", err)
	}
}

// TestPutBlobFileChangedDuringUpload changes the file between hashing and
// uploading: the upload must fail without storing bytes under the digest.
func TestPutBlobFileChangedDuringUpload(t *testing.T) {
	const n = 1 << 20
	tests := []struct {
		name   string
		change func(path string) error
	}{
		{"rewritten", func(p string) error { return os.WriteFile(p, randBytes(n + 1)[1:], 0o644) }},
		{"last byte", func(p string) error {
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.WriteAt([]byte{'!'}, n-1)
			return err
		}},
		{"truncated", func(p string) error { return os.Truncate(p, n/2) }},
		{"grown", func(p string) error {
			f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.Write([]byte("more"))
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "f")
			data := randBytes(n)
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			real := newLocal(t)
			s := &fakeStore{Store: real}
			s.put = func(ctx context.Context, name string, r io.Reader, size int64) error {
				if err := tt.change(path); err != nil {
					t.Fatal(err)
				}
				return real.Put(ctx, name, r, size)
			}
			digest, _, err := artifacts.PutBlobFile(t.Context(), s, path)
			if tt.name == "grown" {
				// The first n bytes are still the ones hashed: storing them is right.
				if err != nil {
					t.Fatal(err)
				}
				if got := readObject(t, real, artifacts.BlobName(digest)); !bytes.Equal(got, data) {
					t.Fatal("stored bytes differ from the hashed ones")
				}
				return
			}
			if !errors.Is(err, artifacts.ErrDigestMismatch) {
				t.Fatalf("PutBlobFile error = %v, want ErrDigestMismatch", err)
			}
			if infos, _ := real.List(t.Context(), ""); len(infos) != 0 {
				t.Fatalf("PutBlobFile stored %v though the file changed", infos)
			}
		})
	}
}

func TestOpenBlobFile(t *testing.T) {
	ctx := t.Context()
	data := randBytes(100 << 10)
	digest := sha(data)
	loc := newLocal(t)
	if _, _, err := artifacts.PutBlob(ctx, loc, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}

	t.Run("localizer", func(t *testing.T) {
		p, cleanup, err := artifacts.OpenBlobFile(ctx, loc, digest, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(loc.Dir(), "objects", digest); p != want {
			t.Errorf("path = %s, want the store's file %s", p, want)
		}
		cleanup()
		if _, err := os.Stat(p); err != nil {
			t.Errorf("cleanup removed the store's own file: %v", err)
		}
	})
	t.Run("download", func(t *testing.T) {
		tmp := t.TempDir()
		p, cleanup, err := artifacts.OpenBlobFile(ctx, remoteStore{loc}, digest, tmp)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Dir(p) != tmp {
			t.Errorf("downloaded to %s, want a file in %s", p, tmp)
		}
		if got, err := os.ReadFile(p); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("downloaded %d bytes, %v", len(got), err)
		}
		cleanup()
		cleanup() // idempotent
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("cleanup left %s: %v", p, err)
		}
	})
	t.Run("errors", func(t *testing.T) {
		corrupt := newLocal(t)
		if err := corrupt.Put(ctx, artifacts.BlobName(digest), strings.NewReader("bad"), 3); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name   string
			s      artifacts.Store
			digest string
			want   error
		}{
			{"missing", newLocal(t), digest, artifacts.ErrNotFound},
			{"missing remote", remoteStore{newLocal(t)}, digest, artifacts.ErrNotFound},
			{"corrupt", remoteStore{corrupt}, digest, artifacts.ErrDigestMismatch},
			{"invalid digest", loc, "../../etc/passwd", artifacts.ErrInvalidName},
			{"uppercase digest", loc, strings.ToUpper(digest), artifacts.ErrInvalidName},
		}
		for _, tt := range tests {
			tmp := t.TempDir()
			_, _, err := artifacts.OpenBlobFile(ctx, tt.s, tt.digest, tmp)
			if !errors.Is(err, tt.want) {
				t.Errorf("%s: error = %v, want %v", tt.name, err, tt.want)
			}
			if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
				t.Errorf("%s: left %d files in tmpDir", tt.name, len(entries))
			}
		}
	})
}

// BenchmarkPutBlob stores a new 64 MiB blob per iteration in a local store.
func BenchmarkPutBlob(b *testing.B) {
	const size = 64 << 20
	s := newLocal(b)
	data := randBytes(size)
	b.SetBytes(size)
	i := 0
	for b.Loop() {
		i++
		copy(data, []byte{byte(i), byte(i >> 8), byte(i >> 16)}) // a new blob each time
		if _, _, err := artifacts.PutBlob(b.Context(), s, bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPutBlobFile is BenchmarkPutBlob from a file, which skips the spool.
func BenchmarkPutBlobFile(b *testing.B) {
	const size = 64 << 20
	s := newLocal(b)
	data := randBytes(size)
	path := filepath.Join(b.TempDir(), "f")
	b.SetBytes(size)
	i := 0
	for b.Loop() {
		i++
		copy(data, []byte{byte(i), byte(i >> 8), byte(i >> 16)})
		if err := os.WriteFile(path, data, 0o644); err != nil {
			b.Fatal(err)
		}
		if _, _, err := artifacts.PutBlobFile(b.Context(), s, path); err != nil {
			b.Fatal(err)
		}
	}
}
