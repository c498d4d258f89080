package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	natstest "github.com/nats-io/nats-server/v2/test"

	"github.com/sous-ml/sous/artifacts/s3/miniotest"
)

// startServer runs `sous args...` in this process until the test ends.
func startServer(t *testing.T, args ...string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var stderr bytes.Buffer
	wg.Add(1)
	go func() {
		defer wg.Done()
		if code := Main(ctx, args, &bytes.Buffer{}, &stderr); code != 0 && ctx.Err() == nil {
			t.Errorf("sous %s exited %d: %s", strings.Join(args, " "), code, stderr.String())
		}
	}()
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// TestClusterInProcess runs a coordinator and two workers as servers against a
// real nats-server and MinIO, and submits the example with the CLI: the data
// is uploaded once, the run succeeds, a second run is cached, runs list shows
// both, and predict writes its output on the CLI's machine.
func TestClusterInProcess(t *testing.T) {
	opts := natstest.DefaultTestOptions
	opts.Port = -1
	opts.JetStream = true
	opts.StoreDir = t.TempDir()
	ns := natstest.RunServer(&opts)
	t.Cleanup(ns.Shutdown)
	srv := miniotest.StartServer(t)
	for _, kv := range srv.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	t.Setenv("SOUS_NATS_URL", ns.ClientURL())
	t.Setenv("SOUS_STORE", srv.StoreURL(miniotest.Prefix(t)))

	startServer(t, "coordinator")
	startServer(t, "worker", "--slots", "2", "--id", "w1", "--temp-dir", t.TempDir())
	startServer(t, "worker", "--slots", "2", "--id", "w2", "--temp-dir", t.TempDir())

	dir := copyExample(t)
	code, rep, stderr := runJSON(t, dir)
	if code != 0 {
		t.Fatalf("cluster run: exit %d\n%s", code, stderr)
	}
	wantStatuses(t, rep, all("ran"))
	if rep.RegisteredModel == nil || rep.RegisteredModel.Version != 1 {
		t.Fatalf("registered %+v", rep.RegisteredModel)
	}
	code, rep, stderr = runJSON(t, dir)
	if code != 0 {
		t.Fatalf("second run: exit %d\n%s", code, stderr)
	}
	wantStatuses(t, rep, all("cached"))

	code, out, stderr := sous(t, "runs", "list")
	if code != 0 || strings.Count(out, "succeeded") != 2 {
		t.Fatalf("runs list: exit %d\n%s%s", code, out, stderr)
	}
	// The registry through the coordinator's API.
	code, out, stderr = sous(t, "models", "list", "taxi_fare_regressor", "-o", "json")
	if code != 0 || !strings.Contains(out, `"version": 1`) || strings.Contains(out, `"version": 2`) {
		t.Fatalf("models list through the API: exit %d\n%s%s", code, out, stderr)
	}
	code, rep, stderr = runJSON(t, dir, "--step", "predict")
	if code != 0 {
		t.Fatalf("predict: exit %d\n%s", code, stderr)
	}
	wantStatuses(t, rep, map[string]string{"ingest_scoring": "ran", "predict": "ran"})

	// --detach prints the run id; runs watch follows it to the end.
	code, out, stderr = sous(t, "run", "-C", dir, "--detach")
	if code != 0 {
		t.Fatalf("detach: exit %d %s", code, stderr)
	}
	id := strings.TrimSpace(out)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var o, e bytes.Buffer
	if code := Main(ctx, []string{"runs", "watch", id}, &o, &e); code != 0 || !strings.Contains(o.String(), "all 6 steps cached") {
		t.Fatalf("runs watch %s: exit %d\n%s%s", id, code, o.String(), e.String())
	}
}

// TestProfileExecutionBlock: a profile's execution block sends runs to the
// cluster it names, without flags or environment.
func TestProfileExecutionBlock(t *testing.T) {
	opts := natstest.DefaultTestOptions
	opts.Port = -1
	opts.JetStream = true
	opts.StoreDir = t.TempDir()
	ns := natstest.RunServer(&opts)
	t.Cleanup(ns.Shutdown)
	storeDir := t.TempDir()
	startServer(t, "coordinator", "--nats", ns.ClientURL(), "--store", storeDir)
	startServer(t, "worker", "--nats", ns.ClientURL(), "--store", storeDir, "--slots", "2", "--temp-dir", t.TempDir())
	t.Setenv("SOUS_NATS_URL", "")
	t.Setenv("SOUS_STORE", "")
	dir := copyExample(t)
	profile := filepath.Join(dir, "profiles", "local.yaml")
	data, _ := os.ReadFile(profile)
	block := fmt.Sprintf("\nexecution:\n  nats: %s\n  store: %s\n", ns.ClientURL(), storeDir)
	if err := os.WriteFile(profile, append(data, block...), 0o644); err != nil {
		t.Fatal(err)
	}
	code, rep, stderr := runJSON(t, dir)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	wantStatuses(t, rep, all("ran"))
	if _, err := os.Stat(filepath.Join(storeDir, "registry", "taxi_fare_regressor", "versions", "1.json")); err != nil {
		t.Fatalf("the run did not go to the cluster's store: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".sous", "nats")); err == nil {
		t.Fatal("an embedded runtime was started")
	}
}
