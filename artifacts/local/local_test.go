package local_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/sous-ml/sous/artifacts"
	"github.com/sous-ml/sous/artifacts/local"
	"github.com/sous-ml/sous/artifacts/storetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newStore(t testing.TB) *local.Store {
	t.Helper()
	s, err := local.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) artifacts.Store { return newStore(t) })
}

func TestNew(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		dir     string
		wantErr bool
	}{
		{"existing", dir, false},
		{"created", filepath.Join(dir, "a", "b"), false},
		{"relative", ".", false},
		{"empty", "", true},
		{"file", file, true},
		{"below a file", filepath.Join(file, "x"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := local.New(tt.dir)
			if (err != nil) != tt.wantErr {
				t.Fatalf("New(%q) error = %v, want error %v", tt.dir, err, tt.wantErr)
			}
			if err == nil && !filepath.IsAbs(s.Dir()) {
				t.Errorf("Dir() = %q, want an absolute path", s.Dir())
			}
		})
	}
}

// TestCreateAcrossStores checks that Create is exclusive between two Stores
// over the same directory, as two processes would have.
func TestCreateAcrossStores(t *testing.T) {
	dir := t.TempDir()
	a, err := local.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := local.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := a.Create(ctx, "m", strings.NewReader("a"), 1); err != nil {
		t.Fatal(err)
	}
	if err := b.Create(ctx, "m", strings.NewReader("b"), 1); !errors.Is(err, artifacts.ErrExists) {
		t.Fatalf("Create from a second store error = %v, want ErrExists", err)
	}
}

// TestNoLeftovers checks that writes leave no temporary files and Delete
// prunes empty directories.
func TestNoLeftovers(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	if err := s.Put(ctx, "x/y/z", strings.NewReader("1"), 1); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, "x/y/z", strings.NewReader("2"), 1); !errors.Is(err, artifacts.ErrExists) {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "x/y/z", strings.NewReader("short"), 10); err == nil {
		t.Fatal("short Put succeeded")
	}
	if got := files(t, s.Dir()); !slices.Equal(got, []string{"x/y/z"}) {
		t.Fatalf("files = %q, want only x/y/z", got)
	}
	if err := s.Delete(ctx, "x/y/z"); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Fatalf("store dir holds %d entries after Delete, want none", len(entries))
	}
}

func TestListSkipsTempFiles(t *testing.T) {
	s := newStore(t)
	if err := os.MkdirAll(filepath.Join(s.Dir(), "objects"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"objects/.ab.tmp-123", ".hidden", "objects/ok"} {
		if err := os.WriteFile(filepath.Join(s.Dir(), filepath.FromSlash(name)), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	infos, err := s.List(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 1 || infos[0].Name != "objects/ok" {
		t.Fatalf("List = %+v, want only objects/ok", infos)
	}
}

func TestObjectVersusDirectory(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	if err := s.Put(ctx, "a/b", strings.NewReader("x"), 1); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "a", strings.NewReader("x"), 1); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Errorf("Put over a directory error = %v, want one that says so", err)
	}
	if err := s.Put(ctx, "a/b/c", strings.NewReader("x"), 1); err == nil {
		t.Error("Put below an object succeeded")
	}
}

// TestPutDeleteRace writes and deletes objects that share directories, so
// Delete prunes directories while Put creates them.
func TestPutDeleteRace(t *testing.T) {
	s := newStore(t)
	ctx := t.Context()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 50 {
				name := fmt.Sprintf("d/e/%d/%d", g, i%3)
				if err := s.Put(ctx, name, strings.NewReader("x"), 1); err != nil {
					t.Errorf("Put: %v", err)
					return
				}
				if err := s.Delete(ctx, name); err != nil {
					t.Errorf("Delete: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	if infos, err := s.List(ctx, ""); err != nil || len(infos) != 0 {
		t.Fatalf("List = %v, %v; want nothing", infos, err)
	}
}

func BenchmarkGet(b *testing.B) { storetest.BenchmarkGet(b, newStore(b), 64<<20) }
func BenchmarkPut(b *testing.B) { storetest.BenchmarkPut(b, newStore(b), 64<<20) }

func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
