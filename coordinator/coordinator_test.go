package coordinator

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	natstest "github.com/nats-io/nats-server/v2/test"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sous-ml/sous/artifacts"
	"github.com/sous-ml/sous/artifacts/local"
	"github.com/sous-ml/sous/proto"
	"github.com/sous-ml/sous/recipes"
	"github.com/sous-ml/sous/worker"
)

const testRecipe = `recipe: "regression/v1"
target_col: "y"
primary_metric: "root_mean_squared_error"
steps:
  ingest: {using: csv, location: ./data.csv}
  split:
    split_ratios: {{ RATIOS | default([0.75, 0.125, 0.125]) }}
  transform:
    using: columns
    columns:
      - name: [x]
        transformer: standard_scaler
  train:
    estimator: ridge
  evaluate: {}
  register:
    allow_non_validated_model: true
`

const testProfile = `experiment: {name: coord-test}
model_registry: {model_name: m}
`

// fakeSteps stands in for the step code: each step writes one blob per output,
// whose bytes depend only on the job's key, and counts its calls.
type fakeSteps struct {
	mu    sync.Mutex
	calls map[string]int
	fail  map[string]error
	block chan struct{} // when set, train waits on it
}

func (f *fakeSteps) Execute(ctx context.Context, job *proto.Job, env *worker.Env) (*worker.Output, error) {
	f.mu.Lock()
	f.calls[job.Step]++
	err := f.fail[job.Step]
	block := f.block
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if block != nil && job.Step == "train" {
		select {
		case <-block:
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
	spec, _ := recipes.Spec(recipes.StepName(job.Step))
	out := &worker.Output{Outputs: map[string]proto.ArtifactRef{}, Summary: job.Step + " done"}
	for _, name := range spec.Outputs {
		d, size, err := artifacts.PutBlob(ctx, env.Store, strings.NewReader(name+" of "+job.Step))
		if err != nil {
			return nil, err
		}
		out.Outputs[name] = proto.ArtifactRef{Digest: d, Size: size}
	}
	if job.Step == "evaluate" {
		out.ValidationStatus = "UNKNOWN"
	}
	if job.Step == "register" {
		out.Registered = &proto.ModelVersion{Name: "m", Version: 1}
	}
	return out, nil
}

func (f *fakeSteps) count(step string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[step]
}

type testBundle struct {
	coord *Coordinator
	nc    *nats.Conn
	js    jetstream.JetStream
	store artifacts.Store
	steps *fakeSteps
	dir   string
}

func versions() map[string]string {
	v := map[string]string{}
	for _, s := range recipes.StepNames() {
		v[string(s)] = "test"
	}
	return v
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	opts := natstest.DefaultTestOptions
	opts.Port = -1
	opts.JetStream = true
	opts.StoreDir = t.TempDir()
	ns := natstest.RunServer(&opts)
	t.Cleanup(ns.Shutdown)
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	store, err := local.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write(t, filepath.Join(dir, "recipe.yaml"), testRecipe)
	write(t, filepath.Join(dir, "profiles", "local.yaml"), testProfile)
	var csv strings.Builder
	csv.WriteString("x,y\n")
	for i := range 200 {
		fmt.Fprintf(&csv, "%d,%d\n", i, 2*i+1)
	}
	write(t, filepath.Join(dir, "data.csv"), csv.String())

	ctx := context.Background()
	coord, err := New(Config{StepVersions: versions(), DigestCachePath: filepath.Join(dir, "digests.json"), LocalFiles: true}, nc, js, store)
	if err != nil {
		t.Fatal(err)
	}
	if err := coord.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(coord.Stop)
	steps := &fakeSteps{calls: map[string]int{}, fail: map[string]error{}}
	w, err := worker.New(worker.Config{ID: "w", Slots: 2, AckWait: 2 * time.Second, MaxDeliver: 2, FetchWait: 100 * time.Millisecond, TempDir: t.TempDir()}, js, store, steps)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Stop(context.Background()) })
	return &testBundle{coord: coord, nc: nc, js: js, store: store, steps: steps, dir: dir}
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// wait polls the run's state until it is finished.
func wait(t *testing.T, b *testBundle, runID string) *proto.RunState {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		st, err := b.coord.Status(context.Background(), runID)
		if err != nil {
			t.Fatal(err)
		}
		switch st.Status {
		case proto.StatusSucceeded, proto.StatusFailed, proto.StatusCancelled:
			return st
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("run %s did not finish", runID)
	return nil
}

func submit(t *testing.T, b *testBundle, target string) *proto.RunState {
	t.Helper()
	st, err := b.coord.Submit(context.Background(), proto.SubmitRequest{RecipeDir: b.dir, Target: target})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func stepStatuses(st *proto.RunState) string {
	var parts []string
	for _, s := range st.Steps {
		parts = append(parts, s.Name+"="+s.Status)
	}
	return strings.Join(parts, " ")
}

func TestRunThenCached(t *testing.T) {
	t.Parallel()
	b := setup(t)
	st := wait(t, b, submit(t, b, "").RunID)
	if got, want := stepStatuses(st), "ingest=ran split=ran transform=ran train=ran evaluate=ran register=ran"; got != want {
		t.Fatalf("first run: %s, want %s", got, want)
	}
	if st.Status != proto.StatusSucceeded || st.Registered == nil || st.ValidationStatus != "UNKNOWN" {
		t.Fatalf("first run: %+v", st)
	}
	rec, err := b.store.Stat(context.Background(), "runs/"+st.RunID+".json")
	if err != nil || rec.Size == 0 {
		t.Fatalf("run record: %v", err)
	}

	st2 := submit(t, b, "")
	st2 = wait(t, b, st2.RunID)
	if got, want := stepStatuses(st2), "ingest=cached split=cached transform=cached train=cached evaluate=cached register=cached"; got != want {
		t.Fatalf("second run: %s, want %s", got, want)
	}
	if st2.Registered == nil || st2.Registered.Version != 1 {
		t.Fatalf("a cache hit must bring back the registered version: %+v", st2.Registered)
	}
	for _, s := range recipes.StepNames()[:6] {
		if n := b.steps.count(string(s)); n != 1 {
			t.Errorf("step %s executed %d times, want 1", s, n)
		}
	}
	for i := range st.Steps {
		if st.Steps[i].CacheKey != st2.Steps[i].CacheKey {
			t.Errorf("step %s: key changed between identical runs", st.Steps[i].Name)
		}
	}
}

func TestTargetStep(t *testing.T) {
	t.Parallel()
	b := setup(t)
	st := wait(t, b, submit(t, b, "transform").RunID)
	if got, want := stepStatuses(st), "ingest=ran split=ran transform=ran"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	_, err := b.coord.Submit(context.Background(), proto.SubmitRequest{RecipeDir: b.dir, Target: "trian"})
	var rerr *recipes.Error
	if !errors.As(err, &rerr) || !strings.Contains(err.Error(), "train") {
		t.Fatalf("unknown target: %v", err)
	}
}

func TestSingleFlight(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.steps.block = make(chan struct{})
	r1 := submit(t, b, "")
	r2 := submit(t, b, "")
	// Both runs reach train; only one train job may be in flight.
	deadline := time.Now().Add(20 * time.Second)
	for b.steps.count("train") == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	close(b.steps.block)
	s1, s2 := wait(t, b, r1.RunID), wait(t, b, r2.RunID)
	if s1.Status != proto.StatusSucceeded || s2.Status != proto.StatusSucceeded {
		t.Fatalf("statuses %s / %s: %s | %s", s1.Status, s2.Status, s1.Error, s2.Error)
	}
	for _, s := range recipes.StepNames()[:6] {
		if n := b.steps.count(string(s)); n != 1 {
			t.Errorf("step %s executed %d times across two runs, want 1", s, n)
		}
	}
	for i := range s1.Steps {
		if s1.Steps[i].CacheKey != s2.Steps[i].CacheKey {
			t.Errorf("step %s: the two runs have different keys", s1.Steps[i].Name)
		}
	}
}

func TestFailedStepSkipsDownstream(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.steps.fail["transform"] = worker.Permanent(proto.CodeBadInput, errors.New("column q is a string"))
	st := wait(t, b, submit(t, b, "").RunID)
	if st.Status != proto.StatusFailed || !strings.Contains(st.Error, "column q is a string") {
		t.Fatalf("run: %s %q", st.Status, st.Error)
	}
	if got, want := stepStatuses(st), "ingest=ran split=ran transform=failed train=skipped evaluate=skipped register=skipped"; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	if tr := st.Step("transform"); tr.Code != proto.CodeBadInput {
		t.Fatalf("transform code %v", tr.Code)
	}
	infos, _ := b.store.List(context.Background(), "steps/transform/")
	if len(infos) != 0 {
		t.Fatalf("a failed step left a manifest: %v", infos)
	}
	// The failure is not cached: fixed, the next run runs transform and reuses ingest and split.
	b.steps.mu.Lock()
	delete(b.steps.fail, "transform")
	b.steps.mu.Unlock()
	st = wait(t, b, submit(t, b, "").RunID)
	if got, want := stepStatuses(st), "ingest=cached split=cached transform=ran train=ran evaluate=ran register=ran"; got != want {
		t.Fatalf("after the fix: %s, want %s", got, want)
	}
}

func TestMissReasonNamesTheSetting(t *testing.T) {
	t.Parallel()
	b := setup(t)
	wait(t, b, submit(t, b, "split").RunID)
	write(t, filepath.Join(b.dir, "profiles", "local.yaml"), testProfile+"RATIOS: [0.8, 0.1, 0.1]\n")
	st := wait(t, b, submit(t, b, "split").RunID)
	sp := st.Step("split")
	if sp.Status != proto.StatusRan || !strings.Contains(sp.Reason, "split_ratios") {
		t.Fatalf("split %s, reason %q", sp.Status, sp.Reason)
	}
	if in := st.Step("ingest"); in.Status != proto.StatusCached {
		t.Fatalf("ingest %s, want cached", in.Status)
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.steps.block = make(chan struct{})
	defer close(b.steps.block)
	r := submit(t, b, "")
	deadline := time.Now().Add(20 * time.Second)
	for b.steps.count("train") == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if err := b.coord.Cancel(context.Background(), r.RunID); err != nil {
		t.Fatal(err)
	}
	st := wait(t, b, r.RunID)
	if st.Status != proto.StatusCancelled {
		t.Fatalf("status %s", st.Status)
	}
	var names []string
	for _, s := range st.Steps {
		if s.Status == proto.StatusRan {
			names = append(names, s.Name)
		}
	}
	sort.Strings(names)
	if strings.Join(names, ",") != "ingest,split,transform" {
		t.Fatalf("steps that ran: %v (%s)", names, stepStatuses(st))
	}
}

func TestRestartResumesRuns(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.steps.block = make(chan struct{})
	r := submit(t, b, "")
	deadline := time.Now().Add(20 * time.Second)
	for b.steps.count("train") == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	// The coordinator goes away while train runs; a new one takes over.
	b.coord.Stop()
	coord, err := New(Config{StepVersions: versions(), DigestCachePath: filepath.Join(b.dir, "digests.json"), LocalFiles: true}, b.nc, b.js, b.store)
	if err != nil {
		t.Fatal(err)
	}
	if err := coord.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(coord.Stop)
	b.coord = coord
	close(b.steps.block)
	st := wait(t, b, r.RunID)
	if st.Status != proto.StatusSucceeded {
		t.Fatalf("resumed run: %s %s (%s)", st.Status, st.Error, stepStatuses(st))
	}
	for _, s := range recipes.StepNames()[:6] {
		if n := b.steps.count(string(s)); n != 1 {
			t.Errorf("step %s executed %d times across the restart, want 1", s, n)
		}
	}
}

func TestClusterCoordinatorReadsNoLocalFiles(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c, err := New(Config{StepVersions: versions()}, b.nc, b.js, b.store)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		sources map[string][]proto.Source
	}{
		{"no sources: it would hash paths on its own disk", nil},
		{"a source not uploaded", map[string][]proto.Source{"ingest": {{Name: "/etc/passwd", URI: "/etc/passwd", Digest: strings.Repeat("0", 64)}}}},
	} {
		_, err := c.Submit(context.Background(), proto.SubmitRequest{RecipeDir: b.dir, Sources: tc.sources})
		if err == nil || !strings.Contains(err.Error(), "reads no local files") {
			t.Errorf("%s: err %v", tc.name, err)
		}
	}
}
