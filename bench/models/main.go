// Command models benchmarks sous's linear models and random forests against
// scikit-learn on the synthetic data sets of bench/gbdt (package
// bench/internal/synth): linear_regression and ridge on a wide one-hot
// design of the taxi set, logistic_regression on a one-hot design of the
// binary set, and random_forest (100 trees) on both raw sets.
//
// It writes the designs as little-endian float64 files (numpy.fromfile
// reads them) to a temporary directory, fits and scores each model in its
// own child process (so peak RSS is per model), and prints one table with
// sous/scikit-learn ratios. See README.md.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"text/tabwriter"
	"time"

	"gonum.org/v1/gonum/floats"

	"github.com/sous-ml/sous/bench/internal/synth"
	"github.com/sous-ml/sous/recipes/ml"
)

// A benchCase is one model fitted to one design.
type benchCase struct {
	Name   string // as in -cases
	Title  string // the model and its settings, for the table
	Design string // the design's file prefix
}

var cases = []benchCase{
	{"linear", "linear_regression", "taxiwide"},
	{"ridge", "ridge (alpha 1)", "taxiwide"},
	{"logistic", "logistic_regression (C 1, tol 1e-4, max_iter 100)", "binarywide"},
	{"forest_taxi", "random_forest (100 trees, squared error)", "taxiraw"},
	{"forest_binary", "random_forest (100 trees, gini)", "binaryraw"},
}

func lookupCase(name string) (benchCase, bool) {
	for _, c := range cases {
		if c.Name == name {
			return c, true
		}
	}
	return benchCase{}, false
}

// design describes one written design (meta.json).
type design struct {
	Task      string `json:"task"` // "regression" or "binary"
	Cols      int    `json:"cols"`
	TrainRows int    `json:"train_rows"`
	TestRows  int    `json:"test_rows"`
	About     string `json:"about"`
}

type result struct {
	Case         string  `json:"case"`
	Model        string  `json:"model"`
	FitS         float64 `json:"fit_s"`
	FitCPUS      float64 `json:"fit_cpu_s"`
	PredictRowsS float64 `json:"predict_rows_s"`
	// Metric is the test RMSE (regression) or ROC AUC (binary); Accuracy
	// is the binary test accuracy at probability 0.5.
	Metric    float64 `json:"metric"`
	Accuracy  float64 `json:"accuracy"`
	PeakRSSMB float64 `json:"peak_rss_mb"`
	Notes     string  `json:"notes"`
	// Touched is the sum of the data, read before timing.
	Touched float64 `json:"touched"`
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "models bench:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("models", flag.ContinueOnError)
	linearRows := fs.Int("linear-rows", 500_000, "training rows of the taxi one-hot design (linear, ridge)")
	logisticRows := fs.Int("logistic-rows", 200_000, "training rows of the binary one-hot design (logistic)")
	forestRows := fs.Int("forest-rows", 100_000, "training rows of the raw taxi and binary sets (forests)")
	caseList := fs.String("cases", "linear,ridge,logistic,forest_taxi,forest_binary", "cases to run")
	dir := fs.String("dir", "", "data directory (default: a new temporary one, removed at exit)")
	python := fs.String("python", "", "python with sklearn (default: python3 or /usr/bin/python3, whichever imports it)")
	peers := fs.Bool("peers", true, "run the scikit-learn peers")
	repeat := fs.Int("repeat", 1, "runs per model; the table keeps each column's best (for noisy machines)")
	child := fs.String("child", "", "internal: fit sous on this case and print JSON")
	cpuProfile := fs.String("cpuprofile", "", "with -child: write a CPU profile of the fit to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *child != "" {
		r, err := runSous(*dir, *child, *cpuProfile)
		if err != nil {
			return err
		}
		return json.NewEncoder(stdout).Encode(r)
	}

	var todo []benchCase
	for _, name := range strings.Split(*caseList, ",") {
		c, ok := lookupCase(strings.TrimSpace(name))
		if !ok {
			return fmt.Errorf("unknown case %q", name)
		}
		todo = append(todo, c)
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "sous-models-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		*dir = d
	} else if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	start := time.Now()
	designs, err := writeDesigns(*dir, todo, rowCounts{taxiWide: *linearRows, binaryWide: *logisticRows, raw: *forestRows})
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote the designs to %s in %.1f s\n", *dir, time.Since(start).Seconds())

	self, err := os.Executable()
	if err != nil {
		return err
	}
	py := ""
	if *peers {
		if py, err = synth.FindPython(*python, "sklearn, threadpoolctl"); err != nil {
			return err
		}
	}
	var results []result
	for _, c := range todo {
		var runs []result
		for range max(1, *repeat) {
			r, err := runChild(exec.Command(self, "-child", c.Name, "-dir", *dir))
			if err != nil {
				return fmt.Errorf("sous %s: %w", c.Name, err)
			}
			runs = append(runs, r)
		}
		results = append(results, best(runs))
		if py == "" {
			continue
		}
		runs = runs[:0]
		for range max(1, *repeat) {
			r, err := runChild(exec.Command(py, filepath.Join(synth.SourceDir("models", "peers.py"), "peers.py"), "--dir", *dir, "--case", c.Name))
			if err != nil {
				return fmt.Errorf("sklearn %s: %w", c.Name, err)
			}
			runs = append(runs, r)
		}
		results = append(results, best(runs))
	}
	printTable(stdout, todo, designs, results)
	return nil
}

// runChild runs a child that prints one JSON result as its last line.
func runChild(cmd *exec.Cmd) (result, error) {
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return result{}, err
	}
	lines := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
	var r result
	if err := json.Unmarshal(lines[len(lines)-1], &r); err != nil {
		return result{}, fmt.Errorf("output: %w", err)
	}
	fmt.Fprintf(os.Stderr, "%+v\n", r)
	return r, nil
}

// best merges repeated runs of one model: the fastest fit and prediction
// and the smallest peak RSS (the fits are deterministic).
func best(runs []result) result {
	b := runs[0]
	for _, r := range runs[1:] {
		b.FitS = min(b.FitS, r.FitS)
		b.FitCPUS = min(b.FitCPUS, r.FitCPUS)
		b.PredictRowsS = max(b.PredictRowsS, r.PredictRowsS)
		b.PeakRSSMB = min(b.PeakRSSMB, r.PeakRSSMB)
	}
	return b
}

func readMeta(dir string) (map[string]design, error) {
	b, err := os.ReadFile(filepath.Join(dir, "meta.json"))
	if err != nil {
		return nil, err
	}
	var m struct {
		Designs map[string]design `json:"designs"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return m.Designs, nil
}

// runSous loads a case's design, fits sous on all cores, and scores it on
// one thread.
func runSous(dir, name, cpuProfile string) (result, error) {
	c, ok := lookupCase(name)
	if !ok {
		return result{}, fmt.Errorf("unknown case %q", name)
	}
	designs, err := readMeta(dir)
	if err != nil {
		return result{}, err
	}
	d, ok := designs[c.Design]
	if !ok {
		return result{}, fmt.Errorf("design %s not in %s", c.Design, dir)
	}
	load := func(s string) ([]float64, error) {
		return synth.ReadF64(filepath.Join(dir, c.Design+"_"+s+".f64"))
	}
	var xtr, ytr, xte, yte []float64
	for _, f := range []struct {
		name string
		dst  *[]float64
	}{{"Xtrain", &xtr}, {"ytrain", &ytr}, {"Xtest", &xte}, {"ytest", &yte}} {
		if *f.dst, err = load(f.name); err != nil {
			return result{}, err
		}
	}
	// Read every value once before timing: on some virtual machines the
	// first access to freshly read pages is many times slower than the
	// next, which would be charged to whichever model touches them first.
	// peers.py does the same.
	var sum float64
	for _, v := range [][]float64{xtr, ytr, xte, yte} {
		sum += floats.Sum(v)
	}
	Xtr := &ml.Matrix{Rows: d.TrainRows, Cols: d.Cols, Data: xtr}
	Xte := &ml.Matrix{Rows: d.TestRows, Cols: d.Cols, Data: xte}

	var est ml.Estimator
	switch name {
	case "linear":
		est, err = ml.NewLinearRegression(nil)
	case "ridge":
		est, err = ml.NewRidge(map[string]any{"alpha": 1.0})
	case "logistic":
		est, err = ml.NewLogisticRegression(map[string]any{"C": 1.0, "tol": 1e-4, "max_iter": int64(100)})
	case "forest_taxi":
		est, err = ml.NewRandomForest(map[string]any{"n_estimators": int64(100)})
	case "forest_binary":
		est, err = ml.NewRandomForest(map[string]any{"n_estimators": int64(100), "criterion": ml.CriterionGini})
	}
	if err != nil {
		return result{}, err
	}

	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return result{}, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return result{}, err
		}
	}
	runtime.GC()
	t0, c0 := time.Now(), synth.CPUTime(synth.RusageSelf)
	if err := est.Fit(Xtr, ytr); err != nil {
		return result{}, err
	}
	fitS, fitCPU := time.Since(t0).Seconds(), synth.CPUTime(synth.RusageSelf)-c0
	if cpuProfile != "" {
		pprof.StopCPUProfile()
	}

	runtime.GOMAXPROCS(1)
	runtime.LockOSThread()
	predict := func(X *ml.Matrix) ([]float64, error) {
		if d.Task == "regression" {
			return est.Predict(X)
		}
		P, err := est.(ml.Classifier).PredictProba(X)
		if err != nil {
			return nil, err
		}
		p := make([]float64, X.Rows)
		for i := range p {
			p[i] = P.At(i, 1)
		}
		return p, nil
	}
	warm := min(1000, Xte.Rows)
	if _, err := predict(&ml.Matrix{Rows: warm, Cols: Xte.Cols, Data: Xte.Data[:warm*Xte.Cols]}); err != nil {
		return result{}, err
	}
	t0 = time.Now()
	pred, err := predict(Xte)
	if err != nil {
		return result{}, err
	}
	predS := time.Since(t0).Seconds()

	r := result{Case: name, Model: "sous", FitS: fitS, FitCPUS: fitCPU, Touched: sum,
		PredictRowsS: float64(Xte.Rows) / predS, PeakRSSMB: synth.PeakRSSMB()}
	if d.Task == "regression" {
		r.Metric = synth.RMSE(pred, yte)
	} else {
		r.Metric, r.Accuracy = synth.ROCAUC(pred, yte), accuracy(pred, yte)
	}
	switch e := est.(type) {
	case *ml.LinearRegression:
		r.Notes = e.Solver
	case *ml.Ridge:
		r.Notes = e.Solver
	case *ml.LogisticRegression:
		r.Notes = fmt.Sprintf("%d iterations, %s", e.NIter, e.Status)
	}
	return r, nil
}

// accuracy is the fraction of rows whose probability p > 0.5 matches the
// 0/1 label.
func accuracy(p, y []float64) float64 {
	var ok int
	for i, v := range y {
		if (p[i] > 0.5) == (v == 1) {
			ok++
		}
	}
	return float64(ok) / float64(len(y))
}

func printTable(w io.Writer, todo []benchCase, designs map[string]design, rs []result) {
	find := func(c, model string) *result {
		for i := range rs {
			if rs[i].Case == c && rs[i].Model == model {
				return &rs[i]
			}
		}
		return nil
	}
	fmt.Fprintf(w, "models benchmark: sous against scikit-learn; fit on all cores (sous: GOMAXPROCS goroutines; scikit-learn: its BLAS threads, n_jobs=2 for forests), predict on 1 thread; %s/%s, %d CPUs\n\n",
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	for _, c := range todo {
		d := designs[c.Design]
		metric, acc := "test RMSE", ""
		if d.Task == "binary" {
			metric, acc = "test AUC", "test accuracy"
		}
		fmt.Fprintf(w, "%s on %s: %d training rows, %d test rows, %d columns\n", c.Title, d.About, d.TrainRows, d.TestRows, d.Cols)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "model\tfit s\tfit CPU s\tpeak RSS MB\tpredict rows/s\t%s\t%s\t\tnotes\n", metric, acc)
		for _, model := range []string{"sous", "sklearn"} {
			r := find(c.Name, model)
			if r == nil {
				continue
			}
			a := ""
			if d.Task == "binary" {
				a = fmt.Sprintf("%.5f", r.Accuracy)
			}
			fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%.0f\t%.0f\t%.5f\t%s\t\t%s\n", model, r.FitS, r.FitCPUS, r.PeakRSSMB, r.PredictRowsS, r.Metric, a, r.Notes)
		}
		if s, p := find(c.Name, "sous"), find(c.Name, "sklearn"); s != nil && p != nil {
			md, ad := fmt.Sprintf("%+.2f%%", 100*(s.Metric/p.Metric-1)), ""
			if d.Task == "binary" {
				md, ad = fmt.Sprintf("%+.4f", s.Metric-p.Metric), fmt.Sprintf("%+.4f", s.Accuracy-p.Accuracy)
			}
			fmt.Fprintf(tw, "sous/sklearn\t%.2fx\t%.2fx\t%.2fx\t%.2fx\t%s\t%s\t\t\n", s.FitS/p.FitS, s.FitCPUS/p.FitCPUS,
				s.PeakRSSMB/p.PeakRSSMB, s.PredictRowsS/p.PredictRowsS, md, ad)
		}
		tw.Flush()
		fmt.Fprintln(w)
	}
}

// rowCounts are the training rows of each family of designs (test rows:
// a fifth).
type rowCounts struct{ taxiWide, binaryWide, raw int }

// writeDesigns writes the designs the cases need and meta.json, and
// returns the designs.
func writeDesigns(dir string, todo []benchCase, rows rowCounts) (map[string]design, error) {
	need := map[string]bool{}
	for _, c := range todo {
		need[c.Design] = true
	}
	designs := map[string]design{}
	for _, name := range []string{"taxiwide", "binarywide", "taxiraw", "binaryraw"} {
		if !need[name] {
			continue
		}
		var d design
		var err error
		switch name {
		case "taxiwide":
			d, err = writeTaxiWide(dir, rows.taxiWide)
		case "binarywide":
			d, err = writeBinaryWide(dir, rows.binaryWide)
		case "taxiraw":
			d, err = writeRaw(dir, name, synth.Taxi, rows.raw, "regression", "the raw taxi set")
		case "binaryraw":
			d, err = writeRaw(dir, name, synth.Binary, rows.raw, "binary", "the raw binary set")
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		designs[name] = d
	}
	b, err := json.MarshalIndent(map[string]any{"designs": designs}, "", "  ")
	if err != nil {
		return nil, err
	}
	return designs, os.WriteFile(filepath.Join(dir, "meta.json"), b, 0o644)
}

// columnStats returns the mean and standard deviation of column j of the
// row-major X (cols wide), ignoring NaNs.
func columnStats(X []float64, cols, j int) (mean, sd float64) {
	var n, s, ss float64
	for i := j; i < len(X); i += cols {
		if v := X[i]; !math.IsNaN(v) {
			n++
			s += v
			ss += v * v
		}
	}
	mean = s / n
	sd = math.Sqrt(math.Max(ss/n-mean*mean, 0))
	if sd == 0 {
		sd = 1
	}
	return mean, sd
}

// writeSplit writes a design's X and y for one split, building each row
// of X with row(i, dst).
func writeSplit(dir, name, split string, n, cols int, y []float64, row func(i int, dst []float64)) error {
	w, err := synth.CreateF64(filepath.Join(dir, name+"_X"+split+".f64"))
	if err != nil {
		return err
	}
	buf := make([]float64, cols)
	for i := range n {
		clear(buf)
		row(i, buf)
		w.Write(buf...)
	}
	if err := w.Close(); err != nil {
		return err
	}
	return synth.WriteF64(filepath.Join(dir, name+"_y"+split+".f64"), y)
}

// writeTaxiWide writes the taxi set (training seed 1, test seed 2, as
// bench/gbdt) as a wide design: distance, duration and passengers
// standardised by the training rows (a missing passenger count gets the
// mean, 0), then one-hot pickup zone (263), hour (24) and day of week (7):
// 297 columns.
func writeTaxiWide(dir string, train int) (design, error) {
	const cols = 3 + synth.TaxiZones + 24 + 7
	xtr, ytr, tc := synth.Taxi(train, 1)
	numeric := []int{synth.TaxiDistance, synth.TaxiDuration, synth.TaxiPassengers}
	var mean, sd [3]float64
	for k, j := range numeric {
		mean[k], sd[k] = columnStats(xtr, tc, j)
	}
	row := func(X []float64) func(int, []float64) {
		return func(i int, dst []float64) {
			x := X[i*tc : (i+1)*tc]
			for k, j := range numeric {
				if v := x[j]; !math.IsNaN(v) {
					dst[k] = (v - mean[k]) / sd[k]
				}
			}
			dst[3+int(x[synth.TaxiPickup])] = 1
			dst[3+synth.TaxiZones+int(x[synth.TaxiHour])] = 1
			dst[3+synth.TaxiZones+24+int(x[synth.TaxiDow])] = 1
		}
	}
	if err := writeSplit(dir, "taxiwide", "train", train, cols, ytr, row(xtr)); err != nil {
		return design{}, err
	}
	xte, yte, _ := synth.Taxi(train/5, 2)
	if err := writeSplit(dir, "taxiwide", "test", train/5, cols, yte, row(xte)); err != nil {
		return design{}, err
	}
	return design{Task: "regression", Cols: cols, TrainRows: train, TestRows: train / 5,
		About: "the taxi set, 3 standardised numeric + one-hot pickup zone, hour, day of week"}, nil
}

// writeBinaryWide writes the binary set as a one-hot design: the 20
// numeric features standardised by the training rows (NaN gets the mean,
// 0), then the 3 categorical features one-hot (8 + 50 + 400 levels): 478
// columns.
func writeBinaryWide(dir string, train int) (design, error) {
	cols := synth.BinaryNumeric
	for _, k := range synth.BinaryCards {
		cols += k
	}
	xtr, ytr, bc := synth.Binary(train, 1)
	var mean, sd [synth.BinaryNumeric]float64
	for j := range synth.BinaryNumeric {
		mean[j], sd[j] = columnStats(xtr, bc, j)
	}
	row := func(X []float64) func(int, []float64) {
		return func(i int, dst []float64) {
			x := X[i*bc : (i+1)*bc]
			for j := range synth.BinaryNumeric {
				if v := x[j]; !math.IsNaN(v) {
					dst[j] = (v - mean[j]) / sd[j]
				}
			}
			off := synth.BinaryNumeric
			for c, k := range synth.BinaryCards {
				dst[off+int(x[synth.BinaryNumeric+c])] = 1
				off += k
			}
		}
	}
	if err := writeSplit(dir, "binarywide", "train", train, cols, ytr, row(xtr)); err != nil {
		return design{}, err
	}
	xte, yte, _ := synth.Binary(train/5, 2)
	if err := writeSplit(dir, "binarywide", "test", train/5, cols, yte, row(xte)); err != nil {
		return design{}, err
	}
	return design{Task: "binary", Cols: cols, TrainRows: train, TestRows: train / 5,
		About: "the binary set, 20 standardised numeric + one-hot categoricals (8, 50, 400 levels)"}, nil
}

// writeRaw writes a data set as generated, with each NaN replaced by its
// column's training mean (neither forest takes NaN).
func writeRaw(dir, name string, gen func(int, uint64) ([]float64, []float64, int), train int, task, about string) (design, error) {
	xtr, ytr, cols := gen(train, 1)
	mean := make([]float64, cols)
	for j := range cols {
		mean[j], _ = columnStats(xtr, cols, j)
	}
	row := func(X []float64) func(int, []float64) {
		return func(i int, dst []float64) {
			for j, v := range X[i*cols : (i+1)*cols] {
				if math.IsNaN(v) {
					v = mean[j]
				}
				dst[j] = v
			}
		}
	}
	if err := writeSplit(dir, name, "train", train, cols, ytr, row(xtr)); err != nil {
		return design{}, err
	}
	xte, yte, _ := gen(train/5, 2)
	if err := writeSplit(dir, name, "test", train/5, cols, yte, row(xte)); err != nil {
		return design{}, err
	}
	return design{Task: task, Cols: cols, TrainRows: train, TestRows: train / 5,
		About: about + " (NaN replaced by the training mean)"}, nil
}
