package tree_test

import (
	"bufio"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/sous-ml/sous/recipes/ml/tree"
)

// friedman generates the Friedman #1 regression problem widened to cols
// uniform features (only the first five matter), deterministically.
func friedman(rows, cols int, seed uint64) (X, y []float64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	X = make([]float64, rows*cols)
	y = make([]float64, rows)
	for i := range rows {
		x := X[i*cols : (i+1)*cols]
		for j := range x {
			x[j] = rng.Float64()
		}
		y[i] = 10*math.Sin(math.Pi*x[0]*x[1]) + 20*(x[2]-0.5)*(x[2]-0.5) + 10*x[3] + 5*x[4] + rng.NormFloat64()
	}
	return X, y
}

const benchRows, benchTestRows, benchCols, benchTrees = 100_000, 20_000, 20, 100

// TestWriteBenchData writes the BenchmarkForestFit training data as CSV (y
// last) to $SOUS_TREE_BENCH_CSV, and its held-out rows to
// $SOUS_TREE_BENCH_CSV.test, for testdata/bench_forest.py.
func TestWriteBenchData(t *testing.T) {
	path := os.Getenv("SOUS_TREE_BENCH_CSV")
	if path == "" {
		t.Skip("SOUS_TREE_BENCH_CSV not set")
	}
	X, y := friedman(benchRows, benchCols, 1)
	writeCSV(t, path, X, y, benchRows)
	X, y = friedman(benchTestRows, benchCols, 2)
	writeCSV(t, path+".test", X, y, benchTestRows)
}

func writeCSV(t *testing.T, path string, X, y []float64, rows int) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for j := range benchCols {
		fmt.Fprintf(w, "x%d,", j)
	}
	fmt.Fprintln(w, "y")
	for i := range rows {
		for j := range benchCols {
			w.WriteString(strconv.FormatFloat(X[i*benchCols+j], 'g', -1, 64))
			w.WriteByte(',')
		}
		w.WriteString(strconv.FormatFloat(y[i], 'g', -1, 64))
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkForestFit fits scikit-learn's RandomForestRegressor defaults
// (100 bootstrapped trees, all features per split, unlimited depth) on
// 100k×20 rows with GOMAXPROCS threads; compare testdata/bench_forest.py.
func BenchmarkForestFit(b *testing.B) {
	X, y := friedman(benchRows, benchCols, 1)
	Xt, yt := friedman(benchTestRows, benchCols, 2)
	p := tree.DefaultForestParams(tree.Regression)
	p.NEstimators = benchTrees
	var m *tree.Model
	for b.Loop() {
		var err error
		if m, err = tree.Fit(X, benchRows, benchCols, y, p); err != nil {
			b.Fatal(err)
		}
	}
	pred, err := m.Predict(Xt, benchTestRows, benchCols)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(r2(yt, pred), "R²")
	b.ReportMetric(float64(m.NumNodes())/benchTrees, "nodes/tree")
}

// BenchmarkForestPredict predicts 20k rows with the BenchmarkForestFit forest.
func BenchmarkForestPredict(b *testing.B) {
	X, y := friedman(benchRows, benchCols, 1)
	Xt, _ := friedman(20_000, benchCols, 2)
	p := tree.DefaultForestParams(tree.Regression)
	p.NEstimators = benchTrees
	m, err := tree.Fit(X, benchRows, benchCols, y, p)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := m.Predict(Xt, 20_000, benchCols); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkForestFitClassifier fits RandomForestClassifier defaults (100
// trees, sqrt(p) features per split) on 100k×20 rows, 3 classes cut from
// the Friedman target.
func BenchmarkForestFitClassifier(b *testing.B) {
	X, y := friedman(benchRows, benchCols, 1)
	for i, v := range y {
		y[i] = float64(min(max(int(v/8), 0), 2))
	}
	p := tree.DefaultForestParams(tree.Classification)
	p.NEstimators = benchTrees
	var m *tree.Model
	for b.Loop() {
		var err error
		if m, err = tree.Fit(X, benchRows, benchCols, y, p); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(m.NumNodes())/benchTrees, "nodes/tree")
}
