// Package miniotest runs a real MinIO server for tests.
//
// StartServer starts `minio server` on a temporary directory and free local
// ports, waits until it is live, creates a bucket and stops the server when
// the test ends. The binary is $SOUS_MINIO_BIN, else minio in $GOBIN or
// $GOPATH/bin (`go install github.com/minio/minio@...` puts it there), else
// minio on $PATH. Without it the test is skipped, unless $CI is set, in which
// case it fails: CI must test S3. A $SOUS_MINIO_BIN that is not an
// executable fails the test too.
//
// To use a server that is already running instead, set SOUS_TEST_S3_ENDPOINT
// (such as http://127.0.0.1:9000) and SOUS_TEST_S3_ACCESS_KEY,
// SOUS_TEST_S3_SECRET_KEY and optionally SOUS_TEST_S3_BUCKET.
//
// Tests sharing a server keep apart by prefix: Server.NewStore returns a
// store under a fresh prefix of the bucket.
package miniotest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"go/build"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sous-ml/sous/artifacts/s3"
)

// Defaults for a server this package starts.
const (
	DefaultBucket    = "sous-test"
	DefaultAccessKey = "sous-test"
	DefaultSecretKey = "sous-test-secret"
)

// startTimeout bounds how long a MinIO process may take to become live.
const startTimeout = 60 * time.Second

// Server is a running S3 server with a bucket the tests may use.
type Server struct {
	// URL is the endpoint URL, such as "http://127.0.0.1:39211".
	URL                  string
	AccessKey, SecretKey string
	Bucket               string
}

// Start starts a server as StartServer does and returns its endpoint URL
// and credentials; the bucket is DefaultBucket (or $SOUS_TEST_S3_BUCKET).
func Start(t testing.TB) (endpoint, accessKey, secretKey string) {
	t.Helper()
	srv := StartServer(t)
	return srv.URL, srv.AccessKey, srv.SecretKey
}

// StartServer starts MinIO (or connects to the server named by
// SOUS_TEST_S3_ENDPOINT), makes sure the bucket exists and registers the
// server's shutdown with t.Cleanup. It skips or fails t if there is no
// MinIO binary; see the package documentation.
func StartServer(t testing.TB) *Server {
	t.Helper()
	var srv *Server
	if ep := os.Getenv("SOUS_TEST_S3_ENDPOINT"); ep != "" {
		srv = &Server{
			URL:       ep,
			AccessKey: os.Getenv("SOUS_TEST_S3_ACCESS_KEY"),
			SecretKey: os.Getenv("SOUS_TEST_S3_SECRET_KEY"),
			Bucket:    cmpOr(os.Getenv("SOUS_TEST_S3_BUCKET"), DefaultBucket),
		}
	} else {
		bin, err := Binary()
		if err != nil {
			if os.Getenv("CI") != "" || os.Getenv("SOUS_MINIO_BIN") != "" {
				t.Fatalf("miniotest: %v (CI or SOUS_MINIO_BIN is set, so S3 tests must run)", err)
			}
			t.Skipf("miniotest: %v; skipping S3 tests", err)
		}
		srv = startProcess(t, bin)
	}
	cfg := srv.Config("")
	cfg.CreateBucket = true
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	store, err := s3.New(ctx, cfg)
	if err != nil {
		t.Fatalf("miniotest: %v", err)
	}
	store.Close()
	return srv
}

// Config returns a store configuration for the server's bucket under prefix
// ("" or ending in "/").
func (s *Server) Config(prefix string) s3.Config {
	host, insecure, err := s3.ParseEndpoint(s.URL)
	if err != nil {
		panic(fmt.Sprintf("miniotest: endpoint %q: %v", s.URL, err))
	}
	return s3.Config{
		Endpoint:        host,
		Bucket:          s.Bucket,
		Prefix:          prefix,
		Region:          s3.DefaultRegion,
		AccessKeyID:     s.AccessKey,
		SecretAccessKey: s.SecretKey,
		Insecure:        insecure,
		PathStyle:       true,
	}
}

// StoreURL returns "s3://bucket/prefix" for the server's bucket.
func (s *Server) StoreURL(prefix string) string { return "s3://" + s.Bucket + "/" + prefix }

// Env returns the AWS_* variables that make s3.ConfigFromEnv reach this
// server, for starting other processes.
func (s *Server) Env() []string {
	return []string{
		"AWS_ENDPOINT_URL=" + s.URL,
		"AWS_ACCESS_KEY_ID=" + s.AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + s.SecretKey,
		"AWS_REGION=" + s3.DefaultRegion,
	}
}

// Prefix returns a prefix no other call returns, derived from t's name.
func Prefix(t testing.TB) string {
	var r [6]byte
	_, _ = rand.Read(r[:])
	name := strings.Map(func(c rune) rune {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
			return c
		}
		return '_'
	}, t.Name())
	if len(name) > 100 {
		name = name[:100]
	}
	return "t/" + name + "-" + hex.EncodeToString(r[:]) + "/"
}

// NewStore returns a store on the server under a fresh prefix, closed when
// the test ends.
func (s *Server) NewStore(t testing.TB) *s3.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	store, err := s3.New(ctx, s.Config(Prefix(t)))
	if err != nil {
		t.Fatalf("miniotest: %v", err)
	}
	t.Cleanup(func() { store.Close() })
	return store
}

var binary struct {
	once sync.Once
	path string
	err  error
}

// Binary returns the path of the minio binary, looked up as the package
// documentation says.
func Binary() (string, error) {
	binary.once.Do(func() { binary.path, binary.err = findBinary() })
	return binary.path, binary.err
}

func findBinary() (string, error) {
	if p := os.Getenv("SOUS_MINIO_BIN"); p != "" {
		if !isExecutable(p) {
			return "", fmt.Errorf("SOUS_MINIO_BIN=%s is not an executable file", p)
		}
		return p, nil
	}
	if p, err := LookupBinary("minio"); err == nil {
		return p, nil
	}
	return "", errors.New("no minio binary: set SOUS_MINIO_BIN, or go install github.com/minio/minio@latest")
}

// LookupBinary finds an installed program by name in $GOBIN, $GOPATH/bin
// (as the environment or `go env` has them; `go install` puts servers there)
// or $PATH. Tests use it for minio and nats-server.
func LookupBinary(name string) (string, error) {
	var dirs []string
	if gobin := os.Getenv("GOBIN"); gobin != "" {
		dirs = append(dirs, gobin)
	}
	for _, gp := range filepath.SplitList(build.Default.GOPATH) {
		dirs = append(dirs, filepath.Join(gp, "bin"))
	}
	// GOBIN and GOPATH may be set only in `go env -w`.
	if out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output(); err == nil {
		lines := strings.Split(string(out), "\n")
		if gobin := strings.TrimSpace(lines[0]); gobin != "" {
			dirs = append(dirs, gobin)
		}
		if len(lines) > 1 {
			for _, gp := range filepath.SplitList(strings.TrimSpace(lines[1])) {
				dirs = append(dirs, filepath.Join(gp, "bin"))
			}
		}
	}
	for _, d := range dirs {
		if p := filepath.Join(d, name); isExecutable(p) {
			return p, nil
		}
	}
	return exec.LookPath(name)
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// startProcess runs minio and waits until it is live. A port taken between
// choosing it and minio binding it is retried with other ports.
func startProcess(t testing.TB, bin string) *Server {
	t.Helper()
	dir := t.TempDir()
	var lastErr error
	for range 3 {
		srv, err := tryStart(t, bin, dir)
		if err == nil {
			return srv
		}
		lastErr = err
		if !errors.Is(err, errPortTaken) {
			break
		}
	}
	t.Fatalf("miniotest: %v", lastErr)
	return nil
}

var errPortTaken = errors.New("port taken")

func tryStart(t testing.TB, bin, dir string) (*Server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	consoleAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	out := &tailBuffer{max: 16 << 10}
	cmd := exec.Command(bin, "server", dir, "--address", addr, "--console-address", consoleAddr, "--quiet")
	cmd.Env = append(environWithout("MINIO_"),
		"MINIO_ROOT_USER="+DefaultAccessKey,
		"MINIO_ROOT_PASSWORD="+DefaultSecretKey,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
		"MINIO_CI_CD=on",
	)
	cmd.Stdout, cmd.Stderr = out, out
	setDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}

	url := "http://" + addr
	if err := waitLive(url, exited); err != nil {
		stop()
		if strings.Contains(out.String(), "address already in use") {
			return nil, fmt.Errorf("%w: %v", errPortTaken, err)
		}
		return nil, fmt.Errorf("%s: %w\nminio output:\n%s", bin, err, out)
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("miniotest: minio output (last %d bytes):\n%s", out.max, out)
		}
	})
	return &Server{URL: url, AccessKey: DefaultAccessKey, SecretKey: DefaultSecretKey, Bucket: DefaultBucket}, nil
}

// waitLive polls MinIO's liveness endpoint until it answers 200, the process
// exits, or startTimeout passes.
func waitLive(url string, exited <-chan error) error {
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: time.Second}
	deadline := time.NewTimer(startTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, err := client.Get(url + "/minio/health/live")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-exited:
			return fmt.Errorf("minio exited before it was live: %v", err)
		case <-deadline.C:
			return fmt.Errorf("minio not live at %s after %v", url, startTimeout)
		case <-tick.C:
		}
	}
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func environWithout(prefix string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, prefix) {
			env = append(env, kv)
		}
	}
	return env
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// tailBuffer keeps the last max bytes written to it; it is safe for
// concurrent use.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if extra := b.buf.Len() - b.max; extra > 0 {
		b.buf.Next(extra)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
