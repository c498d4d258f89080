// Package storetest is the conformance suite every artifacts.Store backend
// passes. A backend's tests call Run with a function that makes an empty
// store:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) artifacts.Store {
//			s, err := local.New(t.TempDir())
//			if err != nil {
//				t.Fatal(err)
//			}
//			return s
//		})
//	}
package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sous-ml/sous/artifacts"
)

// LargeSize is the size of the large-object tests: above minio-go's 16 MiB
// part size, so S3 backends go through multipart upload.
const LargeSize = 20 << 20

// Run runs the conformance suite. newStore is called once per subtest, from
// that subtest, and must return an empty store that no other subtest uses
// (a fresh directory, or a fresh prefix in a bucket). Subtests run in
// parallel.
func Run(t *testing.T, newStore func(t *testing.T) artifacts.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s artifacts.Store)
	}{
		{"PutGet", testPutGet},
		{"PutUnknownSize", testPutUnknownSize},
		{"Overwrite", testOverwrite},
		{"Empty", testEmpty},
		{"NotFound", testNotFound},
		{"Delete", testDelete},
		{"List", testList},
		{"ListPrefixes", testListPrefixes},
		{"Create", testCreate},
		{"CreateRace", testCreateRace},
		{"CreateRaceLarge", testCreateRaceLarge},
		{"PutAtomic", testPutAtomic},
		{"BadReader", testBadReader},
		{"InvalidName", testInvalidName},
		{"InvalidPrefix", testInvalidPrefix},
		{"Large", testLarge},
		{"Cancelled", testCancelled},
		{"CancelDuringIO", testCancelDuringIO},
		{"Localizer", testLocalizer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, newStore(t))
		})
	}
}

func testPutGet(t *testing.T, s artifacts.Store) {
	tests := []struct {
		name string
		data []byte
	}{
		{"a", []byte("hello")},
		{"dir/sub/obj.bin", randBytes(1, 100<<10)},
		{"objects/" + strings.Repeat("ab", 32), randBytes(2, 1<<20)},
		{"runs/with space/ünïcode-名前.json", []byte(`{"ok":true}`)},
		{"x/y_z-1.2~3+4=5@6", []byte{0, 1, 2, 255}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			before := time.Now().Add(-time.Hour)
			put(t, s, tt.name, tt.data)
			if got := get(t, s, tt.name); !bytes.Equal(got, tt.data) {
				t.Fatalf("Get = %d bytes %.16q, want %d bytes %.16q", len(got), got, len(tt.data), tt.data)
			}
			info, err := s.Stat(ctx, tt.name)
			if err != nil {
				t.Fatalf("Stat: %v", err)
			}
			if info.Name != tt.name || info.Size != int64(len(tt.data)) {
				t.Errorf("Stat = %+v, want name %q size %d", info, tt.name, len(tt.data))
			}
			if info.ModTime.Before(before) || info.ModTime.After(time.Now().Add(time.Hour)) {
				t.Errorf("Stat ModTime = %v, want about now", info.ModTime)
			}
		})
	}
}

func testPutUnknownSize(t *testing.T, s artifacts.Store) {
	data := randBytes(3, 300<<10)
	// A reader that hides its length from the backend.
	if err := s.Put(t.Context(), "u", struct{ io.Reader }{bytes.NewReader(data)}, -1); err != nil {
		t.Fatalf("Put(size -1): %v", err)
	}
	if got := get(t, s, "u"); !bytes.Equal(got, data) {
		t.Fatalf("Get = %d bytes, want %d", len(got), len(data))
	}
	wantStat(t, s, "u", int64(len(data)))
}

func testOverwrite(t *testing.T, s artifacts.Store) {
	put(t, s, "o", []byte("first version, longer"))
	put(t, s, "o", []byte("second"))
	if got := get(t, s, "o"); string(got) != "second" {
		t.Fatalf("Get after overwrite = %q, want %q", got, "second")
	}
	wantStat(t, s, "o", 6)
}

func testEmpty(t *testing.T, s artifacts.Store) {
	ctx := t.Context()
	tests := []struct {
		name  string
		write func(name string) error
	}{
		{"put", func(n string) error { return s.Put(ctx, n, bytes.NewReader(nil), 0) }},
		{"put-unknown-size", func(n string) error { return s.Put(ctx, n, struct{ io.Reader }{strings.NewReader("")}, -1) }},
		{"create", func(n string) error { return s.Create(ctx, n, bytes.NewReader(nil), 0) }},
	}
	for _, tt := range tests {
		name := "empty/" + tt.name
		if err := tt.write(name); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := get(t, s, name); len(got) != 0 {
			t.Errorf("%s: Get = %q, want empty", tt.name, got)
		}
		wantStat(t, s, name, 0)
	}
}

func testNotFound(t *testing.T, s artifacts.Store) {
	ctx := t.Context()
	put(t, s, "file", []byte("x"))
	for _, name := range []string{"missing", "dir/missing", "file/below"} {
		if rc, err := s.Get(ctx, name); !errors.Is(err, artifacts.ErrNotFound) {
			if err == nil {
				rc.Close()
			}
			t.Errorf("Get(%q) error = %v, want ErrNotFound", name, err)
		}
		if _, err := s.Stat(ctx, name); !errors.Is(err, artifacts.ErrNotFound) {
			t.Errorf("Stat(%q) error = %v, want ErrNotFound", name, err)
		}
	}
	// A prefix of an object's name is not an object.
	put(t, s, "d/obj", []byte("x"))
	if _, err := s.Stat(ctx, "d"); !errors.Is(err, artifacts.ErrNotFound) {
		t.Errorf("Stat(%q) of a directory error = %v, want ErrNotFound", "d", err)
	}
}

func testDelete(t *testing.T, s artifacts.Store) {
	ctx := t.Context()
	put(t, s, "del/a", []byte("a"))
	put(t, s, "del/b", []byte("b"))
	for i := range 2 {
		if err := s.Delete(ctx, "del/a"); err != nil {
			t.Fatalf("Delete #%d: %v", i+1, err)
		}
	}
	if _, err := s.Stat(ctx, "del/a"); !errors.Is(err, artifacts.ErrNotFound) {
		t.Errorf("Stat after Delete error = %v, want ErrNotFound", err)
	}
	for _, name := range []string{"never", "del/never/deeper", "del"} {
		if err := s.Delete(ctx, name); err != nil {
			t.Errorf("Delete(%q) of a missing object: %v", name, err)
		}
	}
	if got := names(list(t, s, "")); !slices.Equal(got, []string{"del/b"}) {
		t.Errorf("List after Delete = %q, want [del/b]", got)
	}
	// The name is usable again, also for Create.
	if err := s.Create(ctx, "del/a", strings.NewReader("again"), 5); err != nil {
		t.Errorf("Create after Delete: %v", err)
	}
	if err := s.Delete(ctx, "del/b"); err != nil {
		t.Fatal(err)
	}
	put(t, s, "del/b", []byte("back"))
}

func testList(t *testing.T, s artifacts.Store) {
	// Names chosen so that walking directories in order is not sorted order
	// ("a.txt" < "a/b" because '.' < '/').
	objs := map[string]int{
		"a/b": 1, "a/c/d": 22, "a.txt": 3, "ab": 4, "b": 0,
		"objects/00": 5, "objects/ff": 6, "steps/train/k1/manifest.json": 7,
	}
	for name, n := range objs {
		put(t, s, name, bytes.Repeat([]byte{'x'}, n))
	}
	all := list(t, s, "")
	if !slices.IsSortedFunc(all, func(a, b artifacts.Info) int { return strings.Compare(a.Name, b.Name) }) {
		t.Errorf("List is not sorted: %q", names(all))
	}
	if len(all) != len(objs) {
		t.Errorf("List(\"\") = %q, want %d objects", names(all), len(objs))
	}
	for _, info := range all {
		if want, ok := objs[info.Name]; !ok || info.Size != int64(want) {
			t.Errorf("List entry %+v, want size %d (listed: %v)", info, want, ok)
		}
		if info.ModTime.IsZero() {
			t.Errorf("List entry %q has zero ModTime", info.Name)
		}
	}
}

func testListPrefixes(t *testing.T, s artifacts.Store) {
	for _, name := range []string{"a/b", "a/c/d", "a.txt", "ab", "b", "objects/00", "objects/ff", "steps/train/k1/manifest.json", "steps/transform/k2/manifest.json", "steps/eval/k3/manifest.json"} {
		put(t, s, name, []byte(name))
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{"", []string{"a.txt", "a/b", "a/c/d", "ab", "b", "objects/00", "objects/ff", "steps/eval/k3/manifest.json", "steps/train/k1/manifest.json", "steps/transform/k2/manifest.json"}},
		{"a", []string{"a.txt", "a/b", "a/c/d", "ab"}},
		{"a/", []string{"a/b", "a/c/d"}},
		{"a/c", []string{"a/c/d"}},
		{"a/c/d", []string{"a/c/d"}},
		{"a/c/d/", nil},
		{"b", []string{"b"}},
		{"b/", nil},
		{"objects/", []string{"objects/00", "objects/ff"}},
		{"objects/f", []string{"objects/ff"}},
		{"steps/tr", []string{"steps/train/k1/manifest.json", "steps/transform/k2/manifest.json"}},
		{"steps/train/", []string{"steps/train/k1/manifest.json"}},
		{"zzz", nil},
		{"nodir/", nil},
		{"nodir/deeper/x", nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.prefix), func(t *testing.T) {
			t.Parallel()
			got := list(t, s, tt.prefix)
			if got == nil {
				t.Errorf("List(%q) = nil, want a non-nil slice", tt.prefix)
			}
			if !slices.Equal(names(got), tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
				t.Errorf("List(%q) = %q, want %q", tt.prefix, names(got), tt.want)
			}
			for _, info := range got {
				if info.Size != int64(len(info.Name)) {
					t.Errorf("List(%q): %q has size %d, want %d", tt.prefix, info.Name, info.Size, len(info.Name))
				}
			}
		})
	}
}

func testCreate(t *testing.T, s artifacts.Store) {
	ctx := t.Context()
	if err := s.Create(ctx, "c/first", strings.NewReader("one"), 3); err != nil {
		t.Fatalf("Create: %v", err)
	}
	err := s.Create(ctx, "c/first", strings.NewReader("two!"), 4)
	if !errors.Is(err, artifacts.ErrExists) {
		t.Fatalf("second Create error = %v, want ErrExists", err)
	}
	if got := get(t, s, "c/first"); string(got) != "one" {
		t.Fatalf("content after second Create = %q, want %q", got, "one")
	}
	// Create over an object written by Put.
	put(t, s, "c/put", []byte("put"))
	if err := s.Create(ctx, "c/put", strings.NewReader("create"), 6); !errors.Is(err, artifacts.ErrExists) {
		t.Fatalf("Create over Put error = %v, want ErrExists", err)
	}
	if got := get(t, s, "c/put"); string(got) != "put" {
		t.Fatalf("content = %q, want %q", got, "put")
	}
	// Unknown size.
	if err := s.Create(ctx, "c/unknown", struct{ io.Reader }{strings.NewReader("u")}, -1); err != nil {
		t.Fatalf("Create(size -1): %v", err)
	}
	if err := s.Create(ctx, "c/unknown", struct{ io.Reader }{strings.NewReader("v")}, -1); !errors.Is(err, artifacts.ErrExists) {
		t.Fatalf("second Create(size -1) error = %v, want ErrExists", err)
	}
	if got := names(list(t, s, "c/")); !slices.Equal(got, []string{"c/first", "c/put", "c/unknown"}) {
		t.Errorf("List = %q: Create left other objects behind", got)
	}
}

func testCreateRace(t *testing.T, s artifacts.Store) {
	const n = 8
	ctx := t.Context()
	for round := range 3 {
		name := fmt.Sprintf("race/%d", round)
		var (
			wg      sync.WaitGroup
			start   = make(chan struct{})
			errs    [n]error
			winners atomic.Int32
		)
		for i := range n {
			wg.Go(func() {
				<-start
				data := bytes.Repeat([]byte{byte('a' + i)}, 64<<10)
				errs[i] = s.Create(ctx, name, bytes.NewReader(data), int64(len(data)))
				if errs[i] == nil {
					winners.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil:
				winner = i
			case !errors.Is(err, artifacts.ErrExists):
				t.Errorf("round %d: Create #%d error = %v, want nil or ErrExists", round, i, err)
			}
		}
		if got := winners.Load(); got != 1 {
			t.Fatalf("round %d: %d Creates succeeded, want exactly 1", round, got)
		}
		want := bytes.Repeat([]byte{byte('a' + winner)}, 64<<10)
		if got := get(t, s, name); !bytes.Equal(got, want) {
			t.Fatalf("round %d: content is not the winner's (#%d): %d bytes starting %q", round, winner, len(got), got[:min(len(got), 8)])
		}
	}
	if got := names(list(t, s, "")); !slices.Equal(got, []string{"race/0", "race/1", "race/2"}) {
		t.Errorf("List = %q: the race left other objects behind", got)
	}
}

// testCreateRaceLarge races Creates of objects large enough for an S3
// backend to upload in parts, where the exclusive check must still hold.
func testCreateRaceLarge(t *testing.T, s artifacts.Store) {
	const n = 4
	ctx := t.Context()
	for _, size := range []int64{LargeSize, -1} {
		name := fmt.Sprintf("race-large/%d", size)
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
			errs  [n]error
		)
		for i := range n {
			wg.Go(func() {
				r := &repeatReader{b: byte('a' + i), n: LargeSize}
				<-start
				errs[i] = s.Create(ctx, name, r, size)
			})
		}
		close(start)
		wg.Wait()
		winner, wins := -1, 0
		for i, err := range errs {
			switch {
			case err == nil:
				winner, wins = i, wins+1
			case !errors.Is(err, artifacts.ErrExists):
				t.Errorf("size %d: Create #%d error = %v, want nil or ErrExists", size, i, err)
			}
		}
		if wins != 1 {
			t.Fatalf("size %d: %d Creates succeeded, want exactly 1", size, wins)
		}
		got := get(t, s, name)
		if len(got) != LargeSize || bytes.Count(got, []byte{byte('a' + winner)}) != LargeSize {
			t.Fatalf("size %d: content is not the winner's", size)
		}
	}
}

// repeatReader yields n copies of b without holding them in memory.
type repeatReader struct {
	b   byte
	n   int
	buf []byte
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	k := min(len(p), r.n)
	if len(r.buf) == 0 {
		r.buf = bytes.Repeat([]byte{r.b}, 64<<10)
	}
	for i := 0; i < k; i += len(r.buf) {
		copy(p[i:k], r.buf)
	}
	r.n -= k
	return k, nil
}

// testPutAtomic overwrites an object from several writers while readers
// check that every read sees one whole version.
func testPutAtomic(t *testing.T, s artifacts.Store) {
	const (
		writers = 4
		rounds  = 5
		size    = 256 << 10
	)
	ctx := t.Context()
	put(t, s, "atomic", bytes.Repeat([]byte{'0'}, size))
	var (
		wg   sync.WaitGroup
		done = make(chan struct{})
	)
	for w := range writers {
		wg.Go(func() {
			for r := range rounds {
				data := bytes.Repeat([]byte{byte('A' + w*rounds + r)}, size)
				if err := s.Put(ctx, "atomic", bytes.NewReader(data), size); err != nil {
					t.Errorf("writer %d: Put: %v", w, err)
					return
				}
			}
		})
	}
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				rc, err := s.Get(ctx, "atomic")
				if err != nil {
					t.Errorf("reader: Get: %v", err)
					return
				}
				got, err := io.ReadAll(rc)
				rc.Close()
				if err != nil {
					t.Errorf("reader: read: %v", err)
					return
				}
				if len(got) != size || bytes.Count(got, got[:1]) != size {
					t.Errorf("read a torn object: %d bytes, first %q", len(got), got[:min(len(got), 1)])
					return
				}
			}
		})
	}
	wg.Wait()
	close(done)
	readers.Wait()
}

// testBadReader checks that a Put or Create whose reader fails, or yields
// fewer bytes than announced, stores nothing and keeps the old object.
func testBadReader(t *testing.T, s artifacts.Store) {
	ctx := t.Context()
	put(t, s, "bad/old", []byte("old"))
	readers := []struct {
		name string
		r    func() io.Reader
		size int64
	}{
		{"error", func() io.Reader { return io.MultiReader(strings.NewReader("partial"), errReader{}) }, 100},
		{"error-unknown-size", func() io.Reader { return io.MultiReader(strings.NewReader("partial"), errReader{}) }, -1},
		{"short", func() io.Reader { return strings.NewReader("short") }, 10},
	}
	for _, rd := range readers {
		if err := s.Put(ctx, "bad/old", rd.r(), rd.size); err == nil {
			t.Errorf("Put with %s reader succeeded", rd.name)
		}
		if got := get(t, s, "bad/old"); string(got) != "old" {
			t.Errorf("after Put with %s reader, content = %q, want %q", rd.name, got, "old")
		}
		if err := s.Put(ctx, "bad/new", rd.r(), rd.size); err == nil {
			t.Errorf("Put with %s reader succeeded", rd.name)
		}
		if err := s.Create(ctx, "bad/new", rd.r(), rd.size); err == nil {
			t.Errorf("Create with %s reader succeeded", rd.name)
		}
		if _, err := s.Stat(ctx, "bad/new"); !errors.Is(err, artifacts.ErrNotFound) {
			t.Errorf("after writes with %s reader, Stat error = %v, want ErrNotFound", rd.name, err)
		}
	}
	if got := names(list(t, s, "")); !slices.Equal(got, []string{"bad/old"}) {
		t.Errorf("List = %q, want only bad/old", got)
	}
}

var invalidNames = []string{
	"", "/abs", "abs/../../x", "..", ".", "a/./b", "a/../b", "../escape", "trailing/",
	"a//b", `back\slash`, "a/.hidden", ".hidden", "nul\x00byte", "new\nline",
	"\xff\xfe", strings.Repeat("x", artifacts.MaxNameLen+1),
}

func testInvalidName(t *testing.T, s artifacts.Store) {
	ctx := t.Context()
	put(t, s, "valid", []byte("v"))
	ops := []struct {
		name string
		op   func(name string) error
	}{
		{"Put", func(n string) error { return s.Put(ctx, n, strings.NewReader("x"), 1) }},
		{"Create", func(n string) error { return s.Create(ctx, n, strings.NewReader("x"), 1) }},
		{"Get", func(n string) error {
			rc, err := s.Get(ctx, n)
			if err == nil {
				rc.Close()
			}
			return err
		}},
		{"Stat", func(n string) error { _, err := s.Stat(ctx, n); return err }},
		{"Delete", func(n string) error { return s.Delete(ctx, n) }},
	}
	for _, name := range invalidNames {
		if err := artifacts.CheckName(name); !errors.Is(err, artifacts.ErrInvalidName) {
			t.Errorf("CheckName(%q) = %v, want ErrInvalidName", name, err)
		}
		for _, op := range ops {
			if err := op.op(name); !errors.Is(err, artifacts.ErrInvalidName) {
				t.Errorf("%s(%q) error = %v, want ErrInvalidName", op.name, name, err)
			}
		}
	}
	if got := names(list(t, s, "")); !slices.Equal(got, []string{"valid"}) {
		t.Errorf("List = %q: invalid names reached the store", got)
	}
}

func testInvalidPrefix(t *testing.T, s artifacts.Store) {
	for _, prefix := range []string{"/", "/abs", "../", "a/../", "a//", "./", `a\b/`, "x/.hidden/", "nul\x00"} {
		if _, err := s.List(t.Context(), prefix); !errors.Is(err, artifacts.ErrInvalidName) {
			t.Errorf("List(%q) error = %v, want ErrInvalidName", prefix, err)
		}
	}
}

func testLarge(t *testing.T, s artifacts.Store) {
	ctx := t.Context()
	data := randBytes(4, LargeSize)
	sum := sha256.Sum256(data)
	check := func(name string) {
		t.Helper()
		rc, err := s.Get(ctx, name)
		if err != nil {
			t.Fatalf("Get(%s): %v", name, err)
		}
		defer rc.Close()
		h := sha256.New()
		n, err := io.Copy(h, rc)
		if err != nil {
			t.Fatalf("Get(%s): read: %v", name, err)
		}
		if n != LargeSize || !bytes.Equal(h.Sum(nil), sum[:]) {
			t.Fatalf("Get(%s) = %d bytes with another digest, want the %d bytes put", name, n, LargeSize)
		}
		wantStat(t, s, name, LargeSize)
	}
	tests := []struct {
		name string
		fn   func(name string) error
	}{
		{"put", func(n string) error { return s.Put(ctx, n, bytes.NewReader(data), LargeSize) }},
		{"put-unknown-size", func(n string) error { return s.Put(ctx, n, struct{ io.Reader }{bytes.NewReader(data)}, -1) }},
		{"create", func(n string) error { return s.Create(ctx, n, bytes.NewReader(data), LargeSize) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			name := "large/" + tt.name
			if err := tt.fn(name); err != nil {
				t.Fatal(err)
			}
			check(name)
		})
	}
	t.Run("create-exists", func(t *testing.T) {
		t.Parallel()
		if err := s.Create(ctx, "large/taken", strings.NewReader("small"), 5); err != nil {
			t.Fatal(err)
		}
		other := randBytes(5, LargeSize)
		for _, size := range []int64{LargeSize, -1} {
			err := s.Create(ctx, "large/taken", struct{ io.Reader }{bytes.NewReader(other)}, size)
			if !errors.Is(err, artifacts.ErrExists) {
				t.Fatalf("Create(size %d) over an object error = %v, want ErrExists", size, err)
			}
		}
		if got := get(t, s, "large/taken"); string(got) != "small" {
			t.Fatalf("content = %d bytes, want %q", len(got), "small")
		}
	})
}

func testCancelled(t *testing.T, s artifacts.Store) {
	put(t, s, "exists", []byte("x"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	ops := []struct {
		name string
		op   func() error
	}{
		{"Put", func() error { return s.Put(ctx, "new", strings.NewReader("x"), 1) }},
		{"Put existing", func() error { return s.Put(ctx, "exists", strings.NewReader("y"), 1) }},
		{"Create", func() error { return s.Create(ctx, "new", strings.NewReader("x"), 1) }},
		{"Get", func() error {
			rc, err := s.Get(ctx, "exists")
			if err == nil {
				_, err = io.ReadAll(rc)
				rc.Close()
			}
			return err
		}},
		{"Stat", func() error { _, err := s.Stat(ctx, "exists"); return err }},
		{"List", func() error { _, err := s.List(ctx, ""); return err }},
		{"Delete", func() error { return s.Delete(ctx, "exists") }},
	}
	for _, op := range ops {
		if err := op.op(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: error = %v, want context.Canceled", op.name, err)
		}
	}
	if got := names(list(t, s, "")); !slices.Equal(got, []string{"exists"}) {
		t.Errorf("List = %q, want only the object put before", got)
	}
	if got := get(t, s, "exists"); string(got) != "x" {
		t.Errorf("content = %q, want %q", got, "x")
	}
}

// testCancelDuringIO cancels while a Put is reading its input and while a
// Get's body is being read.
func testCancelDuringIO(t *testing.T, s artifacts.Store) {
	const size = 4 << 20
	data := randBytes(6, size)
	t.Run("put", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		r := &cancelReader{r: bytes.NewReader(data), after: size / 2, cancel: cancel}
		if err := s.Put(ctx, "cancel/put", r, size); err == nil {
			t.Fatal("Put succeeded though its context was cancelled halfway")
		}
		if _, err := s.Stat(t.Context(), "cancel/put"); !errors.Is(err, artifacts.ErrNotFound) {
			t.Fatalf("Stat after cancelled Put error = %v, want ErrNotFound", err)
		}
	})
	t.Run("get", func(t *testing.T) {
		put(t, s, "cancel/get", data)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		rc, err := s.Get(ctx, "cancel/get")
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		if _, err := io.ReadFull(rc, make([]byte, 1024)); err != nil {
			t.Fatal(err)
		}
		cancel()
		if n, err := io.Copy(io.Discard, rc); err == nil {
			t.Fatalf("reading after cancel read %d more bytes and no error", n)
		}
	})
}

func testLocalizer(t *testing.T, s artifacts.Store) {
	l, ok := s.(artifacts.Localizer)
	if !ok {
		t.Skipf("%T is not a Localizer", s)
	}
	put(t, s, "loc/obj", []byte("local"))
	p, ok := l.LocalPath("loc/obj")
	if !ok {
		t.Fatal("LocalPath of a stored object = false")
	}
	if got, err := os.ReadFile(p); err != nil || string(got) != "local" {
		t.Fatalf("ReadFile(LocalPath) = %q, %v; want %q", got, err, "local")
	}
	for _, name := range []string{"loc/missing", "loc", "../x", ""} {
		if p, ok := l.LocalPath(name); ok {
			t.Errorf("LocalPath(%q) = %q, true; want false", name, p)
		}
	}
}

// BenchmarkGet measures reading back an object of size bytes, reporting
// throughput.
func BenchmarkGet(b *testing.B, s artifacts.Store, size int) {
	ctx := b.Context()
	if err := s.Put(ctx, "bench/get", bytes.NewReader(randBytes(7, size)), int64(size)); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 256<<10)
	b.SetBytes(int64(size))
	b.ResetTimer()
	for b.Loop() {
		rc, err := s.Get(ctx, "bench/get")
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.CopyBuffer(io.Discard, rc, buf)
		rc.Close()
		if err != nil || n != int64(size) {
			b.Fatalf("read %d bytes, %v", n, err)
		}
	}
}

// BenchmarkPut measures overwriting an object of size bytes, reporting throughput.
func BenchmarkPut(b *testing.B, s artifacts.Store, size int) {
	ctx := b.Context()
	data := randBytes(8, size)
	b.SetBytes(int64(size))
	b.ResetTimer()
	for b.Loop() {
		if err := s.Put(ctx, "bench/put", bytes.NewReader(data), int64(size)); err != nil {
			b.Fatal(err)
		}
	}
}

func put(t testing.TB, s artifacts.Store, name string, data []byte) {
	t.Helper()
	if err := s.Put(t.Context(), name, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatalf("Put(%q): %v", name, err)
	}
}

func get(t testing.TB, s artifacts.Store, name string) []byte {
	t.Helper()
	rc, err := s.Get(t.Context(), name)
	if err != nil {
		t.Fatalf("Get(%q): %v", name, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("Get(%q): read: %v", name, err)
	}
	return data
}

func list(t testing.TB, s artifacts.Store, prefix string) []artifacts.Info {
	t.Helper()
	infos, err := s.List(t.Context(), prefix)
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	return infos
}

func wantStat(t testing.TB, s artifacts.Store, name string, size int64) {
	t.Helper()
	info, err := s.Stat(t.Context(), name)
	if err != nil {
		t.Fatalf("Stat(%q): %v", name, err)
	}
	if info.Size != size {
		t.Errorf("Stat(%q).Size = %d, want %d", name, info.Size, size)
	}
}

func names(infos []artifacts.Info) []string {
	var out []string
	for _, info := range infos {
		out = append(out, info.Name)
	}
	return out
}

func randBytes(seed uint64, n int) []byte {
	var key [32]byte
	key[0] = byte(seed)
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(key).Read(b)
	return b
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("storetest: reader failed") }

// cancelReader calls cancel once after bytes have been read, then keeps reading.
type cancelReader struct {
	r      io.Reader
	after  int
	n      int
	cancel func()
}

func (c *cancelReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	if c.n >= c.after {
		c.cancel()
	}
	return n, err
}
