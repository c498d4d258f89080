package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"
	"go.uber.org/zap"

	"github.com/sous-ml/sous/artifacts"
	"github.com/sous-ml/sous/artifacts/local"
	"github.com/sous-ml/sous/artifacts/s3"
	"github.com/sous-ml/sous/coordinator"
	"github.com/sous-ml/sous/recipes/steps"
	"github.com/sous-ml/sous/worker"
)

// stateDir is where the embedded runtime keeps its state, next to recipe.yaml.
const stateDir = ".sous"

// embedded is the whole cluster in one process: an in-process nats-server
// with JetStream, the coordinator and one worker with GOMAXPROCS slots, over
// a local-directory store. It runs the same code as the servers.
type embedded struct {
	dir    string
	ns     *server.Server
	nc     *nats.Conn
	js     jetstream.JetStream
	store  artifacts.Store
	coord  *coordinator.Coordinator
	api    micro.Service
	worker *worker.Worker
	lock   *os.File
}

// openStoreURL opens the artifact store: s3://bucket/prefix with the AWS_*
// environment (AWS_ENDPOINT_URL for MinIO and other S3-compatible stores), a
// directory path, or, when storeURL is empty, the recipe's .sous/store.
func openStoreURL(ctx context.Context, recipeDir, storeURL string, createBucket bool) (artifacts.Store, error) {
	switch {
	case storeURL == "":
		return local.New(filepath.Join(recipeDir, stateDir, "store"))
	case strings.HasPrefix(storeURL, "s3://"):
		cfg, err := s3.ConfigFromEnv(storeURL, os.Getenv)
		if err != nil {
			return nil, err
		}
		cfg.CreateBucket = createBucket
		return s3.New(ctx, cfg)
	case strings.Contains(storeURL, "://"):
		return nil, fmt.Errorf("--store %q: want s3://bucket/prefix or a directory", storeURL)
	}
	return local.New(storeURL)
}

// startEmbedded starts the runtime for a recipe directory. The store is the
// local directory .sous/store unless storeURL (s3://bucket/prefix) names
// another; JetStream state always stays under .sous/.
func startEmbedded(ctx context.Context, recipeDir, storeURL string, createBucket bool, shardRows int64, log *zap.Logger) (*embedded, error) {
	base := filepath.Join(recipeDir, stateDir)
	for _, d := range []string{"nats", "store", "tmp"} {
		if err := os.MkdirAll(filepath.Join(base, d), 0o755); err != nil {
			return nil, fmt.Errorf("embedded runtime: %w", err)
		}
	}
	e := &embedded{dir: base}
	ok := false
	defer func() {
		if !ok {
			e.close()
		}
	}()
	lock, err := lockDir(filepath.Join(base, "lock"))
	if err != nil {
		return nil, err
	}
	e.lock = lock

	opts := &server.Options{
		ServerName: "sous-embedded",
		JetStream:  true,
		StoreDir:   filepath.Join(base, "nats"),
		DontListen: true,
		NoSigs:     true,
		NoLog:      true,
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded nats-server: %w", err)
	}
	e.ns = ns
	go ns.Start()
	if !ns.ReadyForConnections(30 * time.Second) {
		return nil, errors.New("embedded nats-server: not ready after 30s")
	}
	if e.nc, err = nats.Connect("", nats.InProcessServer(ns), nats.Name("sous-embedded")); err != nil {
		return nil, fmt.Errorf("embedded nats-server: connect: %w", err)
	}
	if e.js, err = jetstream.New(e.nc); err != nil {
		return nil, err
	}
	if e.store, err = openStoreURL(ctx, recipeDir, storeURL, createBucket); err != nil {
		return nil, err
	}
	e.coord, err = coordinator.New(coordinator.Config{
		StepVersions:    steps.Versions(),
		DigestCachePath: filepath.Join(base, "digests.json"),
		LocalFiles:      true,
		ShardRows:       shardRows,
		Env:             os.LookupEnv,
		Logger:          log,
	}, e.nc, e.js, e.store)
	if err != nil {
		return nil, err
	}
	if err := e.coord.Start(ctx); err != nil {
		return nil, err
	}
	if e.api, err = e.coord.Serve(); err != nil {
		return nil, err
	}
	e.worker, err = worker.New(worker.Config{
		ID:    "embedded",
		Slots: runtime.GOMAXPROCS(0),
		// Short pulls: a pending pull still gets jobs at once, and the
		// process need not wait long for it when the run is over.
		FetchWait: 250 * time.Millisecond,
		TempDir:   filepath.Join(base, "tmp"),
		Objects:   newS3Objects(),
		Logger:    log,
	}, e.js, e.store, steps.NewExecutor())
	if err != nil {
		return nil, err
	}
	if err := e.worker.Start(ctx); err != nil {
		return nil, err
	}
	ok = true
	return e, nil
}

// conn is the CLI's view of the embedded runtime.
func (e *embedded) conn() *conn {
	return &conn{nc: e.nc, js: e.js, embedded: true}
}

func (e *embedded) close() {
	if e.worker != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		e.worker.Stop(ctx)
		cancel()
	}
	if e.api != nil {
		_ = e.api.Stop()
	}
	if e.coord != nil {
		e.coord.Stop()
	}
	if e.nc != nil {
		e.nc.Close()
	}
	if e.ns != nil {
		e.ns.Shutdown()
		e.ns.WaitForShutdown()
	}
	if e.lock != nil {
		_ = syscall.Flock(int(e.lock.Fd()), syscall.LOCK_UN)
		e.lock.Close()
	}
}

// lockDir takes an exclusive lock so two sous processes never share one
// embedded JetStream store.
func lockDir(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("embedded runtime: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("embedded runtime: another sous process is using %s (wait for it to finish)", filepath.Dir(path))
	}
	return f, nil
}
