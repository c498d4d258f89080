package s3_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sous-ml/sous/artifacts"
	"github.com/sous-ml/sous/artifacts/s3"
	"github.com/sous-ml/sous/artifacts/s3/miniotest"
	"github.com/sous-ml/sous/artifacts/storetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestS3 runs everything that needs a server against one MinIO process.
func TestS3(t *testing.T) {
	srv := miniotest.StartServer(t)
	t.Run("Conformance", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) artifacts.Store { return srv.NewStore(t) })
	})
	t.Run("Blobs", func(t *testing.T) { t.Parallel(); testBlobs(t, srv) })
	t.Run("Prefixes", func(t *testing.T) { t.Parallel(); testPrefixes(t, srv) })
	t.Run("MissingBucket", func(t *testing.T) { t.Parallel(); testMissingBucket(t, srv) })
	t.Run("BadCredentials", func(t *testing.T) { t.Parallel(); testBadCredentials(t, srv) })
	t.Run("ConfigFromEnv", func(t *testing.T) { t.Parallel(); testConfigFromEnvServer(t, srv) })
}

// testBlobs runs the content-addressed helpers against S3, where
// OpenBlobFile downloads and verifies.
func testBlobs(t *testing.T, srv *miniotest.Server) {
	s := srv.NewStore(t)
	ctx := t.Context()
	data := bytes.Repeat([]byte("sous"), 1<<20) // 4 MiB: hashed in memory
	digest, size, err := artifacts.PutBlob(ctx, s, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("big!"), 5<<20) // 20 MiB: spooled, multipart
	bigDigest, _, err := artifacts.PutBlob(ctx, s, bytes.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, []byte("from a file"), 0o644); err != nil {
		t.Fatal(err)
	}
	fileDigest, _, err := artifacts.PutBlobFile(ctx, s, file)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range [][]byte{data, big, []byte("from a file")} {
		d := digestOf(want)
		p, cleanup, err := artifacts.OpenBlobFile(ctx, s, d, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(p)
		cleanup()
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("OpenBlobFile(%s) = %d bytes, %v; want %d bytes", d, len(got), err, len(want))
		}
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("cleanup left %s behind", p)
		}
	}

	// A corrupt blob is caught on download.
	if err := s.Put(ctx, artifacts.BlobName(fileDigest), strings.NewReader("tampered"), 8); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	if _, _, err := artifacts.OpenBlobFile(ctx, s, fileDigest, tmp); !errors.Is(err, artifacts.ErrDigestMismatch) {
		t.Fatalf("OpenBlobFile of a corrupt blob error = %v, want ErrDigestMismatch", err)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("failed download left %d files in tmpDir", len(entries))
	}

	m := &artifacts.Manifest{
		Schema: artifacts.ManifestSchema, Step: "train", Key: "k1",
		Outputs: map[string]artifacts.Ref{"model": {Digest: digest, Size: size}, "big": {Digest: bigDigest, Size: int64(len(big))}},
		Created: time.Now().UTC(),
	}
	if err := artifacts.CommitManifest(ctx, s, m); err != nil {
		t.Fatal(err)
	}
	if err := artifacts.CommitManifest(ctx, s, m); !errors.Is(err, artifacts.ErrExists) {
		t.Fatalf("second CommitManifest error = %v, want ErrExists", err)
	}
	if _, err := artifacts.CheckManifest(ctx, s, "train", "k1"); err != nil {
		t.Fatalf("CheckManifest: %v", err)
	}
	if err := s.Delete(ctx, artifacts.BlobName(bigDigest)); err != nil {
		t.Fatal(err)
	}
	_, err = artifacts.CheckManifest(ctx, s, "train", "k1")
	if !errors.Is(err, artifacts.ErrNotFound) || !strings.Contains(err.Error(), bigDigest) {
		t.Fatalf("CheckManifest with a missing blob error = %v, want ErrNotFound naming %s", err, bigDigest)
	}
}

// testPrefixes checks that stores under different prefixes of a bucket do
// not see each other's objects.
func testPrefixes(t *testing.T, srv *miniotest.Server) {
	ctx := t.Context()
	a, b := srv.NewStore(t), srv.NewStore(t)
	if err := a.Put(ctx, "x", strings.NewReader("a"), 1); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Stat(ctx, "x"); !errors.Is(err, artifacts.ErrNotFound) {
		t.Errorf("Stat in another prefix error = %v, want ErrNotFound", err)
	}
	if infos, err := b.List(ctx, ""); err != nil || len(infos) != 0 {
		t.Errorf("List in another prefix = %v, %v; want nothing", infos, err)
	}
	if err := b.Create(ctx, "x", strings.NewReader("b"), 1); err != nil {
		t.Errorf("Create in another prefix: %v", err)
	}
}

func testMissingBucket(t *testing.T, srv *miniotest.Server) {
	ctx := t.Context()
	cfg := srv.Config("")
	cfg.Bucket = fmt.Sprintf("sous-missing-%d", time.Now().UnixNano())
	_, err := s3.New(ctx, cfg)
	if err == nil {
		t.Fatal("New with a missing bucket succeeded")
	}
	for _, want := range []string{fmt.Sprintf("bucket %q does not exist", cfg.Bucket), "--create-bucket", cfg.Endpoint} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}

	cfg.CreateBucket = true
	s, err := s3.New(ctx, cfg)
	if err != nil {
		t.Fatalf("New with CreateBucket: %v", err)
	}
	defer s.Close()
	if err := s.Put(ctx, "x", strings.NewReader("x"), 1); err != nil {
		t.Fatal(err)
	}
	// Creating it again, as a second process would, is fine.
	s2, err := s3.New(ctx, cfg)
	if err != nil {
		t.Fatalf("New with CreateBucket on an existing bucket: %v", err)
	}
	s2.Close()
}

func testBadCredentials(t *testing.T, srv *miniotest.Server) {
	cfg := srv.Config("")
	cfg.SecretAccessKey = "wrong-secret-key"
	_, err := s3.New(t.Context(), cfg)
	if err == nil {
		t.Fatal("New with a wrong secret succeeded")
	}
	if strings.Contains(err.Error(), cfg.SecretAccessKey) {
		t.Errorf("error %q contains the secret", err)
	}
	if !strings.Contains(err.Error(), cfg.Endpoint) {
		t.Errorf("error %q does not name the endpoint", err)
	}
}

func testConfigFromEnvServer(t *testing.T, srv *miniotest.Server) {
	env := map[string]string{}
	for _, kv := range srv.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	cfg, err := s3.ConfigFromEnv(srv.StoreURL(miniotest.Prefix(t)), func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	s, err := s3.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Put(t.Context(), "x", strings.NewReader("x"), 1); err != nil {
		t.Fatal(err)
	}
}

func TestNewUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	cfg := s3.Config{Endpoint: "127.0.0.1:1", Bucket: "bkt", AccessKeyID: "k", SecretAccessKey: "s", Insecure: true, PathStyle: true}
	_, err := s3.New(ctx, cfg)
	if err == nil {
		t.Fatal("New against a closed port succeeded")
	}
	if !strings.Contains(err.Error(), "127.0.0.1:1") || !strings.Contains(err.Error(), `"bkt"`) {
		t.Errorf("error %q does not name the endpoint and bucket", err)
	}
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		url     string
		bucket  string
		prefix  string
		wantErr bool
	}{
		{url: "s3://bucket", bucket: "bucket"},
		{url: "s3://bucket/", bucket: "bucket"},
		{url: "s3://bucket/some/prefix", bucket: "bucket", prefix: "some/prefix/"},
		{url: "s3://bucket/some/prefix/", bucket: "bucket", prefix: "some/prefix/"},
		{url: "s3://my.bucket-1/p", bucket: "my.bucket-1", prefix: "p/"},
		{url: "s3://", wantErr: true},
		{url: "s3:///prefix", wantErr: true},
		{url: "http://bucket/prefix", wantErr: true},
		{url: "bucket/prefix", wantErr: true},
		{url: "s3://Bucket_Upper", wantErr: true},
		{url: "s3://bucket/a/../b", wantErr: true},
		{url: "s3://bucket/a//b", wantErr: true},
		{url: "s3://user:pass@bucket/p", wantErr: true},
		{url: "s3://bucket:9000/p", wantErr: true},
		{url: "s3://bucket/p?endpoint=x", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			cfg, err := s3.ParseURL(tt.url)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseURL(%q) error = %v, want error %v", tt.url, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if cfg.Bucket != tt.bucket || cfg.Prefix != tt.prefix {
				t.Errorf("ParseURL(%q) = bucket %q prefix %q, want %q %q", tt.url, cfg.Bucket, cfg.Prefix, tt.bucket, tt.prefix)
			}
			if got, err := s3.ParseURL(cfg.URL()); err != nil || got != cfg {
				t.Errorf("ParseURL(URL()) = %v, %v; want a round trip", got, err)
			}
		})
	}
}

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    s3.Config
		wantErr bool
	}{
		{
			name: "aws defaults",
			env:  map[string]string{"AWS_ACCESS_KEY_ID": "AKIA1234", "AWS_SECRET_ACCESS_KEY": "secret"},
			want: s3.Config{Bucket: "bkt", Prefix: "p/", Region: "us-east-1", AccessKeyID: "AKIA1234", SecretAccessKey: "secret"},
		},
		{
			name: "minio",
			env: map[string]string{
				"AWS_ACCESS_KEY_ID": "minio", "AWS_SECRET_ACCESS_KEY": "minio123", "AWS_SESSION_TOKEN": "tok",
				"AWS_REGION": "eu-west-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:9000",
			},
			want: s3.Config{
				Endpoint: "127.0.0.1:9000", Bucket: "bkt", Prefix: "p/", Region: "eu-west-1",
				AccessKeyID: "minio", SecretAccessKey: "minio123", SessionToken: "tok", Insecure: true, PathStyle: true,
			},
		},
		{
			name: "https endpoint, default region, s3-specific endpoint wins",
			env: map[string]string{
				"AWS_DEFAULT_REGION": "ap-south-1", "AWS_ENDPOINT_URL": "http://ignored:1",
				"AWS_ENDPOINT_URL_S3": "https://s3.example.com/",
			},
			want: s3.Config{Endpoint: "s3.example.com", Bucket: "bkt", Prefix: "p/", Region: "ap-south-1", PathStyle: true},
		},
		{name: "bad endpoint", env: map[string]string{"AWS_ENDPOINT_URL": "ftp://x"}, wantErr: true},
		{name: "endpoint with path", env: map[string]string{"AWS_ENDPOINT_URL": "http://x/path"}, wantErr: true},
		{name: "key without secret", env: map[string]string{"AWS_ACCESS_KEY_ID": "k"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s3.ConfigFromEnv("s3://bkt/p", func(k string) string { return tt.env[k] })
			if (err != nil) != tt.wantErr {
				t.Fatalf("error = %v, want error %v", err, tt.wantErr)
			}
			if err == nil && got != tt.want {
				t.Errorf("ConfigFromEnv = %#v\nwant %#v", got, tt.want)
			}
		})
	}
	if _, err := s3.ConfigFromEnv("file:///x", func(string) string { return "" }); err == nil {
		t.Error("ConfigFromEnv accepted a file:// URL")
	}
}

func TestValidate(t *testing.T) {
	ok := s3.Config{Bucket: "bucket", Prefix: "p/", AccessKeyID: "a", SecretAccessKey: "s"}
	tests := []struct {
		name    string
		mod     func(c *s3.Config)
		wantErr string
	}{
		{"ok", func(*s3.Config) {}, ""},
		{"ambient credentials", func(c *s3.Config) { c.AccessKeyID, c.SecretAccessKey = "", "" }, ""},
		{"no bucket", func(c *s3.Config) { c.Bucket = "" }, "no bucket"},
		{"bad bucket", func(c *s3.Config) { c.Bucket = "a" }, "bucket"},
		{"prefix without slash", func(c *s3.Config) { c.Prefix = "p" }, "end with /"},
		{"prefix escapes", func(c *s3.Config) { c.Prefix = "../" }, "prefix"},
		{"endpoint with scheme", func(c *s3.Config) { c.Endpoint = "http://x:9000" }, "without a scheme"},
		{"endpoint with path", func(c *s3.Config) { c.Endpoint = "x:9000/p" }, "host[:port]"},
		{"secret without key", func(c *s3.Config) { c.AccessKeyID = "" }, "both"},
		{"token without key", func(c *s3.Config) { c.AccessKeyID, c.SecretAccessKey, c.SessionToken = "", "", "t" }, "session token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.mod(&c)
			err := c.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Validate error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestConfigRedactsSecrets(t *testing.T) {
	c := s3.Config{
		Endpoint: "127.0.0.1:9000", Bucket: "bkt", Prefix: "p/", AccessKeyID: "AKIAEXAMPLEKEYID",
		SecretAccessKey: "wJalrXUtnFEMIsecret", SessionToken: "FwoGZXIvYXdzEXAMPLETOKEN", Insecure: true, PathStyle: true,
	}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(format, c)
		for _, secret := range []string{c.SecretAccessKey, c.SessionToken, c.AccessKeyID} {
			if strings.Contains(out, secret) {
				t.Errorf("Sprintf(%q) = %q leaks %q", format, out, secret)
			}
		}
		for _, want := range []string{"s3://bkt/p/", "http://127.0.0.1:9000", "AKIA"} {
			if !strings.Contains(out, want) {
				t.Errorf("Sprintf(%q) = %q, want it to mention %q", format, out, want)
			}
		}
	}
}

func TestParseEndpoint(t *testing.T) {
	tests := []struct {
		in       string
		host     string
		insecure bool
		wantErr  bool
	}{
		{in: "http://127.0.0.1:9000", host: "127.0.0.1:9000", insecure: true},
		{in: "https://s3.example.com", host: "s3.example.com"},
		{in: "s3.example.com:443", host: "s3.example.com:443"},
		{in: "http://[::1]:9000/", host: "[::1]:9000", insecure: true},
		{in: "ftp://x", wantErr: true},
		{in: "http://", wantErr: true},
		{in: "http://x/y", wantErr: true},
		{in: "http://u:p@x", wantErr: true},
	}
	for _, tt := range tests {
		host, insecure, err := s3.ParseEndpoint(tt.in)
		if (err != nil) != tt.wantErr || host != tt.host || insecure != tt.insecure {
			t.Errorf("ParseEndpoint(%q) = %q, %v, %v; want %q, %v, error %v", tt.in, host, insecure, err, tt.host, tt.insecure, tt.wantErr)
		}
	}
}

func BenchmarkGet(b *testing.B) {
	srv := miniotest.StartServer(b)
	storetest.BenchmarkGet(b, srv.NewStore(b), 64<<20)
}

func BenchmarkPut(b *testing.B) {
	srv := miniotest.StartServer(b)
	storetest.BenchmarkPut(b, srv.NewStore(b), 64<<20)
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
