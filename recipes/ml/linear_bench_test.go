package ml

import (
	"bufio"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Benchmarks of lasso and logistic_regression on generated data. To compare
// with scikit-learn on the very same data, set SOUS_BENCH_LINEAR_CSV to a
// path: the benchmarks then write the data there as CSV, and
//
//	/usr/bin/python3 testdata/bench_linear.py $SOUS_BENCH_LINEAR_CSV
//
// prints scikit-learn's fit times for the same models. The benchmarks
// report the CPU time per fit (cpu-ns/op) beside the wall time, and
// logistic_regression's iterations (Newton iterations; scikit-learn's are
// L-BFGS iterations).

const (
	benchLinearRows = 100_000
	benchLinearCols = 30
)

// linearBenchData returns an n×p design of correlated standard-normal-ish
// features with targets: a regression target, a binary class and a 5-class
// class, from fixed seeds.
func linearBenchData(n, p int) (X *Matrix, yReg, yBin, yMulti []float64) {
	rng := rand.New(rand.NewPCG(2025, 11))
	X = NewMatrix(n, p)
	w := make([]float64, p)
	for j := range w {
		if j%3 != 0 {
			w[j] = rng.NormFloat64() / math.Sqrt(float64(p)) * 3
		}
	}
	W := make([]float64, 5*p)
	for k := range W {
		W[k] = rng.NormFloat64() / math.Sqrt(float64(p)) * 2
	}
	yReg, yBin, yMulti = make([]float64, n), make([]float64, n), make([]float64, n)
	z := make([]float64, 5)
	for i := 0; i < n; i++ {
		row := X.Row(i)
		shared := rng.NormFloat64()
		for j := range row {
			row[j] = 0.8*rng.NormFloat64() + 0.6*shared
		}
		var s float64
		for j, v := range row {
			s += v * w[j]
		}
		yReg[i] = s + 1 + 0.5*rng.NormFloat64()
		if rng.Float64() < sigmoid(s-0.5) {
			yBin[i] = 1
		}
		best, bz := 0, math.Inf(-1)
		for k := range z {
			z[k] = rng.NormFloat64() * 0.5
			for j, v := range row {
				z[k] += v * W[k*p+j]
			}
			if z[k] > bz {
				best, bz = k, z[k]
			}
		}
		yMulti[i] = float64(best)
	}
	return X, yReg, yBin, yMulti
}

// writeLinearBenchCSV writes the benchmark data if SOUS_BENCH_LINEAR_CSV is set.
func writeLinearBenchCSV(b *testing.B, X *Matrix, yReg, yBin, yMulti []float64) {
	path := os.Getenv("SOUS_BENCH_LINEAR_CSV")
	if path == "" {
		return
	}
	fh, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(fh)
	for j := 0; j < X.Cols; j++ {
		fmt.Fprintf(w, "x%d,", j)
	}
	fmt.Fprintln(w, "y_reg,y_bin,y_multi")
	for i := 0; i < X.Rows; i++ {
		for _, v := range X.Row(i) {
			w.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
			w.WriteByte(',')
		}
		fmt.Fprintf(w, "%s,%g,%g\n", strconv.FormatFloat(yReg[i], 'g', -1, 64), yBin[i], yMulti[i])
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := fh.Close(); err != nil {
		b.Fatal(err)
	}
	b.Logf("wrote %s", path)
}

func benchFit(b *testing.B, name string, params map[string]any, target func(yReg, yBin, yMulti []float64) []float64) {
	X, yReg, yBin, yMulti := linearBenchData(benchLinearRows, benchLinearCols)
	writeLinearBenchCSV(b, X, yReg, yBin, yMulti)
	y := target(yReg, yBin, yMulti)
	b.ResetTimer()
	cpu0 := processCPU()
	for b.Loop() {
		est, err := NewEstimator(name, params)
		if err != nil {
			b.Fatal(err)
		}
		if err := est.Fit(X, y); err != nil {
			b.Fatal(err)
		}
		if lr, ok := est.(*LogisticRegression); ok {
			b.ReportMetric(float64(lr.NIter), "iters")
		}
	}
	// CPU time per fit: on a shared machine it varies less than wall time,
	// and it counts every goroutine.
	b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// processCPU returns the user plus system CPU time of the process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkLogisticFit fits binary logistic_regression (defaults) to
// 100k × 30.
func BenchmarkLogisticFit(b *testing.B) {
	benchFit(b, LogisticRegressionName, nil, func(_, yBin, _ []float64) []float64 { return yBin })
}

// BenchmarkLogisticFitMultinomial fits 5-class logistic_regression to
// 100k × 30.
func BenchmarkLogisticFitMultinomial(b *testing.B) {
	benchFit(b, LogisticRegressionName, nil, func(_, _, yMulti []float64) []float64 { return yMulti })
}

// BenchmarkLassoFit fits lasso (alpha 0.01) to 100k × 30 (Gram solver).
func BenchmarkLassoFit(b *testing.B) {
	benchFit(b, LassoName, map[string]any{"alpha": 0.01}, func(yReg, _, _ []float64) []float64 { return yReg })
}
