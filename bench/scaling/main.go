// Command scaling measures how sous's queue scales with workers: it submits
// many small runs at once to a coordinator with 1, 2 and 4 workers (one slot
// each) on an in-process nats-server, and prints runs/s, jobs/s, the p50 and
// p99 dispatch latency (job published → step started on a worker) and the
// queue's overhead per step against calling the same steps in-process.
//
//	go run ./bench/scaling -runs 50
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sous-ml/sous/artifacts/local"
	"github.com/sous-ml/sous/coordinator"
	"github.com/sous-ml/sous/proto"
	"github.com/sous-ml/sous/recipes/steps"
	"github.com/sous-ml/sous/worker"
)

const recipe = `recipe: "regression/v1"
target_col: "y"
steps:
  ingest: {using: csv, location: ./data.csv}
  split: {split_ratios: [0.6, 0.2, 0.2]}
  transform:
    using: columns
    columns:
      - name: [x1, x2]
        transformer: standard_scaler
  train: {estimator: ridge}
  evaluate: {}
  register: {allow_non_validated_model: true}
`

func main() {
	runs := flag.Int("runs", 50, "runs submitted at once")
	rows := flag.Int("rows", 300, "rows of each run's data")
	flag.Parse()
	fmt.Printf("%d runs of 6 steps, %d rows each, submitted at once; workers with one slot each\n\n", *runs, *rows)
	fmt.Printf("%-8s %8s %8s %14s %14s\n", "workers", "runs/s", "jobs/s", "dispatch p50", "dispatch p99")
	var perStep time.Duration
	for _, n := range []int{1, 2, 4} {
		r := measure(n, *runs, *rows)
		fmt.Printf("%-8d %8.1f %8.1f %14s %14s\n", n, r.runsPerSec, r.jobsPerSec, r.p50.Round(10*time.Microsecond), r.p99.Round(10*time.Microsecond))
		if n == 1 {
			perStep = r.perStepOverhead
		}
	}
	fmt.Printf("\nqueue overhead per step, 1 worker (wall time per job minus the step's own time): %s\n", perStep.Round(10*time.Microsecond))
}

type result struct {
	runsPerSec, jobsPerSec float64
	p50, p99               time.Duration
	perStepOverhead        time.Duration
}

func measure(workers, runs, rows int) result {
	ctx := context.Background()
	base, err := os.MkdirTemp("", "sous-scaling-")
	check(err)
	defer os.RemoveAll(base)
	ns, err := server.NewServer(&server.Options{JetStream: true, StoreDir: filepath.Join(base, "js"), DontListen: true, NoSigs: true, NoLog: true})
	check(err)
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		log.Fatal("nats-server not ready")
	}
	defer ns.Shutdown()
	nc, err := nats.Connect("", nats.InProcessServer(ns))
	check(err)
	defer nc.Close()
	js, err := jetstream.New(nc)
	check(err)
	store, err := local.New(filepath.Join(base, "store"))
	check(err)
	coord, err := coordinator.New(coordinator.Config{StepVersions: steps.Versions(), LocalFiles: true}, nc, js, store)
	check(err)
	check(coord.Start(ctx))
	defer coord.Stop()
	var ws []*worker.Worker
	for i := range workers {
		w, err := worker.New(worker.Config{ID: fmt.Sprint("w", i), Slots: 1, FetchWait: 250 * time.Millisecond, TempDir: base}, js, store, steps.NewExecutor())
		check(err)
		check(w.Start(ctx))
		ws = append(ws, w)
	}
	defer func() {
		for _, w := range ws {
			w.Stop(ctx)
		}
	}()

	// Every run has its own data, so no step of one run is a cache hit for another.
	var reqs []proto.SubmitRequest
	for i := range runs {
		dir := filepath.Join(base, fmt.Sprint("r", i))
		check(os.MkdirAll(filepath.Join(dir, "profiles"), 0o755))
		check(os.WriteFile(filepath.Join(dir, "recipe.yaml"), []byte(recipe), 0o644))
		check(os.WriteFile(filepath.Join(dir, "profiles", "local.yaml"), []byte("model_registry: {model_name: m"+fmt.Sprint(i)+"}\n"), 0o644))
		var b strings.Builder
		b.WriteString("x1,x2,y\n")
		for j := range rows {
			x1, x2 := float64((i*7919+j*104729)%1000)/10, float64((j*31+i)%97)
			fmt.Fprintf(&b, "%g,%g,%g\n", x1, x2, 3*x1-2*x2+float64(i))
		}
		check(os.WriteFile(filepath.Join(dir, "data.csv"), []byte(b.String()), 0o644))
		reqs = append(reqs, proto.SubmitRequest{RecipeDir: dir})
	}

	// Follow every event to time dispatches: queued (coordinator) → started (worker: end − duration).
	var mu sync.Mutex
	queued := map[string]time.Time{}
	var dispatch []time.Duration
	var stepTime time.Duration
	sub, err := nc.Subscribe(proto.EventSubjects, func(m *nats.Msg) {
		var ev proto.Event
		if json.Unmarshal(m.Data, &ev) != nil {
			return
		}
		id := ev.RunID + "/" + ev.Step
		mu.Lock()
		defer mu.Unlock()
		switch ev.Kind {
		case proto.EventStepQueued:
			queued[id] = ev.Time
		case proto.EventStepResult:
			if ev.Result != nil && !queued[id].IsZero() {
				dispatch = append(dispatch, ev.Time.Add(-ev.Result.Duration).Sub(queued[id]))
				stepTime += ev.Result.Duration
			}
		}
	})
	check(err)
	defer sub.Unsubscribe()

	start := time.Now()
	var ids []string
	for _, req := range reqs {
		st, err := coord.Submit(ctx, req)
		check(err)
		ids = append(ids, st.RunID)
	}
	for _, id := range ids {
		for {
			st, err := coord.Status(ctx, id)
			check(err)
			if st.Status == proto.StatusSucceeded {
				break
			}
			if st.Status == proto.StatusFailed {
				log.Fatalf("run %s failed: %s", id, st.Error)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	elapsed := time.Since(start)
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(dispatch)
	jobs := len(dispatch)
	if jobs == 0 {
		log.Fatal("no job observed")
	}
	return result{
		runsPerSec:      float64(runs) / elapsed.Seconds(),
		jobsPerSec:      float64(jobs) / elapsed.Seconds(),
		p50:             dispatch[jobs/2],
		p99:             dispatch[min(jobs-1, jobs*99/100)],
		perStepOverhead: (elapsed*time.Duration(workers) - stepTime) / time.Duration(jobs),
	}
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
