package artifacts

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
)

// ErrDigestMismatch means bytes did not hash to the digest they were stored
// or expected under: a corrupt blob, or a file that changed while it was
// being uploaded.
var ErrDigestMismatch = errors.New("artifacts: content does not match digest")

// blobPrefix is the directory of content-addressed blobs.
const blobPrefix = "objects/"

// maxMemBlob is the largest blob PutBlob hashes in memory; larger readers are
// spooled to a temporary file.
const maxMemBlob = 4 << 20

// copyBufSize is the buffer size for streaming copies.
const copyBufSize = 256 << 10

// BlobName returns the object name of the blob with the given digest:
// "objects/<digest>".
func BlobName(digest string) string { return blobPrefix + digest }

// ValidDigest reports whether d is a digest as PutBlob returns it: 64
// lowercase hex digits of a sha256.
func ValidDigest(d string) bool {
	if len(d) != sha256.Size*2 {
		return false
	}
	for i := 0; i < len(d); i++ {
		c := d[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func checkDigest(d string) error {
	if !ValidDigest(d) {
		return fmt.Errorf("%w: digest %q is not 64 lowercase hex digits", ErrInvalidName, d)
	}
	return nil
}

// PutBlob stores the bytes of r as a content-addressed blob and returns their
// hex sha256 digest and size. If the store already holds the blob (same name
// and size) it is not uploaded again.
//
// Readers of up to 4 MiB are hashed in memory; larger ones are streamed to a
// temporary file in os.TempDir while hashing, so the blob is never held in
// memory. For a file on disk, PutBlobFile avoids the extra copy.
func PutBlob(ctx context.Context, s Store, r io.Reader) (digest string, size int64, err error) {
	if err := ctx.Err(); err != nil {
		return "", 0, err
	}
	head, err := io.ReadAll(io.LimitReader(ctxReader{ctx, r}, maxMemBlob+1))
	if err != nil {
		return "", 0, fmt.Errorf("artifacts: put blob: read: %w", err)
	}
	if len(head) <= maxMemBlob {
		sum := sha256.Sum256(head)
		digest = hex.EncodeToString(sum[:])
		size = int64(len(head))
		err = putIfAbsent(ctx, s, digest, size, func() io.Reader { return bytes.NewReader(head) })
		return digest, size, err
	}

	f, err := os.CreateTemp("", "sous-blob-*")
	if err != nil {
		return "", 0, fmt.Errorf("artifacts: put blob: %w", err)
	}
	defer func() {
		f.Close()
		os.Remove(f.Name())
	}()
	h := sha256.New()
	w := io.MultiWriter(f, h)
	if _, err := w.Write(head); err != nil {
		return "", 0, fmt.Errorf("artifacts: put blob: spool: %w", err)
	}
	n, err := io.CopyBuffer(w, ctxReader{ctx, r}, make([]byte, copyBufSize))
	if err != nil {
		return "", 0, fmt.Errorf("artifacts: put blob: spool: %w", err)
	}
	digest = hex.EncodeToString(h.Sum(nil))
	size = int64(len(head)) + n
	err = putIfAbsent(ctx, s, digest, size, func() io.Reader {
		// The file is ours and unchanged since hashing; a failed seek shows up
		// as a short read, which Put reports.
		_, _ = f.Seek(0, io.SeekStart)
		return f
	})
	return digest, size, err
}

// PutBlobFile stores the file at path as a content-addressed blob, like
// PutBlob. The file is hashed in place and then uploaded through a reader
// that checks the digest before handing over the last byte, so a file that
// changes meanwhile fails with ErrDigestMismatch instead of storing bytes
// under the wrong digest.
func PutBlobFile(ctx context.Context, s Store, path string) (digest string, size int64, err error) {
	if err := ctx.Err(); err != nil {
		return "", 0, err
	}
	f, err := os.Open(path)
	if err != nil {
		return "", 0, fmt.Errorf("artifacts: put blob: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	size, err = io.CopyBuffer(h, ctxReader{ctx, f}, make([]byte, copyBufSize))
	if err != nil {
		return "", 0, fmt.Errorf("artifacts: put blob %s: hash: %w", path, err)
	}
	digest = hex.EncodeToString(h.Sum(nil))
	err = putIfAbsent(ctx, s, digest, size, func() io.Reader {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return errReader{err}
		}
		return &verifyReader{r: f, h: sha256.New(), size: size, want: digest}
	})
	if err != nil {
		return "", 0, fmt.Errorf("%w (file %s)", err, path)
	}
	return digest, size, nil
}

// UploadFile stores the file at path as the blob digest, whose digest and
// size the caller already knows (from a digest cache), unless the store
// already has it: what the store holds is not sent again. The bytes are
// verified on the way, so a file that changed since it was hashed fails with
// ErrDigestMismatch and stores nothing.
func UploadFile(ctx context.Context, s Store, path, digest string, size int64) error {
	if err := checkDigest(digest); err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("artifacts: upload: %w", err)
	}
	defer f.Close()
	err = putIfAbsent(ctx, s, digest, size, func() io.Reader {
		return &verifyReader{r: f, h: sha256.New(), size: size, want: digest}
	})
	if err != nil {
		return fmt.Errorf("%w (file %s)", err, path)
	}
	return nil
}

// putIfAbsent uploads the blob unless an object of the same name and size exists.
func putIfAbsent(ctx context.Context, s Store, digest string, size int64, open func() io.Reader) error {
	name := BlobName(digest)
	info, err := s.Stat(ctx, name)
	switch {
	case err == nil && info.Size == size:
		return nil
	case err == nil, errors.Is(err, ErrNotFound):
		// Missing, or a different size, which can only be a damaged copy: (re)write it.
	default:
		return fmt.Errorf("artifacts: put blob %s: %w", digest, err)
	}
	if err := s.Put(ctx, name, open(), size); err != nil {
		return fmt.Errorf("artifacts: put blob %s: %w", digest, err)
	}
	return nil
}

// OpenBlobFile returns the path of a local file holding the blob's bytes and
// a cleanup function the caller must call when done with it.
//
// If s is a Localizer holding the blob, the path is the store's own file
// (read-only; cleanup does nothing). Otherwise the blob is downloaded to a new
// file in tmpDir (os.TempDir if empty) and its digest verified: a mismatch is
// ErrDigestMismatch, a missing blob ErrNotFound.
func OpenBlobFile(ctx context.Context, s Store, digest, tmpDir string) (path string, cleanup func(), err error) {
	if err := checkDigest(digest); err != nil {
		return "", nil, err
	}
	if err := ctx.Err(); err != nil {
		return "", nil, err
	}
	name := BlobName(digest)
	if l, ok := s.(Localizer); ok {
		if p, ok := l.LocalPath(name); ok {
			return p, func() {}, nil
		}
	}
	rc, err := s.Get(ctx, name)
	if err != nil {
		return "", nil, fmt.Errorf("artifacts: open blob %s: %w", digest, err)
	}
	defer rc.Close()
	f, err := os.CreateTemp(tmpDir, "blob-"+digest[:16]+"-*")
	if err != nil {
		return "", nil, fmt.Errorf("artifacts: open blob %s: %w", digest, err)
	}
	cleanup = func() { os.Remove(f.Name()) }
	h := sha256.New()
	_, err = io.CopyBuffer(io.MultiWriter(f, h), rc, make([]byte, copyBufSize))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		if got := hex.EncodeToString(h.Sum(nil)); got != digest {
			err = fmt.Errorf("%w: got sha256 %s", ErrDigestMismatch, got)
		}
	}
	if err != nil {
		cleanup()
		return "", nil, fmt.Errorf("artifacts: open blob %s: download: %w", digest, err)
	}
	return f.Name(), cleanup, nil
}

// verifyReader yields exactly size bytes of r and withholds the last of them
// unless they hash to want, so a store never receives a complete object whose
// bytes differ from its digest.
type verifyReader struct {
	r    io.Reader
	h    hash.Hash
	n    int64
	size int64
	want string
	err  error
}

func (v *verifyReader) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	if v.n == v.size {
		// Only reached for size 0, or after the final bytes were returned.
		if v.size == 0 {
			v.err = v.verify()
			if v.err == nil {
				v.err = io.EOF
			}
			return 0, v.err
		}
		return 0, io.EOF
	}
	if rem := v.size - v.n; int64(len(p)) > rem {
		p = p[:rem]
	}
	k, err := v.r.Read(p)
	v.h.Write(p[:k])
	v.n += int64(k)
	if v.n == v.size {
		if v.err = v.verify(); v.err != nil {
			return 0, v.err
		}
		return k, nil
	}
	if err == io.EOF {
		v.err = fmt.Errorf("%w: file shrank to %d bytes while uploading, was %d", ErrDigestMismatch, v.n, v.size)
		return k, v.err
	}
	return k, err
}

func (v *verifyReader) verify() error {
	if got := hex.EncodeToString(v.h.Sum(nil)); got != v.want {
		return fmt.Errorf("%w: file changed while uploading (sha256 %s, was %s)", ErrDigestMismatch, got, v.want)
	}
	return nil
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// ctxReader fails reads once ctx is done.
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
