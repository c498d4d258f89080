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
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
	"unsafe"

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
		py, err := findPython(*python)
		if err != nil {
			return err
		}
		script := filepath.Join(sourceDir(), "peers.py")
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

// sourceDir returns the directory of this program's source, where
// peers.py sits: the working directory's bench/gbdt when run from the
// repository root, else the working directory.
func sourceDir() string {
	for _, d := range []string{"bench/gbdt", "."} {
		if _, err := os.Stat(filepath.Join(d, "peers.py")); err == nil {
			return d
		}
	}
	return "bench/gbdt"
}

func findPython(flagValue string) (string, error) {
	cands := []string{"python3", "/usr/bin/python3"}
	if flagValue != "" {
		cands = []string{flagValue}
	}
	for _, c := range cands {
		if exec.Command(c, "-c", "import sklearn, xgboost, threadpoolctl").Run() == nil {
			return c, nil
		}
	}
	return "", errors.New("no python3 imports sklearn and xgboost: apt-get install python3-sklearn python3-xgboost (or pass -peers=false)")
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
	load := func(s string) ([]float64, error) { return readF64(filepath.Join(dir, name+"_"+s+".f64")) }
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
	t0, c0 := time.Now(), cpuTime(rusageSelf)
	model, err := gbdt.Fit(xtr, m.TrainRows, m.Cols, ytr, p)
	if err != nil {
		return result{}, err
	}
	fitS, fitCPU := time.Since(t0).Seconds(), cpuTime(rusageSelf)-c0
	runtime.GOMAXPROCS(1)
	runtime.LockOSThread()
	model.Predict(xte[:1000*m.Cols], 1000, m.Cols)
	t0, c0 = time.Now(), cpuTime(rusageThread)
	pred := model.Predict(xte, m.TestRows, m.Cols)
	predS, predCPU := time.Since(t0).Seconds(), cpuTime(rusageThread)-c0
	r := result{Dataset: name, Model: "sous", Threads: threads, FitS: fitS, FitCPUS: fitCPU,
		PredictRowsS: float64(m.TestRows) / predS, PredictRowsCPUS: float64(m.TestRows) / predCPU,
		PeakRSSMB: peakRSSMB()}
	if m.Task == "binary" {
		r.Metric = rocAUC(pred, yte)
	} else {
		r.Metric = rmse(pred, yte)
	}
	return r, nil
}

const (
	rusageSelf   = 0
	rusageThread = 1 // Linux RUSAGE_THREAD
)

// cpuTime returns the user plus system CPU seconds of the process or the
// calling thread.
func cpuTime(who int) float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return math.NaN()
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

func peakRSSMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return math.NaN()
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return math.NaN()
}

func rmse(p, y []float64) float64 {
	var s float64
	for i, v := range y {
		s += (p[i] - v) * (p[i] - v)
	}
	return math.Sqrt(s / float64(len(y)))
}

// rocAUC is the Mann-Whitney AUC with ties counted half.
func rocAUC(score, y []float64) float64 {
	idx := make([]int, len(y))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return score[idx[a]] < score[idx[b]] })
	var pos, neg, rankSum float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && score[idx[j]] == score[idx[i]] {
			j++
		}
		avg := float64(i+j+1) / 2 // mean 1-based rank of the tie group
		for _, k := range idx[i:j] {
			if y[k] == 1 {
				pos++
				rankSum += avg
			} else {
				neg++
			}
		}
		i = j
	}
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
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
			gen = taxi
		case "binary":
			gen, task = binaryData, "binary"
		default:
			return fmt.Errorf("unknown data set %q", name)
		}
		xtr, ytr, cols := gen(train, 1)
		xte, yte, _ := gen(test, 2)
		for s, v := range map[string][]float64{"Xtrain": xtr, "ytrain": ytr, "Xtest": xte, "ytest": yte} {
			if err := writeF64(filepath.Join(dir, name+"_"+s+".f64"), v); err != nil {
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

func writeF64(path string, v []float64) error {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	return os.WriteFile(path, b, 0o644)
}

// readF64 reads a little-endian float64 file straight into a []float64
// (no second copy, so the peak RSS counts the data once).
func readF64(path string) ([]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size()%8 != 0 {
		return nil, fmt.Errorf("%s: size %d is not a multiple of 8", path, st.Size())
	}
	v := make([]float64, st.Size()/8)
	if len(v) == 0 {
		return v, nil
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 8*len(v))
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		for i := range v {
			v[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
		}
	}
	return v, nil
}

// Taxi columns.
const (
	tHour = iota
	tDow
	tMinute
	tDistance
	tDuration
	tPickup
	tDropoff
	tPassengers
	taxiCols
)

// taxi generates NYC-taxi-like trips: time features from synthetic 2023
// timestamps, a lognormal distance, a duration that depends on traffic,
// 263 zone codes with skewed popularity and airport zones, and a passenger
// count (2% missing). The fare is metered distance and time with a rush-
// hour surcharge, airport flat rates, zone effects and noise; 1% of fares
// are outliers.
func taxi(n int, seed uint64) ([]float64, []float64, int) {
	rng := rand.New(rand.NewPCG(seed, 0x7a71))
	const zones = 263
	// Zone popularity ~ 1/(rank+5); a fixed per-zone fare effect.
	cum := make([]float64, zones)
	zoneEffect := make([]float64, zones)
	zr := rand.New(rand.NewPCG(42, 42))
	var s float64
	for z := range zones {
		s += 1 / float64(z+5)
		cum[z] = s
		zoneEffect[z] = zr.NormFloat64() * 0.8
	}
	zone := func() int {
		u := rng.Float64() * s
		return min(sort.SearchFloat64s(cum, u), zones-1)
	}
	airport := func(z int) bool { return z == 1 || z == 132 || z == 138 }
	start := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	X := make([]float64, n*taxiCols)
	y := make([]float64, n)
	for i := range n {
		// Busier in the day and evening: reject night minutes half the time.
		var ts time.Time
		for {
			ts = time.Unix(start+rng.Int64N(365*24*3600), 0).UTC()
			if h := ts.Hour(); h >= 7 || rng.Float64() < 0.4 {
				break
			}
		}
		hour, dow := ts.Hour(), int(ts.Weekday())
		minute := hour*60 + ts.Minute()
		pu, do := zone(), zone()
		dist := math.Exp(0.9 + 0.75*rng.NormFloat64())
		if airport(pu) || airport(do) {
			dist = 12 + 6*rng.Float64()
		}
		weekday := dow >= 1 && dow <= 5
		rush := weekday && ((hour >= 7 && hour <= 9) || (hour >= 16 && hour <= 19))
		speed := 13 + 5*math.Cos(2*math.Pi*float64(minute-240)/1440) // mph
		if rush {
			speed *= 0.7
		}
		dur := dist / speed * 60 * math.Exp(0.2*rng.NormFloat64()) // minutes
		pass := float64(1 + min(5, int(math.Floor(-math.Log(rng.Float64())*0.7))))

		fare := 3 + 1.75*dist + 0.35*dur + zoneEffect[pu] + 0.5*zoneEffect[do]
		switch {
		case airport(pu) && airport(do):
			fare = 70 + 0.2*dur
		case airport(pu) || airport(do):
			fare = 52 + 0.1*dur + zoneEffect[pu]
		}
		if rush {
			fare += 2.5
		}
		if hour >= 20 || hour < 6 {
			fare += 1
		}
		if pass >= 5 {
			fare += 1.5
		}
		fare += 0.8 * rng.NormFloat64() * math.Sqrt(1+dist/5)
		if rng.Float64() < 0.01 {
			// Outliers: disputes, data-entry errors, negotiated fares.
			switch rng.IntN(3) {
			case 0:
				fare = 0
			case 1:
				fare *= 3 + 5*rng.Float64()
			default:
				fare = 100 + 400*rng.Float64()
			}
		}
		x := X[i*taxiCols : i*taxiCols+taxiCols]
		x[tHour], x[tDow], x[tMinute] = float64(hour), float64(dow), float64(minute)
		x[tDistance], x[tDuration] = math.Round(dist*100)/100, math.Round(dur*10)/10
		x[tPickup], x[tDropoff], x[tPassengers] = float64(pu), float64(do), pass
		if rng.Float64() < 0.02 {
			x[tPassengers] = math.NaN()
		}
		y[i] = math.Round(fare*100) / 100
	}
	return X, y, taxiCols
}

// binaryData generates 20 numeric features (8 informative with
// interactions, 4 correlated copies, 8 noise) and 3 categorical codes
// (cardinality 8, 50 and 400) with per-level effects; about 30% positive.
func binaryData(n int, seed uint64) ([]float64, []float64, int) {
	rng := rand.New(rand.NewPCG(seed, 0xb1))
	const cols = 23
	cards := [3]int{8, 50, 400}
	var effects [3][]float64
	er := rand.New(rand.NewPCG(7, 7))
	for c, k := range cards {
		effects[c] = make([]float64, k)
		for j := range effects[c] {
			effects[c][j] = er.NormFloat64() * []float64{0.8, 0.5, 0.6}[c]
		}
	}
	X := make([]float64, n*cols)
	y := make([]float64, n)
	for i := range n {
		x := X[i*cols : i*cols+cols]
		for j := range 8 {
			x[j] = rng.NormFloat64()
		}
		for j := 8; j < 12; j++ {
			x[j] = x[j-8] + 0.5*rng.NormFloat64()
		}
		for j := 12; j < 20; j++ {
			x[j] = rng.NormFloat64()
		}
		// Skewed category frequencies.
		for c, k := range cards {
			x[20+c] = float64(min(k-1, int(float64(k)*math.Pow(rng.Float64(), 2))))
		}
		z := -1.3 + 0.9*x[0] - 0.7*x[1] + 0.6*x[2]*x[3] + math.Sin(2*x[4]) +
			0.5*math.Abs(x[5]) - 0.4*x[6]*x[6] +
			effects[0][int(x[20])] + effects[1][int(x[21])] + effects[2][int(x[22])]
		if x[7] > 0.5 {
			z += 0.6
		}
		if rng.Float64() < 1/(1+math.Exp(-z)) {
			y[i] = 1
		}
		if rng.Float64() < 0.01 {
			x[rng.IntN(20)] = math.NaN()
		}
	}
	return X, y, cols
}
