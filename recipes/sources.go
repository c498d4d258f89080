package recipes

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Sources resolves the location of ingest or ingest_scoring to the source
// files, sorted and without duplicates. Relative locations are relative to
// root, the recipe directory; a file is itself, a directory is every file
// with the format's extension (.parquet or .csv) under it, skipping names
// starting with "." or "_", a glob (filepath.Match syntax) is its matching
// files and the files of matching directories, hidden names excepted unless
// the pattern starts with ".". s3:// locations are returned as they are. A
// location that matches nothing is an *Error naming it, with the line of
// steps.<step>.location.
func (r *Recipe) Sources(step StepName, root string) ([]string, error) {
	var s *IngestSettings
	switch step {
	case StepIngest:
		s = r.Ingest
	case StepIngestScoring:
		s = r.IngestScoring
	default:
		return nil, fmt.Errorf("recipes: sources of %s: only ingest and ingest_scoring read source files", step)
	}
	key := "steps." + string(step)
	if s == nil {
		return nil, &Error{File: RecipeFile, Line: r.position("steps").line, Key: key, Msg: "missing"}
	}
	key += ".location"
	p := r.position(key)
	if p.file == "" {
		p.file = RecipeFile
	}
	ext := "." + s.Using

	var (
		out  []string
		errs []*Error
	)
	fail := func(msg string, err error) {
		errs = append(errs, &Error{File: p.file, Line: p.line, Key: key, Msg: msg + note(r.subs[p.line]), Err: err})
	}
	for _, loc := range s.Location {
		if strings.HasPrefix(loc, "s3://") {
			out = append(out, loc)
			continue
		}
		path := filepath.FromSlash(loc)
		if !filepath.IsAbs(path) {
			path = filepath.Join(root, path)
		}
		var found []string
		if strings.ContainsAny(loc, "*?[") {
			matches, err := filepath.Glob(path)
			if err != nil {
				fail(fmt.Sprintf("bad glob %q: %v", loc, err), err)
				continue
			}
			hiddenOK := strings.HasPrefix(filepath.Base(path), ".")
			for _, m := range matches {
				if !hiddenOK && strings.HasPrefix(filepath.Base(m), ".") {
					continue // as in a shell, * does not match hidden files
				}
				files, err := filesAt(m, ext)
				if err != nil {
					fail(fmt.Sprintf("cannot read %q (matched by %q): %v", m, loc, err), err)
					continue
				}
				found = append(found, files...)
			}
			if len(found) == 0 && len(matches) == 0 {
				fail(fmt.Sprintf("%q matches no file (looked for %s)", loc, path), fs.ErrNotExist)
				continue
			}
		} else {
			files, err := filesAt(path, ext)
			switch {
			case errors.Is(err, fs.ErrNotExist):
				fail(fmt.Sprintf("%q matches no file (looked for %s)", loc, path), err)
				continue
			case err != nil:
				fail(fmt.Sprintf("cannot read %q: %v", loc, err), err)
				continue
			}
			found = files
		}
		if len(found) == 0 {
			fail(fmt.Sprintf("%q holds no %s files", loc, ext), fs.ErrNotExist)
			continue
		}
		out = append(out, found...)
	}
	if err := asError(errs); err != nil {
		return nil, err
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// filesAt returns path if it is a file, or the files with extension ext
// under it if it is a directory.
func filesAt(path, ext string) ([]string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return []string{path}, nil
	}
	var out []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != path && (strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "_")) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() && strings.EqualFold(filepath.Ext(p), ext) {
			out = append(out, p)
		}
		return nil
	})
	return out, err
}

// DefaultDigestCachePath is where `sous` keeps source digests, relative to
// the recipe directory.
const DefaultDigestCachePath = ".sous/digests.json"

// ErrSourceChanged is returned by DigestCache.Digest when a file changed
// while it was being hashed.
var ErrSourceChanged = errors.New("file changed while it was being read")

// racyWindow: a file modified this recently may be modified again without
// its size or modification time changing (coarse timestamps), so its digest
// is not remembered until it is older.
const racyWindow = 2 * time.Second

// DigestCache remembers the sha256 of source files by path, size and
// modification time, so re-runs do not re-read unchanged data. It is safe
// for concurrent use. The zero value is not usable; call NewDigestCache.
type DigestCache struct {
	path string

	mu       sync.Mutex
	files    map[string]digestEntry
	gen      uint64 // bumped on every change
	savedGen uint64

	// Hooks, replaced in tests.
	open func(name string) (io.ReadCloser, error)
	stat func(name string) (fs.FileInfo, error)
	now  func() time.Time
}

type digestEntry struct {
	Size    int64  `json:"size"`
	ModTime int64  `json:"mtime_ns"`
	SHA256  string `json:"sha256"`
}

type digestFile struct {
	Version int                    `json:"version"`
	Files   map[string]digestEntry `json:"files"`
}

const digestFileVersion = 1

// NewDigestCache returns a cache persisted at path (for example
// DefaultDigestCachePath under the recipe directory), loading what an
// earlier run saved. A missing, corrupt or older-version file starts an empty
// cache. An empty path keeps the cache in memory only.
func NewDigestCache(path string) (*DigestCache, error) {
	c := &DigestCache{
		path:  path,
		files: map[string]digestEntry{},
		open:  func(name string) (io.ReadCloser, error) { return os.Open(name) },
		stat:  os.Stat,
		now:   time.Now,
	}
	if path == "" {
		return c, nil
	}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return c, nil
	case err != nil:
		return nil, fmt.Errorf("recipes: digest cache %s: %w", path, err)
	}
	var f digestFile
	if json.Unmarshal(data, &f) == nil && f.Version == digestFileVersion && f.Files != nil {
		c.files = f.Files
	}
	return c, nil
}

// Digest returns the hex sha256 and the size of the file at path. It reads
// the file only when its size or modification time differ from what the
// cache remembers; otherwise it returns the remembered digest.
func (c *DigestCache) Digest(path string) (digest string, size int64, err error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", 0, fmt.Errorf("recipes: digest %s: %w", path, err)
	}
	before, err := c.stat(abs)
	if err != nil {
		return "", 0, fmt.Errorf("recipes: digest %s: %w", path, err)
	}
	if !before.Mode().IsRegular() {
		return "", 0, fmt.Errorf("recipes: digest %s: not a regular file", path)
	}
	c.mu.Lock()
	e, ok := c.files[abs]
	c.mu.Unlock()
	if ok && e.Size == before.Size() && e.ModTime == before.ModTime().UnixNano() {
		return e.SHA256, e.Size, nil
	}

	started := c.now()
	f, err := c.open(abs)
	if err != nil {
		return "", 0, fmt.Errorf("recipes: digest %s: %w", path, err)
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", 0, fmt.Errorf("recipes: digest %s: %w", path, err)
	}
	after, err := c.stat(abs)
	if err != nil {
		return "", 0, fmt.Errorf("recipes: digest %s: %w", path, err)
	}
	if n != before.Size() || after.Size() != before.Size() || !after.ModTime().Equal(before.ModTime()) {
		return "", 0, fmt.Errorf("recipes: digest %s: %w", path, ErrSourceChanged)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if started.Sub(before.ModTime()) >= racyWindow {
		c.mu.Lock()
		c.files[abs] = digestEntry{Size: n, ModTime: before.ModTime().UnixNano(), SHA256: sum}
		c.gen++
		c.mu.Unlock()
	}
	return sum, n, nil
}

// Save writes the cache to its path atomically (a temporary file renamed
// over it), creating the directory if needed. It does nothing for an
// in-memory cache or when nothing changed since the last Save.
func (c *DigestCache) Save() error {
	if c.path == "" {
		return nil
	}
	c.mu.Lock()
	if c.gen == c.savedGen {
		c.mu.Unlock()
		return nil
	}
	gen := c.gen
	data, err := json.MarshalIndent(digestFile{Version: digestFileVersion, Files: c.files}, "", "  ")
	c.mu.Unlock()
	if err != nil {
		return fmt.Errorf("recipes: save digest cache: %w", err)
	}
	if err := writeFileAtomic(c.path, append(data, '\n')); err != nil {
		return fmt.Errorf("recipes: save digest cache: %w", err)
	}
	c.mu.Lock()
	c.savedGen = max(c.savedGen, gen)
	c.mu.Unlock()
	return nil
}

func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
