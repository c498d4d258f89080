package artifacts

import (
	"context"
	"errors"
	"io"
	"time"
)

// Sentinel errors every backend translates its own errors into. Test for them
// with errors.Is: backends wrap them with the operation and the object name.
var (
	// ErrNotFound means the named object does not exist. For a manifest it is a cache miss.
	ErrNotFound = errors.New("artifacts: not found")
	// ErrExists is returned by Create when the name is already taken.
	ErrExists = errors.New("artifacts: already exists")
	// ErrInvalidName is returned for a name that could escape the store or is malformed.
	ErrInvalidName = errors.New("artifacts: invalid object name")
)

// Info describes a stored object.
type Info struct {
	Name    string
	Size    int64
	ModTime time.Time
	// ETag is the S3 entity tag; empty for a local store.
	ETag string
}

// Store is a flat namespace of immutable-by-convention objects.
//
// Names follow the rules of CheckName; every method returns an error wrapping
// ErrInvalidName for a name (or, for List, a prefix) that breaks them, before
// doing any I/O.
//
// Every method honours ctx cancellation and returns ctx.Err() (possibly
// wrapped) when cancelled. A Store is safe for concurrent use by multiple
// goroutines, and by multiple processes sharing the same backing storage.
type Store interface {
	// Put writes r under name, replacing any previous object atomically:
	// readers see the old or the new bytes, never a mix, and a failed or
	// cancelled Put leaves the previous object (or none) in place. size is the
	// number of bytes r yields, or -1 if unknown; a reader that ends before
	// size bytes is an error.
	Put(ctx context.Context, name string, r io.Reader, size int64) error
	// Create writes r under name only if no object has that name; otherwise it
	// returns ErrExists and leaves the existing object untouched. Of two
	// concurrent Creates of the same name, in this process or another, exactly
	// one succeeds. size is as for Put.
	Create(ctx context.Context, name string, r io.Reader, size int64) error
	// Get opens the object for reading; the caller must close it. It returns
	// ErrNotFound if the object does not exist. Reads fail once ctx is done.
	Get(ctx context.Context, name string) (io.ReadCloser, error)
	// Stat returns the object's Info, or ErrNotFound.
	Stat(ctx context.Context, name string) (Info, error)
	// List returns every object whose name starts with prefix, sorted by
	// name. prefix is a plain string prefix, not necessarily ending at a "/":
	// "steps/tr" matches "steps/train/..." and "steps/transform/...". An empty
	// prefix lists the whole store; no match is an empty list, not an error.
	List(ctx context.Context, prefix string) ([]Info, error)
	// Delete removes the object. Deleting a missing object is not an error.
	Delete(ctx context.Context, name string) error
}

// Localizer is implemented by stores whose objects are files on this machine,
// so readers that need random access (parquet) can open them in place instead
// of copying.
type Localizer interface {
	// LocalPath returns the file holding name, or false if there is none
	// (including when name is invalid). The file belongs to the store: open it
	// read-only and never modify, rename or remove it.
	LocalPath(name string) (string, bool)
}
