// Package s3 is an artifacts.Store in an S3 bucket, through minio-go. It
// works with AWS S3, MinIO and other S3-compatible servers that support
// conditional writes (If-None-Match: *), which Create relies on to be
// exclusive; a server that ignores the header would let Create overwrite.
//
// Object <name> is stored under the key Config.Prefix + <name>. Put replaces
// objects atomically (S3 makes an object visible only once fully uploaded),
// large ones in parts; a Put that fails midway may leave an incomplete
// multipart upload behind, so give the bucket a lifecycle rule that aborts
// incomplete uploads after a day. Secrets never appear in errors or in a
// printed Config.
package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/sous-ml/sous/artifacts"
)

// DefaultPartSize is the multipart part size for uploads of unknown size; it
// bounds the memory an upload buffers, and the object size to 10000 parts
// (about 156 GiB). Uploads of known size let minio-go choose.
const DefaultPartSize = 16 << 20

// Store is an artifacts.Store in an S3 bucket. It is safe for concurrent use.
type Store struct {
	cfg       Config
	client    *minio.Client
	core      minio.Core
	transport *http.Transport
}

var _ artifacts.Store = (*Store)(nil)

// New connects to the bucket cfg names and checks that it exists, creating
// it if cfg.CreateBucket is set.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	tr, err := minio.DefaultTransport(!cfg.Insecure)
	if err != nil {
		return nil, fmt.Errorf("s3: %w", err)
	}
	var creds *credentials.Credentials
	if cfg.AccessKeyID != "" {
		creds = credentials.NewStaticV4(cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken)
	} else {
		creds = credentials.NewChainCredentials([]credentials.Provider{
			&credentials.EnvAWS{},
			&credentials.FileAWSCredentials{},
			&credentials.IAM{},
		})
	}
	lookup := minio.BucketLookupAuto
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	client, err := minio.New(cfg.endpoint(), &minio.Options{
		Creds:        creds,
		Secure:       !cfg.Insecure,
		Transport:    tr,
		Region:       cfg.region(),
		BucketLookup: lookup,
	})
	if err != nil {
		return nil, fmt.Errorf("s3: %s: %w", cfg, err)
	}
	s := &Store{cfg: cfg, client: client, core: minio.Core{Client: client}, transport: tr}
	if err := s.ensureBucket(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) ensureBucket(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.cfg.Bucket)
	if err != nil {
		return fmt.Errorf("s3: check bucket %q at %s: %w", s.cfg.Bucket, s.cfg.endpoint(), ctxErr(ctx, err))
	}
	if ok {
		return nil
	}
	if !s.cfg.CreateBucket {
		return fmt.Errorf("s3: bucket %q does not exist at %s (create it, or pass --create-bucket)", s.cfg.Bucket, s.cfg.endpoint())
	}
	err = s.client.MakeBucket(ctx, s.cfg.Bucket, minio.MakeBucketOptions{Region: s.cfg.region()})
	if code := minio.ToErrorResponse(err).Code; code == minio.BucketAlreadyOwnedByYou || code == minio.BucketAlreadyExists {
		// Created concurrently, by us or by someone who lets us use it:
		// BucketExists said no a moment ago, so ask again.
		if ok, err2 := s.client.BucketExists(ctx, s.cfg.Bucket); err2 == nil && ok {
			return nil
		}
	}
	if err != nil {
		return fmt.Errorf("s3: create bucket %q at %s: %w", s.cfg.Bucket, s.cfg.endpoint(), ctxErr(ctx, err))
	}
	return nil
}

// Close releases the store's idle connections. It is optional: a store
// holds no other resources, and stays usable after Close.
func (s *Store) Close() error {
	s.transport.CloseIdleConnections()
	return nil
}

// Config returns the store's configuration.
func (s *Store) Config() Config { return s.cfg }

// String describes the store, without secrets.
func (s *Store) String() string { return s.cfg.String() }

func (s *Store) key(name string) string { return s.cfg.Prefix + name }

// Put uploads r under name. S3 replaces objects atomically.
func (s *Store) Put(ctx context.Context, name string, r io.Reader, size int64) error {
	return s.put(ctx, "put", name, r, size, false)
}

// Create uploads r under name with If-None-Match: *, so the server refuses
// it (412 Precondition Failed, reported as artifacts.ErrExists) if the name
// is taken. It always sends a single PUT (see put), which limits objects it
// creates to the server's single-PUT size, 5 GiB on AWS; an input of unknown
// size is spooled first, in memory up to 8 MiB, else to a temporary file.
func (s *Store) Create(ctx context.Context, name string, r io.Reader, size int64) error {
	return s.put(ctx, "create", name, r, size, true)
}

func (s *Store) put(ctx context.Context, op, name string, r io.Reader, size int64, exclusive bool) error {
	if err := s.check(ctx, name); err != nil {
		return s.errorf(op, name, err)
	}
	if err := checkLength(r, size); err != nil {
		return s.errorf(op, name, err)
	}
	opts := minio.PutObjectOptions{ContentType: "application/octet-stream"}
	if size < 0 {
		opts.PartSize = DefaultPartSize
	}
	if exclusive {
		// The condition must be checked when the object becomes visible.
		// MinIO checks it when a multipart upload starts, not when it
		// completes, so concurrent multipart Creates could all succeed: send
		// one PUT, spooling an input of unknown size to learn its length.
		opts.SetMatchETagExcept("*")
		opts.DisableMultipart = true
		if size < 0 {
			var cleanup func()
			var err error
			r, size, cleanup, err = spool(ctx, r)
			if err != nil {
				return s.errorf(op, name, err)
			}
			defer cleanup()
		}
	}
	// r goes to minio-go as is, so that it can retry from a Seeker and
	// upload parts in parallel from a ReaderAt such as *os.File.
	sk, _ := r.(io.Seeker)
	var start int64
	if sk != nil {
		if pos, err := sk.Seek(0, io.SeekCurrent); err == nil {
			start = pos
		} else {
			sk = nil
		}
	}
	for attempt := 1; ; attempt++ {
		_, err := s.client.PutObject(ctx, s.cfg.Bucket, s.key(name), r, size, opts)
		if err == nil {
			return nil
		}
		// AWS answers 409 ConditionalRequestConflict to a conditional write
		// racing another one on the same key, and asks for a retry, which
		// then succeeds or finds the object (412).
		if exclusive && sk != nil && attempt < conflictRetries && isConflict(err) {
			if _, serr := sk.Seek(start, io.SeekStart); serr == nil && wait(ctx, time.Duration(attempt)*50*time.Millisecond) == nil {
				continue
			}
		}
		return s.errorf(op, name, s.translate(ctx, err))
	}
}

// conflictRetries bounds the attempts of a Create that keeps conflicting.
const conflictRetries = 8

func isConflict(err error) bool {
	var resp minio.ErrorResponse
	return errors.As(err, &resp) && resp.StatusCode == http.StatusConflict && resp.Code == "ConditionalRequestConflict"
}

func wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// maxMemSpool is the most spool keeps in memory before using a temporary file.
const maxMemSpool = 8 << 20

// spool reads r to its end, into memory if it is small and otherwise into a
// temporary file, and returns a reader of the same bytes and their count.
func spool(ctx context.Context, r io.Reader) (_ io.Reader, size int64, cleanup func(), err error) {
	r = ctxReader{ctx, r}
	head, err := io.ReadAll(io.LimitReader(r, maxMemSpool+1))
	if err != nil {
		return nil, 0, nil, fmt.Errorf("read input: %w", err)
	}
	if len(head) <= maxMemSpool {
		return bytes.NewReader(head), int64(len(head)), func() {}, nil
	}
	f, err := os.CreateTemp("", "sous-s3-spool-*")
	if err != nil {
		return nil, 0, nil, err
	}
	cleanup = func() {
		f.Close()
		os.Remove(f.Name())
	}
	if _, err = f.Write(head); err == nil {
		size, err = io.Copy(f, r)
		size += int64(len(head))
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		cleanup()
		return nil, 0, nil, fmt.Errorf("spool input: %w", err)
	}
	return f, size, cleanup, nil
}

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

// checkLength fails early if r is a Seeker with fewer than size bytes left:
// minio-go would find out only after retrying the upload for seconds.
func checkLength(r io.Reader, size int64) error {
	sk, ok := r.(io.Seeker)
	if !ok || size < 0 {
		return nil
	}
	cur, err := sk.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil // not really seekable, such as a pipe
	}
	end, err := sk.Seek(0, io.SeekEnd)
	if _, err2 := sk.Seek(cur, io.SeekStart); err == nil {
		err = err2
	}
	if err != nil {
		return fmt.Errorf("seek input: %w", err)
	}
	if end-cur < size {
		return fmt.Errorf("reader yields %d bytes, %d announced: %w", end-cur, size, io.ErrUnexpectedEOF)
	}
	return nil
}

// Get downloads the object. The body is read as the caller reads, and reads
// fail once ctx is done.
func (s *Store) Get(ctx context.Context, name string) (io.ReadCloser, error) {
	if err := s.check(ctx, name); err != nil {
		return nil, s.errorf("get", name, err)
	}
	body, _, _, err := s.core.GetObject(ctx, s.cfg.Bucket, s.key(name), minio.GetObjectOptions{})
	if err != nil {
		return nil, s.errorf("get", name, s.translate(ctx, err))
	}
	return &ctxBody{ctx: ctx, body: body}, nil
}

// Stat returns the object's size and modification time.
func (s *Store) Stat(ctx context.Context, name string) (artifacts.Info, error) {
	if err := s.check(ctx, name); err != nil {
		return artifacts.Info{}, s.errorf("stat", name, err)
	}
	oi, err := s.client.StatObject(ctx, s.cfg.Bucket, s.key(name), minio.StatObjectOptions{})
	if err != nil {
		return artifacts.Info{}, s.errorf("stat", name, s.translate(ctx, err))
	}
	return artifacts.Info{Name: name, Size: oi.Size, ModTime: oi.LastModified, ETag: oi.ETag}, nil
}

// Object is an object opened for random access: a parquet reader fetches
// the footer and the row groups it reads by range, never the whole object.
type Object struct {
	obj  *minio.Object
	info artifacts.Info
}

// ReadAt reads len(p) bytes at off with a ranged GET.
func (o *Object) ReadAt(p []byte, off int64) (int, error) { return o.obj.ReadAt(p, off) }

// Info is the object's size and entity tag when it was opened.
func (o *Object) Info() artifacts.Info { return o.info }

// Close releases the object.
func (o *Object) Close() error { return o.obj.Close() }

// Open opens an object for random access.
func (s *Store) Open(ctx context.Context, name string) (*Object, error) {
	if err := s.check(ctx, name); err != nil {
		return nil, s.errorf("open", name, err)
	}
	obj, err := s.client.GetObject(ctx, s.cfg.Bucket, s.key(name), minio.GetObjectOptions{})
	if err != nil {
		return nil, s.errorf("open", name, s.translate(ctx, err))
	}
	oi, err := obj.Stat()
	if err != nil {
		obj.Close()
		return nil, s.errorf("open", name, s.translate(ctx, err))
	}
	return &Object{obj: obj, info: artifacts.Info{Name: name, Size: oi.Size, ModTime: oi.LastModified, ETag: oi.ETag}}, nil
}

// List lists the keys under Prefix + prefix. Keys that are not valid object
// names (written by other tools) are skipped.
func (s *Store) List(ctx context.Context, prefix string) ([]artifacts.Info, error) {
	fail := func(err error) error {
		return fmt.Errorf("s3: list %q in %s at %s: %w", prefix, s.cfg.URL(), s.cfg.endpoint(), err)
	}
	if err := artifacts.CheckPrefix(prefix); err != nil {
		return nil, fail(err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fail(err)
	}
	infos := []artifacts.Info{}
	opts := minio.ListObjectsOptions{Prefix: s.key(prefix), Recursive: true}
	for oi := range s.client.ListObjectsIter(ctx, s.cfg.Bucket, opts) {
		if oi.Err != nil {
			return nil, fail(s.translate(ctx, oi.Err))
		}
		name, ok := strings.CutPrefix(oi.Key, s.cfg.Prefix)
		if !ok || artifacts.CheckName(name) != nil {
			continue
		}
		infos = append(infos, artifacts.Info{Name: name, Size: oi.Size, ModTime: oi.LastModified, ETag: oi.ETag})
	}
	if err := ctx.Err(); err != nil {
		return nil, fail(err)
	}
	sort.Slice(infos, func(i, j int) bool { return infos[i].Name < infos[j].Name })
	return infos, nil
}

// Delete removes the object; S3 reports success for a missing one.
func (s *Store) Delete(ctx context.Context, name string) error {
	if err := s.check(ctx, name); err != nil {
		return s.errorf("delete", name, err)
	}
	err := s.client.RemoveObject(ctx, s.cfg.Bucket, s.key(name), minio.RemoveObjectOptions{})
	if err != nil {
		err = s.translate(ctx, err)
		if errors.Is(err, artifacts.ErrNotFound) {
			return nil
		}
		return s.errorf("delete", name, err)
	}
	return nil
}

func (s *Store) check(ctx context.Context, name string) error {
	if err := artifacts.CheckName(name); err != nil {
		return err
	}
	return ctx.Err()
}

// errorf wraps err with the operation and where the object lives, so users
// can tell which store failed.
func (s *Store) errorf(op, name string, err error) error {
	return fmt.Errorf("s3: %s %s in %s at %s: %w", op, name, s.cfg.URL(), s.cfg.endpoint(), err)
}

// translate maps S3 errors to the artifacts sentinels and makes a failure
// caused by a cancelled context match ctx.Err().
func (s *Store) translate(ctx context.Context, err error) error {
	var resp minio.ErrorResponse
	if errors.As(err, &resp) {
		switch {
		case resp.Code == minio.NoSuchKey:
			return artifacts.ErrNotFound
		case resp.Code == minio.PreconditionFailed || resp.StatusCode == http.StatusPreconditionFailed:
			return artifacts.ErrExists
		case resp.Code == minio.NoSuchBucket:
			return fmt.Errorf("bucket %q does not exist: %w", s.cfg.Bucket, err)
		}
	}
	return ctxErr(ctx, err)
}

// ctxErr makes err match ctx.Err() when ctx is done, whatever minio-go
// returned.
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w (%v)", cerr, err)
	}
	return err
}

// ctxBody fails reads once ctx is done. The transport would fail them too,
// but only after the bytes already buffered in the connection.
type ctxBody struct {
	ctx  context.Context
	body io.ReadCloser
}

func (b *ctxBody) Read(p []byte) (int, error) {
	if err := b.ctx.Err(); err != nil {
		return 0, err
	}
	return b.body.Read(p)
}

func (b *ctxBody) Close() error { return b.body.Close() }
