package ml

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func enetFromFit(t *testing.T, f enetFit) (Estimator, func(*Matrix, []float64, gramMode) (LinearModel, CDState, error)) {
	t.Helper()
	params := map[string]any{}
	for k, v := range f.Params {
		params[k] = v // float64 after the JSON round trip, ints included
	}
	est, err := NewEstimator(f.Estimator, params)
	if err != nil {
		t.Fatal(err)
	}
	var alpha, l1r, tol float64
	var maxIter int
	var center bool
	switch e := est.(type) {
	case *Lasso:
		alpha, l1r, tol, maxIter, center = e.Alpha, 1, e.Tol, e.MaxIter, e.FitIntercept
	case *ElasticNet:
		alpha, l1r, tol, maxIter, center = e.Alpha, e.L1Ratio, e.Tol, e.MaxIter, e.FitIntercept
	default:
		t.Fatalf("%s is %T", f.Estimator, est)
	}
	return est, func(X *Matrix, y []float64, mode gramMode) (LinearModel, CDState, error) {
		return fitElasticNet(X, y, alpha, l1r, maxIter, tol, center, mode)
	}
}

// TestElasticNetMatchesSklearn compares both coordinate-descent variants
// with scikit-learn's Lasso and ElasticNet on fixed data, to 1e-6, at a
// tight tol and at the default tol, where both stop early after the same
// number of passes.
func TestElasticNetMatchesSklearn(t *testing.T) {
	t.Parallel()
	exp := loadLinearExpected(t).EnetFixed
	X, y := matrixOf(exp.X), exp.Y
	for _, f := range exp.Fits {
		_, fit := enetFromFit(t, f)
		tight := f.Params["tol"].(float64) < 1e-6
		for _, mode := range []gramMode{gramAlways, gramNever} {
			m, st, err := fit(X, y, mode)
			if err != nil {
				t.Fatal(err)
			}
			// The passes are scikit-learn's, so even an early stop at the
			// default tol lands on the same iterate.
			tol := 1e-6
			t.Logf("%s %v mode %d: n_iter %d (scikit-learn %d) gap %.3g converged %v", f.Estimator, f.Params, mode, st.NIter, f.NIter, st.DualGap, st.Converged)
			assertSlice(t, f.Estimator+" coef", m.Coef, f.Coef, tol)
			if !near(m.Intercept, f.Intercept, tol) {
				t.Fatalf("%s %v: intercept %v, scikit-learn %v", f.Estimator, f.Params, m.Intercept, f.Intercept)
			}
			if !st.Converged {
				t.Fatalf("%s %v: did not converge", f.Estimator, f.Params)
			}
			if mode == gramNever && !tight && st.NIter != f.NIter {
				t.Errorf("%s %v: %d passes, scikit-learn %d", f.Estimator, f.Params, st.NIter, f.NIter)
			}
		}
	}
}

// TestWineLasso fits lasso and elastic_net on the standardised wine-quality
// data through the registry, checks scikit-learn's coefficients and test R²,
// and round-trips the fitted model through MarshalEstimator.
func TestWineLasso(t *testing.T) {
	t.Parallel()
	exp := loadLinearExpected(t).WineLasso
	all := readWine(t, loadExpected(t).Wine.File)
	var trainIdx, testIdx []int
	for i := 0; i < all.Len(); i++ {
		if i%5 == 0 {
			testIdx = append(testIdx, i)
		} else {
			trainIdx = append(trainIdx, i)
		}
	}
	train, test := all.Take(trainIdx), all.Take(testIdx)
	tr := mustFit(t, TransformSpec{Groups: []GroupSpec{group(StandardScaler, nil, exp.Features...)}, Target: "quality"}, train)
	Xtr, Xte := mustTransform(t, tr, train), mustTransform(t, tr, test)
	ytr, _ := train.Col("quality")
	yte, _ := test.Col("quality")
	for _, f := range exp.Fits {
		est, _ := enetFromFit(t, f)
		if err := est.Fit(Xtr, ytr.Floats); err != nil {
			t.Fatal(err)
		}
		var lm LinearModel
		switch e := est.(type) {
		case *Lasso:
			lm = e.LinearModel
		case *ElasticNet:
			lm = e.LinearModel
		}
		tol := 1e-6
		assertSlice(t, f.Estimator+" wine coef", lm.Coef, f.Coef, tol)
		if !near(lm.Intercept, f.Intercept, tol) {
			t.Fatalf("%s: intercept %v, scikit-learn %v", f.Estimator, lm.Intercept, f.Intercept)
		}
		pred, err := est.Predict(Xte)
		if err != nil {
			t.Fatal(err)
		}
		r2 := RegressionMetrics(yte.Floats, pred)[MetricR2]
		t.Logf("%s %v: test r2 %.6f (scikit-learn %.6f), solver %s", f.Estimator, f.Params, r2, f.TestR2, lm.Solver)
		if !near(r2, f.TestR2, 1e-6) {
			t.Fatalf("%s: test r2 %v, scikit-learn %v", f.Estimator, r2, f.TestR2)
		}
		imp := est.FeatureImportances()
		var s float64
		for _, v := range imp {
			s += v
		}
		if len(imp) != len(exp.Features) || math.Abs(s-1) > 1e-12 {
			t.Fatalf("importances %v", imp)
		}
		data, err := MarshalEstimator(est)
		if err != nil {
			t.Fatal(err)
		}
		back, err := UnmarshalEstimator(f.Estimator, data)
		if err != nil {
			t.Fatal(err)
		}
		pred2, err := back.Predict(Xte)
		if err != nil {
			t.Fatal(err)
		}
		assertSlice(t, "round-tripped predictions", pred2, pred, 0)
	}
}

func TestElasticNetErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		params map[string]any
		want   string
	}{
		{LassoName, map[string]any{"alpha": -1.0}, `"alpha" must be >= 0`},
		{LassoName, map[string]any{"l1_ratio": 0.5}, `unknown param "l1_ratio"`},
		{ElasticNetName, map[string]any{"l1_ratio": 1.5}, `"l1_ratio" must be in [0, 1]`},
		{ElasticNetName, map[string]any{"max_iter": int64(0)}, `"max_iter" must be >= 1`},
		{ElasticNetName, map[string]any{"max_iter": 2.5}, `"max_iter" must be an integer`},
		{ElasticNetName, map[string]any{"tol": 0.0}, `"tol" must be > 0`},
		{LassoName, map[string]any{"fit_intercept": "yes"}, `"fit_intercept" must be true or false`},
	} {
		if _, err := NewEstimator(c.name, c.params); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %v: err = %v, want %q", c.name, c.params, err, c.want)
		}
	}
	// Params as they come from the recipe loader: int64, and float64 after JSON.
	for _, params := range []map[string]any{
		{"alpha": 0.1, "l1_ratio": 0.5, "max_iter": int64(50), "tol": 1e-3, "fit_intercept": false},
		{"alpha": int64(1), "l1_ratio": 1.0, "max_iter": 50.0, "tol": 1e-3, "fit_intercept": nil},
	} {
		if _, err := NewEstimator(ElasticNetName, params); err != nil {
			t.Errorf("%v: %v", params, err)
		}
	}

	e, _ := NewElasticNet(nil)
	X := matrixOf([][]float64{{1, 2}, {3, 4}, {5, 7}})
	for _, c := range []struct {
		X    *Matrix
		y    []float64
		want string
	}{
		{nil, nil, "X is empty"},
		{X, []float64{1, 2}, "3 rows but y has 2"},
		{X, []float64{1, math.NaN(), 2}, "y[1] is NaN"},
		{matrixOf([][]float64{{1, math.Inf(1)}, {3, 4}, {5, 7}}), []float64{1, 2, 3}, "X[0][1] is +Inf"},
		{matrixOf([][]float64{{1e200, 2}, {-1e200, 4}, {1e200, 7}}), []float64{1, 2, 3}, "overflow"},
	} {
		if err := e.Fit(c.X, c.y); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("fit: err = %v, want %q", err, c.want)
		}
	}
	if e.Coef != nil {
		t.Fatal("a failed fit changed the model")
	}
	if _, err := e.Predict(X); err == nil {
		t.Error("predict before fit")
	}
	if e.FeatureImportances() != nil {
		t.Error("importances before fit")
	}
	// A constant target and a constant column: all-zero coefficients, the
	// intercept the mean, converged at once.
	if err := e.Fit(matrixOf([][]float64{{1, 5}, {2, 5}, {3, 5}}), []float64{4, 4, 4}); err != nil {
		t.Fatal(err)
	}
	if e.Coef[0] != 0 || e.Coef[1] != 0 || e.Intercept != 4 || !e.Converged || e.NIter != 1 {
		t.Fatalf("constant: %+v", e)
	}
	if _, err := e.Predict(matrixOf([][]float64{{1}})); err == nil {
		t.Error("predict with the wrong width")
	}
	// A large alpha zeroes every coefficient; importances are then all zero.
	big, _ := NewLasso(map[string]any{"alpha": 1e6})
	if err := big.Fit(X, []float64{1, 2, 4}); err != nil {
		t.Fatal(err)
	}
	for _, v := range big.FeatureImportances() {
		if v != 0 {
			t.Fatalf("importances %v", big.FeatureImportances())
		}
	}
	// Decoded state is validated.
	for _, s := range []string{`{"alpha":-1,"max_iter":5,"tol":0.1}`, `{"alpha":1,"max_iter":0,"tol":0.1}`, `{"alpha":1,"max_iter":5,"tol":0.1,"l1_ratio":2}`} {
		if _, err := UnmarshalEstimator(ElasticNetName, []byte(s)); err == nil {
			t.Errorf("%s: decoded", s)
		}
	}
	var st struct {
		NIter int `json:"n_iter"`
	}
	data, _ := MarshalEstimator(e)
	if err := json.Unmarshal(data, &st); err != nil || st.NIter != 1 {
		t.Errorf("state %s: %v", data, err)
	}
}
