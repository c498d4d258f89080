// Package local is an artifacts.Store over a directory on this machine.
//
// Each object is a file at <dir>/<name>. Writes go to a hidden temporary
// file next to the target (".<base>.tmp-*", which no valid name can match),
// are synced, and are then renamed over the target (Put) or hard-linked to it
// (Create, which fails if the target exists), so readers never see a partial
// object and Create is exclusive even between processes sharing the directory,
// including over NFS. Empty directories left by Delete are removed.
//
// Because objects are files, the store cannot hold both "a" and "a/b"; the
// layout described in package artifacts never needs to.
package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/sous-ml/sous/artifacts"
)

// Store is an artifacts.Store over a directory. It is safe for concurrent use.
type Store struct {
	dir string
}

var (
	_ artifacts.Store     = (*Store)(nil)
	_ artifacts.Localizer = (*Store)(nil)
)

// filePerm is the mode of stored files; the store never modifies a file in place.
const filePerm = 0o644

// tmpSuffix marks temporary files: ".<base>.tmp-<random>".
const tmpSuffix = ".tmp-"

// New returns a Store over dir, creating the directory if needed.
func New(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("local: empty directory")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("local: %s is not a directory", abs)
	}
	return &Store{dir: abs}, nil
}

// Dir returns the absolute path of the store's directory.
func (s *Store) Dir() string { return s.dir }

// String describes the store for logs and errors.
func (s *Store) String() string { return "local:" + s.dir }

func (s *Store) path(name string) string {
	return filepath.Join(s.dir, filepath.FromSlash(name))
}

// Put writes r under name atomically: temporary file, fsync, rename.
func (s *Store) Put(ctx context.Context, name string, r io.Reader, size int64) error {
	if err := s.write(ctx, name, r, size, false); err != nil {
		return fmt.Errorf("local: put %s in %s: %w", name, s.dir, err)
	}
	return nil
}

// Create writes r under name unless it exists: temporary file, fsync, link.
func (s *Store) Create(ctx context.Context, name string, r io.Reader, size int64) error {
	if err := s.write(ctx, name, r, size, true); err != nil {
		return fmt.Errorf("local: create %s in %s: %w", name, s.dir, err)
	}
	return nil
}

func (s *Store) write(ctx context.Context, name string, r io.Reader, size int64, exclusive bool) error {
	if err := artifacts.CheckName(name); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	target := s.path(name)
	if exclusive {
		// Cheap early answer; the link below is what makes Create exclusive.
		if _, err := os.Lstat(target); err == nil {
			return artifacts.ErrExists
		}
	}
	tmp, err := s.tempFile(target)
	if err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := copyN(ctx, tmp, r, size); err != nil {
		return err
	}
	if err := tmp.Chmod(filePerm); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if exclusive {
		err := os.Link(tmp.Name(), target)
		os.Remove(tmp.Name())
		committed = true
		if errors.Is(err, fs.ErrExist) {
			return artifacts.ErrExists
		}
		if err != nil {
			return err
		}
	} else {
		if err := os.Rename(tmp.Name(), target); err != nil {
			if fi, serr := os.Lstat(target); serr == nil && fi.IsDir() {
				return fmt.Errorf("%s is a directory of other objects", name)
			}
			return err
		}
		committed = true
	}
	return syncDir(filepath.Dir(target))
}

// tempFile creates the temporary file for target in target's directory,
// creating the directory. A concurrent Delete may remove an empty directory
// between the two, so it retries.
func (s *Store) tempFile(target string) (*os.File, error) {
	dir, base := filepath.Split(target)
	if len(base) > 64 {
		base = base[:64] // room for the suffix within NAME_MAX
	}
	var err error
	for range 10 {
		if err = os.MkdirAll(dir, 0o755); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // a parent was pruned while we created its child
			}
			if errors.Is(err, syscall.ENOTDIR) {
				return nil, fmt.Errorf("a parent of the object is itself an object: %w", err)
			}
			return nil, err
		}
		var f *os.File
		f, err = os.CreateTemp(dir, "."+base+tmpSuffix+"*")
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	return nil, err
}

// copyN copies r to w, checking ctx between reads and that r yields exactly
// size bytes when size >= 0.
func copyN(ctx context.Context, w io.Writer, r io.Reader, size int64) error {
	src := io.Reader(ctxReader{ctx, r})
	if size >= 0 {
		src = io.LimitReader(src, size+1)
	}
	n, err := io.CopyBuffer(w, src, make([]byte, 256<<10))
	if err != nil {
		return err
	}
	if size >= 0 && n != size {
		if n > size {
			return fmt.Errorf("reader yields more than the %d bytes announced", size)
		}
		return fmt.Errorf("reader yields %d bytes, %d announced: %w", n, size, io.ErrUnexpectedEOF)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return err
	}
	return nil
}

// Get opens the object's file. Reads fail once ctx is done.
func (s *Store) Get(ctx context.Context, name string) (io.ReadCloser, error) {
	f, err := s.open(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("local: get %s in %s: %w", name, s.dir, err)
	}
	return &ctxFile{ctx: ctx, f: f}, nil
}

func (s *Store) open(ctx context.Context, name string) (*os.File, error) {
	if err := artifacts.CheckName(name); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.Open(s.path(name))
	if err != nil {
		return nil, notFound(err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, artifacts.ErrNotFound
	}
	return f, nil
}

// Stat returns the object's size and modification time.
func (s *Store) Stat(ctx context.Context, name string) (artifacts.Info, error) {
	if err := artifacts.CheckName(name); err != nil {
		return artifacts.Info{}, fmt.Errorf("local: stat %s in %s: %w", name, s.dir, err)
	}
	if err := ctx.Err(); err != nil {
		return artifacts.Info{}, fmt.Errorf("local: stat %s in %s: %w", name, s.dir, err)
	}
	fi, err := os.Stat(s.path(name))
	if err == nil && !fi.Mode().IsRegular() {
		err = artifacts.ErrNotFound
	}
	if err != nil {
		return artifacts.Info{}, fmt.Errorf("local: stat %s in %s: %w", name, s.dir, notFound(err))
	}
	return artifacts.Info{Name: name, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// List walks the directories that can hold names starting with prefix.
func (s *Store) List(ctx context.Context, prefix string) ([]artifacts.Info, error) {
	infos, err := s.list(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("local: list %q in %s: %w", prefix, s.dir, err)
	}
	return infos, nil
}

func (s *Store) list(ctx context.Context, prefix string) ([]artifacts.Info, error) {
	if err := artifacts.CheckPrefix(prefix); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	root := s.dir
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		root = s.path(prefix[:i])
	}
	infos := []artifacts.Info{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || (p == root && errors.Is(err, syscall.ENOTDIR)) {
				return nil // removed while walking, or the prefix names a file
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && p != root {
			// Temporary files and anything else no valid name can reach.
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(s.dir, p)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		if d.IsDir() {
			// Skip directories that cannot contain a match.
			if p != root && !strings.HasPrefix(name+"/", prefix) && !strings.HasPrefix(prefix, name+"/") {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !strings.HasPrefix(name, prefix) {
			return nil
		}
		fi, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		infos = append(infos, artifacts.Info{Name: name, Size: fi.Size(), ModTime: fi.ModTime()})
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(infos, func(i, j int) bool { return infos[i].Name < infos[j].Name })
	return infos, nil
}

// Delete removes the object's file and any directories that become empty.
func (s *Store) Delete(ctx context.Context, name string) error {
	if err := artifacts.CheckName(name); err != nil {
		return fmt.Errorf("local: delete %s in %s: %w", name, s.dir, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("local: delete %s in %s: %w", name, s.dir, err)
	}
	p := s.path(name)
	fi, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) || (err == nil && fi.IsDir()) {
		return nil
	}
	if err == nil {
		err = os.Remove(p)
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("local: delete %s in %s: %w", name, s.dir, err)
	}
	// Prune empty parents; a failure (not empty, or gone) ends the climb.
	for dir := filepath.Dir(p); dir != s.dir && strings.HasPrefix(dir, s.dir); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil {
			break
		}
	}
	return nil
}

// LocalPath returns the file holding name, if it exists.
func (s *Store) LocalPath(name string) (string, bool) {
	if artifacts.CheckName(name) != nil {
		return "", false
	}
	p := s.path(name)
	fi, err := os.Stat(p)
	if err != nil || !fi.Mode().IsRegular() {
		return "", false
	}
	return p, true
}

// notFound translates a missing file (or a file where a directory should
// be) into artifacts.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		return artifacts.ErrNotFound
	}
	return err
}

// ctxFile is an object opened by Get: reads fail once ctx is done.
type ctxFile struct {
	ctx context.Context
	f   *os.File
}

func (f *ctxFile) Read(p []byte) (int, error) {
	if err := f.ctx.Err(); err != nil {
		return 0, err
	}
	return f.f.Read(p)
}

func (f *ctxFile) Close() error { return f.f.Close() }

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
