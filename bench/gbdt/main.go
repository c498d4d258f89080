// Command gbdt benchmarks the sous histogram GBDT against XGBoost (hist)
// and scikit-learn's HistGradientBoosting on two synthetic data sets: a
// NYC-taxi-like fare regression and a binary classification with numeric
// and categorical (integer-coded) features.
//
// It writes the data as little-endian float64 files (numpy.fromfile reads
// them) to a temporary directory, fits and scores each model in its own
// child process (so peak RSS is per model), and prints one table per data
// set with sous/peer ratios. See README.md.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sous-ml/sous/bench/internal/synth"
	"github.com/sous-ml/sous/recipes/ml/gbdt"
)

// Fit parameters shared by every model.
const (
	nIter          = 100
	learningRate   = 0.1
	maxLeafNodes   = 31
	minSamplesLeaf = 20
	l2             = 0.0
)

type meta struct {
	Task      string `json:"task"`
	Cols      int    `json:"cols"`
	TrainRows int    `json:"train_rows"`
	TestRows  int    `json:"test_rows"`
}

type result struct {
	Dataset      string  `json:"dataset"`
	Model        string  `json:"model"`
	Threads      int     `json:"threads"`
	FitS         float64 `json:"fit_s"`
	FitCPUS      float64 `json:"fit_cpu_s"`
	PredictRowsS float64 `json:"predict_rows_s"`
	// PredictRowsCPUS is rows per CPU second of the predicting thread.
	PredictRowsCPUS float64 `json:"predict_rows_cpu_s"`
	Metric          float64 `json:"metric"`
	PeakRSSMB       float64 `json:"peak_rss_mb"`
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gbdt bench:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("gbdt", flag.ContinueOnError)
	rows := fs.Int("rows", 1_000_000, "training rows per data set (test rows: a fifth of it)")
	threadList := fs.String("threads", "1,2", "fit thread counts")
	dir := fs.String("dir", "", "data directory (default: a new temporary one, removed at exit)")
	python := fs.String("python", "", "python with sklearn and xgboost (default: python3 or /usr/bin/python3, whichever imports them)")
	peers := fs.Bool("peers", true, "run the XGBoost and scikit-learn peers")
	datasets := fs.String("datasets", "taxi,binary", "data sets to run")
	repeat := fs.Int("repeat", 1, "runs per configuration; the table keeps each column's best (for noisy machines)")
	child := fs.String("child", "", "internal: fit sous on this data set and print JSON")
	childThreads := fs.Int("child-threads", 1, "internal: thread count for -child")
	cpuProfile := fs.String("cpuprofile", "", "with -child: write a CPU profile of the fit to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *child != "" {
		if *cpuProfile != "" {
			f, err := os.Create(*cpuProfile)
			if err != nil {
				return err
			}
			defer f.Close()
			if err := pprof.StartCPUProfile(f); err != nil {
				return err
			}
			defer pprof.StopCPUProfile()
		}
		r, err := runSous(*dir, *child, *childThreads)
		if err != nil {
			return err
		}
		return json.NewEncoder(stdout).Encode(r)
	}

	var threads []int
	for _, s := range strings.Split(*threadList, ",") {
		t, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || t < 1 {
			return fmt.Errorf("bad -threads %q", *threadList)
		}
		threads = append(threads, t)
	}
	names := strings.Split(*datasets, ",")
	if *dir == "" {
		d, err := os.MkdirTemp("", "sous-gbdt-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		*dir = d
	} else if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "generating %d+%d rows per data set in %s\n", *rows, *rows/5, *dir)
	if err := writeData(*dir, names, *rows, *rows/5); err != nil {
		return err
	}

	self, err := os.Executable()
	if err != nil {
		return err
	}
	var results []result
	for _, name := range names {
		for _, t := range threads {
			var runs []result
			for range max(1, *repeat) {
				cmd := exec.Command(self, "-child", name, "-child-threads", strconv.Itoa(t), "-dir", *dir)
				cmd.Stderr = os.Stderr
				out, err := cmd.Output()
				if err != nil {
					return fmt.Errorf("sous %s threads=%d: %w", name, t, err)
				}
				var r result
				if err := json.Unmarshal(out, &r); err != nil {
					return fmt.Errorf("sous %s threads=%d: %w", name, t, err)
				}
				fmt.Fprintf(os.Stderr, "%+v\n", r)
				runs = append(runs, r)
			}
			results = append(results, best(runs))
		}
	}
	if *peers {
		py, err := synth.FindPython(*python, "sklearn, xgboost, threadpoolctl")
		if err != nil {
			return err
		}
		script := filepath.Join(synth.SourceDir("gbdt", "peers.py"), "peers.py")
		cmd := exec.Command(py, script, "--dir", *dir, "--threads", *threadList, "--datasets", *datasets,
			"--repeat", strconv.Itoa(max(1, *repeat)))
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("peers.py: %w", err)
		}
		lines := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
		var pr []result
		if err := json.Unmarshal(lines[len(lines)-1], &pr); err != nil {
			return fmt.Errorf("peers.py output: %w", err)
		}
		results = append(results, pr...)
	}
	printTable(stdout, names, threads, results, *rows)
	return nil
}

// best merges repeated runs of one configuration: the fastest fit and
// prediction and the smallest peak RSS (the metric is deterministic).
func best(runs []result) result {
	b := runs[0]
	for _, r := range runs[1:] {
		b.FitS = min(b.FitS, r.FitS)
		b.FitCPUS = min(b.FitCPUS, r.FitCPUS)
		b.PredictRowsS = max(b.PredictRowsS, r.PredictRowsS)
		b.PredictRowsCPUS = max(b.PredictRowsCPUS, r.PredictRowsCPUS)
		b.PeakRSSMB = min(b.PeakRSSMB, r.PeakRSSMB)
	}
	return b
}

// runSous loads a data set, fits sous with the given threads, and scores
// it; prediction runs on one goroutine.
func runSous(dir, name string, threads int) (result, error) {
	var m meta
	b, err := os.ReadFile(filepath.Join(dir, "meta.json"))
	if err != nil {
		return result{}, err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return result{}, err
	}
	if err := json.Unmarshal(all[name], &m); err != nil {
		return result{}, err
	}
	load := func(s string) ([]float64, error) { return synth.ReadF64(filepath.Join(dir, name+"_"+s+".f64")) }
	xtr, err := load("Xtrain")
	if err != nil {
		return result{}, err
	}
	ytr, err := load("ytrain")
	if err != nil {
		return result{}, err
	}
	xte, err := load("Xtest")
	if err != nil {
		return result{}, err
	}
	yte, err := load("ytest")
	if err != nil {
		return result{}, err
	}
	p := gbdt.Params{
		NIter: nIter, LearningRate: learningRate, MaxLeafNodes: maxLeafNodes,
		MinSamplesLeaf: minSamplesLeaf, L2Regularization: l2, MaxBins: 255,
		Threads: threads, Loss: gbdt.LossSquaredError,
	}
	if m.Task == "binary" {
		p.Loss = gbdt.LossLogLoss
	}
	runtime.GC()
	t0, c0 := time.Now(), synth.CPUTime(synth.RusageSelf)
	model, err := gbdt.Fit(xtr, m.TrainRows, m.Cols, ytr, p)
	if err != nil {
		return result{}, err
	}
	fitS, fitCPU := time.Since(t0).Seconds(), synth.CPUTime(synth.RusageSelf)-c0
	runtime.GOMAXPROCS(1)
	runtime.LockOSThread()
	warm := min(1000, m.TestRows)
	model.Predict(xte[:warm*m.Cols], warm, m.Cols)
	t0, c0 = time.Now(), synth.CPUTime(synth.RusageThread)
	pred := model.Predict(xte, m.TestRows, m.Cols)
	predS, predCPU := time.Since(t0).Seconds(), synth.CPUTime(synth.RusageThread)-c0
	r := result{Dataset: name, Model: "sous", Threads: threads, FitS: fitS, FitCPUS: fitCPU,
		PredictRowsS: float64(m.TestRows) / predS, PredictRowsCPUS: float64(m.TestRows) / predCPU,
		PeakRSSMB: synth.PeakRSSMB()}
	if m.Task == "binary" {
		r.Metric = synth.ROCAUC(pred, yte)
	} else {
		r.Metric = synth.RMSE(pred, yte)
	}
	return r, nil
}

func printTable(w io.Writer, names []string, threads []int, rs []result, rows int) {
	find := func(ds, model string, t int) *result {
		for i := range rs {
			if rs[i].Dataset == ds && rs[i].Model == model && rs[i].Threads == t {
				return &rs[i]
			}
		}
		return nil
	}
	fmt.Fprintf(w, "gbdt benchmark: %d training rows, %d test rows; %d trees, lr %.1f, %d leaves, min leaf %d, 255 bins, no early stopping; predict on 1 thread; %s/%s, %d CPUs\n\n",
		rows, rows/5, nIter, learningRate, maxLeafNodes, minSamplesLeaf, runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	for _, ds := range names {
		metric := "test RMSE"
		if ds == "binary" {
			metric = "test AUC"
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "%s\tmodel\tthreads\tfit s\tpredict rows/s\t%s\tpeak RSS MB\tfit CPU s\tpredict rows/CPU s\t\n", ds, metric)
		for _, model := range []string{"sous", "xgboost", "sklearn"} {
			for _, t := range threads {
				if r := find(ds, model, t); r != nil {
					fmt.Fprintf(tw, "\t%s\t%d\t%.2f\t%.0f\t%.5f\t%.0f\t%.2f\t%.0f\t\n", model, t, r.FitS, r.PredictRowsS, r.Metric, r.PeakRSSMB, r.FitCPUS, r.PredictRowsCPUS)
				}
			}
		}
		for _, peer := range []string{"xgboost", "sklearn"} {
			for _, t := range threads {
				s, p := find(ds, "sous", t), find(ds, peer, t)
				if s == nil || p == nil {
					continue
				}
				md := fmt.Sprintf("%+.2f%%", 100*(s.Metric/p.Metric-1))
				if ds == "binary" {
					md = fmt.Sprintf("%+.4f", s.Metric-p.Metric)
				}
				fmt.Fprintf(tw, "\tsous/%s\t%d\t%.2fx\t%.2fx\t%s\t%.2fx\t%.2fx\t%.2fx\t\n", peer, t,
					s.FitS/p.FitS, s.PredictRowsS/p.PredictRowsS, md, s.PeakRSSMB/p.PeakRSSMB,
					s.FitCPUS/p.FitCPUS, s.PredictRowsCPUS/p.PredictRowsCPUS)
			}
		}
		tw.Flush()
		fmt.Fprintln(w)
	}
}

// writeData writes each data set's train and test splits and meta.json.
func writeData(dir string, names []string, train, test int) error {
	all := map[string]any{
		"datasets": names,
		"params": map[string]any{
			"n_iter": nIter, "learning_rate": learningRate, "max_leaf_nodes": maxLeafNodes,
			"min_samples_leaf": minSamplesLeaf, "l2": l2,
		},
	}
	for _, name := range names {
		var gen func(n int, seed uint64) ([]float64, []float64, int)
		task := "regression"
		switch name {
		case "taxi":
			gen = synth.Taxi
		case "binary":
			gen, task = synth.Binary, "binary"
		default:
			return fmt.Errorf("unknown data set %q", name)
		}
		xtr, ytr, cols := gen(train, 1)
		xte, yte, _ := gen(test, 2)
		for s, v := range map[string][]float64{"Xtrain": xtr, "ytrain": ytr, "Xtest": xte, "ytest": yte} {
			if err := synth.WriteF64(filepath.Join(dir, name+"_"+s+".f64"), v); err != nil {
				return err
			}
		}
		all[name] = meta{Task: task, Cols: cols, TrainRows: train, TestRows: test}
	}
	b, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "meta.json"), b, 0o644)
}
