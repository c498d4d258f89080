// Command predict benchmarks batch scoring (make bench-predict): it trains a
// gradient-boosted model of 100 trees on NYC-taxi-like data with the
// embedded runtime, generates scoring files of each size, and scores them on
// a cluster of processes — nats-server, `sous coordinator`, and 1 then 2
// `sous worker --slots 1` — printing rows/s end to end, the predict step's
// rows/s, the parallel efficiency from 1 to 2 workers and every worker's
// peak RSS. It then compares the model's own predict throughput on one
// thread with scikit-learn's HistGradientBoostingRegressor of the same size
// (100 trees, 31 leaves) on the same transformed rows, in memory.
//
//	go run ./bench/predict -rows 2000000,20000000
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sous-ml/sous/artifacts"
	"github.com/sous-ml/sous/artifacts/local"
	"github.com/sous-ml/sous/artifacts/registry"
	"github.com/sous-ml/sous/bench/internal/synth"
	"github.com/sous-ml/sous/recipes/expr"
	"github.com/sous-ml/sous/recipes/frame"
	"github.com/sous-ml/sous/recipes/ml"
)

func main() {
	var (
		rowsFlag  = flag.String("rows", "2000000,20000000", "scoring rows, comma-separated sizes")
		trainRows = flag.Int("train", 200_000, "training rows")
		workers   = flag.String("workers", "1,2", "worker counts to compare")
		shardRows = flag.Int("shard-rows", 500_000, "coordinator --shard-rows")
		sousBin   = flag.String("sous", "bin/sous", "the sous binary")
		dir       = flag.String("dir", "", "working directory (default: a temporary one, removed)")
		python    = flag.String("python", "/usr/bin/python3", "python with scikit-learn, for the peer")
		modelRows = flag.Int("model-rows", 1_000_000, "rows of the in-memory model throughput test")
		procs     = flag.Int("worker-procs", 1, "GOMAXPROCS of each worker process (0: all cores)")
	)
	flag.Parse()
	workerProcs = *procs
	if err := run(*rowsFlag, *trainRows, *workers, *shardRows, *sousBin, *dir, *python, *modelRows); err != nil {
		fmt.Fprintln(os.Stderr, "bench/predict:", err)
		os.Exit(1)
	}
}

// workerProcs is the GOMAXPROCS of every worker process: one core per
// worker by default, as one would run one worker per core, so that 1 and 2
// workers compare one core with two.
var workerProcs int

func run(rowsFlag string, trainRows int, workersFlag string, shardRows int, sousBin, dir, python string, modelRows int) error {
	sousBin, err := filepath.Abs(sousBin)
	if err != nil {
		return err
	}
	if _, err := os.Stat(sousBin); err != nil {
		return fmt.Errorf("%s: %w (make build)", sousBin, err)
	}
	natsBin, err := lookup("nats-server")
	if err != nil {
		return err
	}
	if dir == "" {
		if dir, err = os.MkdirTemp("", "sous-bench-predict-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	sizes, err := ints(rowsFlag)
	if err != nil {
		return err
	}
	counts, err := ints(workersFlag)
	if err != nil {
		return err
	}

	// Train and register the model with the embedded runtime.
	recipeDir := filepath.Join(dir, "recipe")
	if err := writeTrainingRecipe(recipeDir, trainRows); err != nil {
		return err
	}
	modelStore := filepath.Join(dir, "model-store")
	t0 := time.Now()
	if out, err := exec.Command(sousBin, "run", "-C", recipeDir, "--store", modelStore).CombinedOutput(); err != nil {
		return fmt.Errorf("training: %v\n%s", err, out)
	}
	fmt.Printf("model: gbdt, 100 trees, 31 leaves, trained on %d rows in %s\n\n", trainRows, time.Since(t0).Round(time.Millisecond))

	fmt.Printf("workers: sous worker --slots 1, GOMAXPROCS=%d each; shards of %d rows; efficiency = predict rows/s per worker vs 1 worker\n", workerProcs, shardRows)
	fmt.Printf("%-10s %-8s %8s %12s %15s %11s %-20s %s\n", "rows", "workers", "wall s", "rows/s e2e", "predict rows/s", "efficiency", "worker peak RSS MB", "worker CPU s")
	for _, n := range sizes {
		input := filepath.Join(dir, fmt.Sprintf("score-%d.parquet", n))
		if err := writeTaxi(input, n, uint64(n)); err != nil {
			return err
		}
		var base float64
		for _, w := range counts {
			res, err := score(dir, sousBin, natsBin, modelStore, input, n, w, shardRows)
			if err != nil {
				return err
			}
			eff := "—"
			if base == 0 {
				base = res.predictRate / float64(w)
			} else {
				eff = fmt.Sprintf("%.0f%%", 100*res.predictRate/(base*float64(w)))
			}
			fmt.Printf("%-10d %-8d %8.2f %12.0f %15.0f %11s %-20s %s\n", n, w, res.wall.Seconds(), float64(n)/res.wall.Seconds(), res.predictRate, eff, res.rss, res.cpu)
		}
		os.Remove(input)
	}
	fmt.Println()
	return modelThroughput(dir, modelStore, python, trainRows, modelRows)
}

type scoreResult struct {
	wall        time.Duration
	predictRate float64
	rss, cpu    string
}

// score runs the scoring graph (`sous run --step predict`) on a fresh cluster of processes with w workers
// (one slot each) over a copy of the model store.
func score(dir, sousBin, natsBin, modelStore, input string, rows, w, shardRows int) (*scoreResult, error) {
	run := filepath.Join(dir, fmt.Sprintf("run-%d-%d", rows, w))
	store := filepath.Join(run, "store")
	if err := os.MkdirAll(run, 0o755); err != nil {
		return nil, err
	}
	defer os.RemoveAll(run)
	if out, err := exec.Command("cp", "-r", modelStore, store).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("copy the model store: %v: %s", err, out)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	env := append(os.Environ(), "SOUS_NATS_URL="+url, "SOUS_STORE="+store)
	var procs []*exec.Cmd
	defer func() {
		for _, p := range procs {
			_ = p.Process.Kill()
			_, _ = p.Process.Wait()
		}
	}()
	start := func(name string, args ...string) (*exec.Cmd, error) {
		cmd := exec.Command(name, args...)
		cmd.Env = env
		logf, err := os.Create(filepath.Join(run, filepath.Base(name)+fmt.Sprint(len(procs))+".log"))
		if err != nil {
			return nil, err
		}
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		procs = append(procs, cmd)
		return cmd, nil
	}
	if _, err := start(natsBin, "-js", "-a", "127.0.0.1", "-p", fmt.Sprint(port), "-sd", filepath.Join(run, "nats")); err != nil {
		return nil, err
	}
	if err := waitPort(port); err != nil {
		return nil, err
	}
	if _, err := start(sousBin, "coordinator", "--shard-rows", fmt.Sprint(shardRows)); err != nil {
		return nil, err
	}
	var workers []*exec.Cmd
	for i := range w {
		if workerProcs > 0 {
			env = append(env, fmt.Sprintf("GOMAXPROCS=%d", workerProcs))
		}
		cmd, err := start(sousBin, "worker", "--slots", "1", "--id", fmt.Sprintf("w%d", i), "--temp-dir", run)
		if err != nil {
			return nil, err
		}
		workers = append(workers, cmd)
	}
	out := filepath.Join(run, "out")
	t0 := time.Now()
	recipe := fmt.Sprintf(`recipe: "regression/v1"
target_col: "fare_amount"
steps:
  ingest_scoring: {using: parquet, location: %q}
  predict:
    model_uri: "models:/bench_fare/latest"
    output: {using: parquet, location: %q}
`, input, out+"/")
	if err := os.MkdirAll(filepath.Join(run, "profiles"), 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(run, "recipe.yaml"), []byte(recipe), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(run, "profiles", "local.yaml"), []byte("{}\n"), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(sousBin, "run", "-C", run, "--step", "predict", "-o", "json")
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("sous run --step predict: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	wall := time.Since(t0)
	var rep struct {
		Steps []struct {
			Name       string             `json:"name"`
			DurationMS int64              `json:"duration_ms"`
			Metrics    map[string]float64 `json:"metrics"`
		} `json:"steps"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		return nil, fmt.Errorf("sous run -o json: %v\n%s", err, stdout.String())
	}
	res := &scoreResult{wall: wall}
	for _, s := range rep.Steps {
		if s.Name == "predict" && s.DurationMS > 0 {
			res.predictRate = s.Metrics["rows_scored"] / (float64(s.DurationMS) / 1000)
		}
	}
	var rss, cpu []string
	for _, wk := range workers {
		_ = wk.Process.Signal(syscall.SIGTERM)
		ps, err := wk.Process.Wait()
		if err != nil {
			return nil, err
		}
		if u, ok := ps.SysUsage().(*syscall.Rusage); ok {
			rss = append(rss, fmt.Sprint(u.Maxrss/1024))
			cpu = append(cpu, fmt.Sprintf("%.1f", time.Duration(u.Utime.Nano()+u.Stime.Nano()).Seconds()))
		}
	}
	res.rss, res.cpu = strings.Join(rss, ", "), strings.Join(cpu, ", ")
	return res, nil
}

// modelThroughput times the model alone on rows already in memory, on one
// thread, against scikit-learn's HistGradientBoostingRegressor fitted on the
// same transformed training rows with the same size (100 trees, 31 leaves).
func modelThroughput(dir, modelStore, python string, trainRows, rows int) error {
	ctx := context.Background()
	store, err := local.New(modelStore)
	if err != nil {
		return err
	}
	v, err := registry.Resolve(ctx, store, "models:/bench_fare/latest")
	if err != nil {
		return err
	}
	rc, err := store.Get(ctx, artifacts.BlobName(v.ModelDigest))
	if err != nil {
		return err
	}
	b, err := ml.DecodeBundle(rc)
	rc.Close()
	if err != nil {
		return err
	}
	matrix := func(f *frame.Frame) (*ml.Matrix, []float64, error) {
		g, err := derive(f, b.Derive)
		if err != nil {
			return nil, nil, err
		}
		X, err := b.Transformer.Transform(g)
		if err != nil {
			return nil, nil, err
		}
		y, _ := f.Col("fare_amount")
		return X, y.Floats, nil
	}
	Xs, _, err := matrix(taxi(rows, 7))
	if err != nil {
		return err
	}
	Xt, yt, err := matrix(taxi(trainRows, 1))
	if err != nil {
		return err
	}
	est, err := b.Model()
	if err != nil {
		return err
	}
	prev := runtime.GOMAXPROCS(1)
	best := math.Inf(1)
	for range 3 {
		t0 := time.Now()
		if _, err := est.Predict(Xs); err != nil {
			return err
		}
		best = min(best, time.Since(t0).Seconds())
	}
	runtime.GOMAXPROCS(prev)
	sous := float64(rows) / best

	for name, v := range map[string][]float64{"Xtrain": Xt.Data, "ytrain": yt, "Xscore": Xs.Data} {
		if err := synth.WriteF64(filepath.Join(dir, name+".f64"), v); err != nil {
			return err
		}
	}
	script := filepath.Join("bench", "predict", "peer.py")
	cmd := exec.Command(python, script, dir, fmt.Sprint(Xt.Cols))
	cmd.Env = append(os.Environ(), "OMP_NUM_THREADS=1")
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("%s: %v\n%s", script, err, ee.Stderr)
		}
		return fmt.Errorf("%s: %v", script, err)
	}
	peer, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		return fmt.Errorf("%s printed %q", script, out)
	}
	fmt.Printf("model throughput, one thread, %d rows in memory (%d features):\n", rows, Xs.Cols)
	fmt.Printf("  sous gbdt          %12.0f rows/s\n", sous)
	fmt.Printf("  sklearn HGB        %12.0f rows/s\n", peer)
	fmt.Printf("  ratio sous/sklearn %12.2f×\n", sous/peer)
	return nil
}

func derive(f *frame.Frame, ds []ml.Derived) (*frame.Frame, error) {
	g := &frame.Frame{Cols: append([]*frame.Column(nil), f.Cols...)}
	for _, d := range ds {
		schema := map[string]frame.Kind{}
		for _, c := range g.Cols {
			schema[c.Name] = c.Kind
		}
		p, err := expr.Compile(d.Expr, schema)
		if err != nil {
			return nil, err
		}
		col, err := p.Eval(g)
		if err != nil {
			return nil, err
		}
		col.Name = d.Name
		g.Cols = append(g.Cols, col)
	}
	return g, nil
}

const trainingRecipe = `recipe: "regression/v1"
target_col: "fare_amount"
primary_metric: "root_mean_squared_error"
steps:
  ingest: {using: parquet, location: ./train.parquet}
  split: {split_ratios: [0.8, 0.1, 0.1]}
  transform:
    using: columns
    derive:
      pickup_hour: "hour(tpep_pickup_datetime)"
      pickup_dow: "day_of_week(tpep_pickup_datetime)"
      trip_duration: "minutes(tpep_dropoff_datetime - tpep_pickup_datetime)"
    columns:
      - name: [trip_distance, trip_duration, pickup_hour, pickup_dow, passenger_count, PULocationID, DOLocationID]
        transformer: standard_scaler
    remainder: drop
  train:
    estimator: gbdt
    estimator_params: {n_estimators: 100, max_leaf_nodes: 31, learning_rate: 0.1, early_stopping: false}
  evaluate: {}
  register: {allow_non_validated_model: true}
`

func writeTrainingRecipe(dir string, rows int) error {
	if err := os.MkdirAll(filepath.Join(dir, "profiles"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "recipe.yaml"), []byte(trainingRecipe), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "profiles", "local.yaml"), []byte("model_registry: {model_name: bench_fare}\n"), 0o644); err != nil {
		return err
	}
	return writeTaxi(filepath.Join(dir, "train.parquet"), rows, 1)
}

// writeTaxi writes n NYC-taxi-like rows, 64k rows per row group, generated
// and written a row group at a time.
func writeTaxi(path string, n int, seed uint64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	const chunk = 65536
	var w *frame.ParquetWriter
	for at := 0; at < n; at += chunk {
		part := taxi(min(chunk, n-at), seed+uint64(at))
		if w == nil {
			if w, err = frame.NewParquetWriter(f, part.Schema(), frame.WriterOptions{RowGroupRows: chunk}); err != nil {
				return err
			}
		}
		if err := w.Write(part); err != nil {
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	return f.Close()
}

// taxi generates n rows: pickup and dropoff times in 2023, a lognormal
// distance, passengers, pickup and dropoff zones, and a metered fare with
// rush-hour and night surcharges, airport flat rates and 1% outliers.
func taxi(n int, seed uint64) *frame.Frame {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	base := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	pickup, dropoff := make([]time.Time, n), make([]time.Time, n)
	dist, fare := make([]float64, n), make([]float64, n)
	pass, pu, do := make([]int64, n), make([]int64, n), make([]int64, n)
	for i := range n {
		pickup[i] = base.Add(time.Duration(r.Int64N(int64(365 * 24 * time.Hour))))
		dist[i] = math.Exp(r.NormFloat64()*0.8 + 0.6)
		h := pickup[i].Hour()
		speed := 18.0
		if h >= 7 && h <= 19 {
			speed = 11
		}
		mins := dist[i]/speed*60 + r.ExpFloat64()*3
		dropoff[i] = pickup[i].Add(time.Duration(mins * float64(time.Minute)))
		pass[i] = 1 + r.Int64N(4)
		pu[i], do[i] = 1+r.Int64N(263), 1+r.Int64N(263)
		fare[i] = 3 + 2.5*dist[i] + 0.5*mins + r.NormFloat64()
		if h >= 16 && h <= 20 {
			fare[i] += 2.5
		}
		if h < 6 {
			fare[i] += 1
		}
		if pu[i] == 132 || do[i] == 132 {
			fare[i] = 70 + r.Float64()*5
		}
		if r.Float64() < 0.01 {
			fare[i] *= 5
		}
	}
	return &frame.Frame{Cols: []*frame.Column{
		frame.NewTimeColumn("tpep_pickup_datetime", pickup),
		frame.NewTimeColumn("tpep_dropoff_datetime", dropoff),
		frame.NewFloatColumn("trip_distance", dist),
		frame.NewIntColumn("passenger_count", pass),
		frame.NewIntColumn("PULocationID", pu),
		frame.NewIntColumn("DOLocationID", do),
		frame.NewFloatColumn("fare_amount", fare),
	}}
}

func ints(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q: want positive integers separated by commas", s)
		}
		out = append(out, n)
	}
	return out, nil
}

func lookup(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	gopath, _ := exec.Command("go", "env", "GOPATH").Output()
	p := filepath.Join(strings.TrimSpace(string(gopath)), "bin", name)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("no %s binary (make tools installs it)", name)
	}
	return p, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func waitPort(port int) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("nats-server did not listen on %d", port)
}
