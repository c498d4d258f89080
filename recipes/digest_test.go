package recipes

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type digestBundle struct {
	dir   string
	path  string // the data file
	opens *atomic.Int64
}

// setupDigest returns a cache whose opens are counted, and a data file last
// modified an hour ago.
func setupDigest(t *testing.T) (*DigestCache, *digestBundle) {
	t.Helper()
	dir := t.TempDir()
	b := &digestBundle{dir: dir, path: filepath.Join(dir, "data.parquet"), opens: new(atomic.Int64)}
	writeAged(t, b.path, "hello, data", time.Hour)
	c, err := NewDigestCache(filepath.Join(dir, ".sous", "digests.json"))
	if err != nil {
		t.Fatal(err)
	}
	countOpens(c, b.opens)
	return c, b
}

func countOpens(c *DigestCache, n *atomic.Int64) {
	c.open = func(name string) (io.ReadCloser, error) {
		n.Add(1)
		return os.Open(name)
	}
}

func writeAged(t *testing.T, path, data string, age time.Duration) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	setAge(t, path, age)
}

func setAge(t *testing.T, path string, age time.Duration) {
	t.Helper()
	mt := time.Now().Add(-age)
	if err := os.Chtimes(path, mt, mt); err != nil {
		t.Fatal(err)
	}
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestDigestCache(t *testing.T) {
	t.Parallel()

	t.Run("remembers unchanged files", func(t *testing.T) {
		t.Parallel()
		c, b := setupDigest(t)
		d, size, err := c.Digest(b.path)
		if err != nil || d != sha("hello, data") || size != int64(len("hello, data")) {
			t.Fatalf("Digest = %s, %d, %v", d, size, err)
		}
		for range 3 {
			d2, size2, err := c.Digest(b.path)
			if err != nil || d2 != d || size2 != size {
				t.Fatalf("second Digest = %s, %d, %v", d2, size2, err)
			}
		}
		if n := b.opens.Load(); n != 1 {
			t.Errorf("file opened %d times, want 1", n)
		}
	})

	t.Run("touched file is rehashed to the same digest", func(t *testing.T) {
		t.Parallel()
		c, b := setupDigest(t)
		d, _, _ := c.Digest(b.path)
		setAge(t, b.path, 30*time.Minute)
		d2, _, err := c.Digest(b.path)
		if err != nil || d2 != d {
			t.Fatalf("Digest after touch = %s, %v; want %s", d2, err, d)
		}
		if n := b.opens.Load(); n != 2 {
			t.Errorf("file opened %d times, want 2", n)
		}
	})

	t.Run("changed byte changes the digest", func(t *testing.T) {
		t.Parallel()
		c, b := setupDigest(t)
		d, _, _ := c.Digest(b.path)
		writeAged(t, b.path, "hello, datA", 30*time.Minute) // same size
		d2, _, err := c.Digest(b.path)
		if err != nil || d2 == d || d2 != sha("hello, datA") {
			t.Fatalf("Digest after change = %s, %v", d2, err)
		}
	})

	t.Run("recently modified files are not remembered", func(t *testing.T) {
		t.Parallel()
		c, b := setupDigest(t)
		fi, err := os.Stat(b.path)
		if err != nil {
			t.Fatal(err)
		}
		// The clock says the file was written a moment ago: it could change
		// again within its timestamp's granularity.
		c.now = func() time.Time { return fi.ModTime().Add(time.Second) }
		c.Digest(b.path)
		c.Digest(b.path)
		if n := b.opens.Load(); n != 2 {
			t.Errorf("file opened %d times, want 2", n)
		}
		c.now = func() time.Time { return fi.ModTime().Add(racyWindow) }
		c.Digest(b.path)
		c.Digest(b.path)
		if n := b.opens.Load(); n != 3 {
			t.Errorf("file opened %d times, want 3", n)
		}
	})

	t.Run("saved and loaded", func(t *testing.T) {
		t.Parallel()
		c, b := setupDigest(t)
		d, _, _ := c.Digest(b.path)
		if err := c.Save(); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(c.path)
		if err != nil || !json.Valid(data) {
			t.Fatalf("saved cache: %v\n%s", err, data)
		}
		entries, _ := os.ReadDir(filepath.Dir(c.path))
		if len(entries) != 1 {
			t.Errorf("cache directory holds %d files, want 1 (no temporary files)", len(entries))
		}

		c2, err := NewDigestCache(c.path)
		if err != nil {
			t.Fatal(err)
		}
		c2.open = func(string) (io.ReadCloser, error) { return nil, errors.New("must not read") }
		d2, _, err := c2.Digest(b.path)
		if err != nil || d2 != d {
			t.Errorf("Digest from the loaded cache = %s, %v; want %s", d2, err, d)
		}

		// Nothing new: Save does not rewrite the file.
		if err := os.Remove(c.path); err != nil {
			t.Fatal(err)
		}
		if err := c2.Save(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(c.path); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Save without changes wrote the file: %v", err)
		}
	})

	t.Run("corrupt file starts empty", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "digests.json")
		if err := os.WriteFile(path, []byte("{not json"), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := NewDigestCache(path)
		if err != nil || len(c.files) != 0 {
			t.Errorf("NewDigestCache = %v, %v", c, err)
		}
	})

	t.Run("in memory", func(t *testing.T) {
		t.Parallel()
		c, err := NewDigestCache("")
		if err != nil {
			t.Fatal(err)
		}
		_, b := setupDigest(t)
		countOpens(c, b.opens)
		c.Digest(b.path)
		c.Digest(b.path)
		if err := c.Save(); err != nil || b.opens.Load() != 1 {
			t.Errorf("Save = %v, opens %d", err, b.opens.Load())
		}
	})

	t.Run("file changing while read", func(t *testing.T) {
		t.Parallel()
		c, b := setupDigest(t)
		c.open = func(name string) (io.ReadCloser, error) {
			f, err := os.Open(name)
			setAge(t, name, time.Minute) // modified while being read
			return f, err
		}
		if _, _, err := c.Digest(b.path); !errors.Is(err, ErrSourceChanged) {
			t.Errorf("Digest = %v, want ErrSourceChanged", err)
		}
	})

	t.Run("errors", func(t *testing.T) {
		t.Parallel()
		c, b := setupDigest(t)
		if _, _, err := c.Digest(filepath.Join(b.dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Digest(missing) = %v", err)
		}
		if _, _, err := c.Digest(b.dir); err == nil {
			t.Error("Digest(directory) did not fail")
		}
	})

	t.Run("concurrent", func(t *testing.T) {
		t.Parallel()
		c, b := setupDigest(t)
		var paths []string
		for i := range 8 {
			p := filepath.Join(b.dir, string(rune('a'+i))+".csv")
			writeAged(t, p, p, time.Hour)
			paths = append(paths, p)
		}
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Go(func() {
				for _, p := range paths {
					if d, _, err := c.Digest(p); err != nil || d != sha(p) {
						t.Errorf("Digest(%s) = %s, %v", p, d, err)
					}
				}
				if i%4 == 0 {
					if err := c.Save(); err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
		if err := c.Save(); err != nil {
			t.Fatal(err)
		}
		c2, err := NewDigestCache(c.path)
		if err != nil || len(c2.files) != len(paths) {
			t.Errorf("reloaded cache has %d files, %v", len(c2.files), err)
		}
	})
}
