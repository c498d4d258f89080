package ml

import (
	"math"
	"testing"
)

// TestNewLinearEstimatorsNeverPanic feeds lasso, elastic_net and
// logistic_regression malformed input, fitted and unfitted.
func TestNewLinearEstimatorsNeverPanic(t *testing.T) {
	t.Parallel()
	bad := []*Matrix{
		nil,
		{},
		{Rows: -1, Cols: 2},
		{Rows: 2, Cols: 2, Data: []float64{1, 2, 3}},
		{Rows: 1, Cols: -2, Data: []float64{1, 2}},
		{Rows: 2, Cols: 0},
		{Rows: 2, Cols: 1, Data: []float64{math.NaN(), 1}},
		{Rows: 2, Cols: 1, Data: []float64{math.MaxFloat64, -math.MaxFloat64}},
		{Rows: 0, Cols: 2},
	}
	ys := [][]float64{nil, {}, {0, 1}, {0}, {math.Inf(1), 0}, {0, 3}}
	good := matrixOf([][]float64{{0, 1}, {1, 0}, {1, 1}, {0, 0}})
	for _, name := range []string{LassoName, ElasticNetName, LogisticRegressionName} {
		for _, fitted := range []bool{false, true} {
			est, err := NewEstimator(name, nil)
			if err != nil {
				t.Fatal(err)
			}
			if fitted {
				if err := est.Fit(good, []float64{0, 1, 1, 0}); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
			}
			for _, X := range bad {
				for _, y := range ys {
					func() {
						defer func() {
							if r := recover(); r != nil {
								t.Errorf("%s fitted=%v: Fit(%+v, %v) panicked: %v", name, fitted, X, y, r)
							}
						}()
						_ = est.Fit(X, y)
					}()
				}
				func() {
					defer func() {
						if r := recover(); r != nil {
							t.Errorf("%s fitted=%v: Predict(%+v) panicked: %v", name, fitted, X, r)
						}
					}()
					_, _ = est.Predict(X)
					if c, ok := est.(Classifier); ok {
						_, _ = c.PredictProba(X)
					}
					_ = est.FeatureImportances()
				}()
			}
		}
	}
	for _, X := range bad {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("ClassificationMetrics(%+v) panicked: %v", X, r)
				}
			}()
			_ = ClassificationMetrics([]int{0, 1}, X, nil, 1)
			_ = ClassificationMetrics([]int{0, 1}, X, nil, -1)
		}()
	}
	ROCCurve(nil, nil, 1)
	PRCurve([]int{0}, nil, 0)
	ConfusionMatrix([]int{0, 1}, []int{1}, 2)
}
