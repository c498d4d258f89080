package gbdt

import (
	"math"
	"math/rand/v2"
	"testing"
)

// benchData is a regression set with 10 features of mixed cardinality: a
// nonlinear target of the first six, the rest noise.
func benchData(n int, seed uint64) dataset {
	rng := rand.New(rand.NewPCG(seed, 99))
	const cols = 10
	d := dataset{X: make([]float64, n*cols), y: make([]float64, n), rows: n, cols: cols}
	for i := range n {
		x := d.X[i*cols : i*cols+cols]
		x[0] = float64(rng.IntN(24))
		x[1] = float64(rng.IntN(7))
		x[2] = math.Exp(rng.NormFloat64())
		x[3] = rng.Float64() * 100
		x[4] = float64(rng.IntN(260))
		x[5] = float64(rng.IntN(6) + 1)
		for j := 6; j < cols; j++ {
			x[j] = rng.NormFloat64()
		}
		d.y[i] = 3*x[2] + math.Sin(x[0]/24*2*math.Pi)*4 + 0.02*x[3]*float64(int(x[1])%5) +
			0.01*x[4] + 0.5*x[5] + rng.NormFloat64()
	}
	return d
}

func benchFit(b *testing.B, n, threads int) {
	d := benchData(n, 1)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Fit(d.X, d.rows, d.cols, d.y, Params{Threads: threads}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkFit100k(b *testing.B) { benchFit(b, 100_000, 1) }

func BenchmarkFit100kThreads2(b *testing.B) { benchFit(b, 100_000, 2) }

func BenchmarkFitLogLoss100k(b *testing.B) {
	d := logistic(100_000, 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Fit(d.X, d.rows, d.cols, d.y, Params{Loss: LossLogLoss, Threads: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPredict(b *testing.B) {
	train := benchData(100_000, 1)
	test := benchData(50_000, 2)
	m, err := Fit(train.X, train.rows, train.cols, train.y, Params{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		m.Predict(test.X, test.rows, test.cols)
	}
	b.ReportMetric(float64(test.rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
