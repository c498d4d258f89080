package ml

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func randomMatrix(rng *rand.Rand, n, p int) *Matrix {
	m := NewMatrix(n, p)
	for i := range m.Data {
		m.Data[i] = rng.NormFloat64()
	}
	return m
}

func TestLinearRegressionExactRecovery(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 1))
	X := randomMatrix(rng, 200, 2)
	for i := range X.Data {
		X.Data[i] = X.Data[i]*10 + 3 // off-centre, unscaled
	}
	y := make([]float64, X.Rows)
	for i := range y {
		y[i] = 3*X.At(i, 0) - 2*X.At(i, 1) + 5
	}
	lr, _ := NewLinearRegression(nil)
	if err := lr.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	assertSlice(t, "coef", lr.Coef, []float64{3, -2}, 1e-12)
	if !near(lr.Intercept, 5, 1e-12) {
		t.Fatalf("intercept = %v, want 5", lr.Intercept)
	}
	pred, err := lr.Predict(X)
	if err != nil {
		t.Fatal(err)
	}
	assertSlice(t, "pred", pred, y, 1e-12)
	m := RegressionMetrics(y, pred)
	if m[MetricR2] < 1-1e-15 {
		t.Fatalf("r2 = %v", m[MetricR2])
	}
	// Without an intercept the model cannot reach 5 and shows it.
	noInt, _ := NewLinearRegression(map[string]any{"fit_intercept": false})
	if err := noInt.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	if noInt.Intercept != 0 || near(noInt.Coef[0], 3, 1e-3) {
		t.Fatalf("no intercept: %+v", noInt.LinearModel)
	}
}

// closedFormRidge solves (XcᵀXc + αI)w = Xcᵀyc with dense gonum operations,
// independently of buildGram and solveSym.
func closedFormRidge(t *testing.T, X *Matrix, y []float64, alpha float64, center bool) ([]float64, float64) {
	t.Helper()
	n, p := X.Rows, X.Cols
	xm := make([]float64, p)
	var ym float64
	if center {
		for i := 0; i < n; i++ {
			for j := 0; j < p; j++ {
				xm[j] += X.At(i, j) / float64(n)
			}
			ym += y[i] / float64(n)
		}
	}
	Xc := mat.NewDense(n, p, nil)
	yc := mat.NewVecDense(n, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < p; j++ {
			Xc.Set(i, j, X.At(i, j)-xm[j])
		}
		yc.SetVec(i, y[i]-ym)
	}
	var A mat.Dense
	A.Mul(Xc.T(), Xc)
	for j := 0; j < p; j++ {
		A.Set(j, j, A.At(j, j)+alpha)
	}
	var b, w mat.VecDense
	b.MulVec(Xc.T(), yc)
	if err := w.SolveVec(&A, &b); err != nil {
		t.Fatal(err)
	}
	coef := w.RawVector().Data
	icpt := ym
	for j := range coef {
		icpt -= xm[j] * coef[j]
	}
	if !center {
		icpt = 0
	}
	return coef, icpt
}

func TestRidgeMatchesClosedForm(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(2, 2))
	n, p := 500, 12
	X := randomMatrix(rng, n, p)
	// Mixed design: dense numeric columns with offsets and scales, and sparse
	// 0/1 and sparse non-binary columns, so that both Gram paths run.
	for i := 0; i < n; i++ {
		X.Set(i, 0, X.At(i, 0)*1000+5e4)
		X.Set(i, 1, X.At(i, 1)*0.001-3)
		for j := 6; j < 10; j++ {
			X.Set(i, j, 0)
		}
		X.Set(i, 6+rng.IntN(4), 1)
		if rng.IntN(10) == 0 {
			X.Set(i, 10, 50+rng.NormFloat64())
		} else {
			X.Set(i, 10, 0)
		}
	}
	y := make([]float64, n)
	for i := range y {
		y[i] = rng.NormFloat64() + 0.002*X.At(i, 0) + 4*X.At(i, 7) - X.At(i, 10)
	}
	for _, alpha := range []float64{0.1, 1, 10, 1000} {
		for _, center := range []bool{true, false} {
			e, err := NewRidge(map[string]any{"alpha": alpha, "fit_intercept": center})
			if err != nil {
				t.Fatal(err)
			}
			if err := e.Fit(X, y); err != nil {
				t.Fatal(err)
			}
			coef, icpt := closedFormRidge(t, X, y, alpha, center)
			assertSlice(t, "coef", e.Coef, coef, 1e-8)
			if !near(e.Intercept, icpt, 1e-8) {
				t.Fatalf("alpha %v center %v: intercept %v, want %v", alpha, center, e.Intercept, icpt)
			}
			if e.Solver != "cholesky" {
				t.Fatalf("solver = %s", e.Solver)
			}
		}
	}
}

func TestRidgeSmallAlphaIsOLS(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 3))
	X := randomMatrix(rng, 300, 6)
	y := make([]float64, X.Rows)
	for i := range y {
		y[i] = rng.NormFloat64() + X.At(i, 0) - 2*X.At(i, 5)
	}
	ols, _ := NewLinearRegression(nil)
	ridge, _ := NewRidge(map[string]any{"alpha": 1e-9})
	if err := ols.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	if err := ridge.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	assertSlice(t, "coef", ridge.Coef, ols.Coef, 1e-9)
	if !near(ridge.Intercept, ols.Intercept, 1e-9) {
		t.Fatalf("intercept %v vs %v", ridge.Intercept, ols.Intercept)
	}
	// And a large alpha shrinks every coefficient towards zero.
	big, _ := NewRidge(map[string]any{"alpha": 1e6})
	if err := big.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	for j, c := range big.Coef {
		if math.Abs(c) > 1e-2*math.Abs(ols.Coef[j])+1e-3 {
			t.Fatalf("coef %d = %v with alpha 1e6", j, c)
		}
	}
}

// minNormOLS is the minimum-norm least-squares solution of the centred
// problem through gonum's SVD, as numpy's lstsq computes it.
func minNormOLS(t *testing.T, X *Matrix, y []float64) []float64 {
	t.Helper()
	n, p := X.Rows, X.Cols
	xm := make([]float64, p)
	var ym float64
	for i := 0; i < n; i++ {
		for j := 0; j < p; j++ {
			xm[j] += X.At(i, j) / float64(n)
		}
		ym += y[i] / float64(n)
	}
	Xc := mat.NewDense(n, p, nil)
	yc := mat.NewVecDense(n, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < p; j++ {
			Xc.Set(i, j, X.At(i, j)-xm[j])
		}
		yc.SetVec(i, y[i]-ym)
	}
	var svd mat.SVD
	if !svd.Factorize(Xc, mat.SVDThin) {
		t.Fatal("svd failed")
	}
	rank := svd.Rank(1e-10)
	var w mat.VecDense
	svd.SolveVecTo(&w, yc, rank)
	return w.RawVector().Data
}

func TestRankDeficientOneHotDesign(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(4, 4))
	// Two one-hot groups (3 and 4 levels), a duplicated column, a constant
	// column and a numeric column: rank-deficient with an intercept.
	n := 400
	X := NewMatrix(n, 10)
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		a, b := rng.IntN(3), rng.IntN(4)
		X.Set(i, a, 1)
		X.Set(i, 3+b, 1)
		num := rng.NormFloat64()
		X.Set(i, 7, num)
		X.Set(i, 8, num) // duplicate
		X.Set(i, 9, 42)  // constant
		y[i] = float64(a) - 2*float64(b) + 3*num + 0.1*rng.NormFloat64()
	}
	for _, name := range []string{LinearRegressionName, RidgeName} {
		params := map[string]any{}
		if name == RidgeName {
			params["alpha"] = 0.0
		}
		e, err := NewEstimator(name, params)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Fit(X, y); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		lm := linearModelOf(e)
		if lm.Solver != "eigen" {
			t.Errorf("%s: solver = %s, want eigen", name, lm.Solver)
		}
		assertSlice(t, name+" coef vs SVD min-norm", lm.Coef, minNormOLS(t, X, y), 1e-8)
		pred, err := e.Predict(X)
		if err != nil {
			t.Fatal(err)
		}
		if r2 := RegressionMetrics(y, pred)[MetricR2]; r2 < 0.99 {
			t.Fatalf("%s: r2 = %v", name, r2)
		}
		if lm.Coef[9] != 0 {
			t.Fatalf("%s: constant column coef = %v", name, lm.Coef[9])
		}
	}
	// Wider than tall.
	Xw := randomMatrix(rng, 5, 20)
	e, _ := NewLinearRegression(nil)
	if err := e.Fit(Xw, []float64{1, 2, 3, 4, 5}); err != nil {
		t.Fatal(err)
	}
	pred, _ := e.Predict(Xw)
	assertSlice(t, "p > n interpolates", pred, []float64{1, 2, 3, 4, 5}, 1e-8)
	// One row: everything is constant.
	one := &Matrix{Rows: 1, Cols: 2, Data: []float64{3, 4}}
	if err := e.Fit(one, []float64{7}); err != nil {
		t.Fatal(err)
	}
	if e.Intercept != 7 || e.Coef[0] != 0 || e.Coef[1] != 0 {
		t.Fatalf("one row: %+v", e.LinearModel)
	}
}

func linearModelOf(e Estimator) *LinearModel {
	switch e := e.(type) {
	case *LinearRegression:
		return &e.LinearModel
	case *Ridge:
		return &e.LinearModel
	}
	panic("not linear")
}

// TestGramPaths compares buildGram, sparse and dense columns mixed, with a
// naive computation.
func TestGramPaths(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 5))
	n, p := 1000, 9 // > gramBlock rows, a partial last block
	X := NewMatrix(n, p)
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		X.Set(i, 0, rng.NormFloat64()+1e3)
		X.Set(i, 1, rng.NormFloat64())
		X.Set(i, 2+rng.IntN(4), 1)
		if rng.IntN(20) == 0 {
			X.Set(i, 6, rng.NormFloat64()*100)
		}
		if rng.IntN(3) == 0 {
			X.Set(i, 7, rng.NormFloat64())
		}
		// Column 8 stays all zero.
		y[i] = rng.NormFloat64()
	}
	for _, center := range []bool{true, false} {
		g, ok := buildGram(X, y, center)
		if !ok {
			t.Fatal("buildGram: not finite")
		}
		xm := make([]float64, p)
		var ym float64
		if center {
			for i := 0; i < n; i++ {
				for j := 0; j < p; j++ {
					xm[j] += X.At(i, j) / float64(n)
				}
				ym += y[i] / float64(n)
			}
		}
		for a := 0; a < p; a++ {
			var c float64
			for i := 0; i < n; i++ {
				c += (X.At(i, a) - xm[a]) * (y[i] - ym)
			}
			if !near(g.c[a], c, 1e-9) {
				t.Fatalf("center %v: c[%d] = %v, want %v", center, a, g.c[a], c)
			}
			for b := 0; b < p; b++ {
				var s float64
				for i := 0; i < n; i++ {
					s += (X.At(i, a) - xm[a]) * (X.At(i, b) - xm[b])
				}
				if !near(g.G.At(a, b), s, 1e-9) {
					t.Fatalf("center %v: G[%d][%d] = %v, want %v", center, a, b, g.G.At(a, b), s)
				}
			}
		}
	}
}

func TestEstimatorBadInput(t *testing.T) {
	t.Parallel()
	good := &Matrix{Rows: 3, Cols: 1, Data: []float64{1, 2, 3}}
	cases := []struct {
		name string
		X    *Matrix
		y    []float64
		want string
	}{
		{"nil X", nil, nil, "X is empty"},
		{"empty X", &Matrix{}, nil, "X is empty"},
		{"no columns", &Matrix{Rows: 2}, []float64{1, 2}, "X has no columns"},
		{"short data", &Matrix{Rows: 2, Cols: 2, Data: []float64{1}}, []float64{1, 2}, "holds 1 values"},
		{"rows mismatch", good, []float64{1, 2}, "X has 3 rows but y has 2 values"},
		{"NaN in X", &Matrix{Rows: 2, Cols: 1, Data: []float64{1, math.NaN()}}, []float64{1, 2}, "X[1][0] is NaN"},
		{"Inf in X", &Matrix{Rows: 2, Cols: 1, Data: []float64{math.Inf(1), 1}}, []float64{1, 2}, "X[0][0] is +Inf"},
		{"NaN in y", good, []float64{1, math.NaN(), 2}, "y[1] is NaN"},
		{"Inf in y", good, []float64{1, 2, math.Inf(-1)}, "y[2] is -Inf"},
	}
	for _, name := range []string{LinearRegressionName, RidgeName} {
		for _, tc := range cases {
			e, _ := NewEstimator(name, nil)
			if err := e.Fit(good, []float64{1, 2, 4}); err != nil {
				t.Fatal(err)
			}
			before, _ := MarshalEstimator(e)
			err := e.Fit(tc.X, tc.y)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), name+": fit: ") {
				t.Errorf("%s %s: err = %v, want %q", name, tc.name, err, tc.want)
			}
			after, _ := MarshalEstimator(e)
			if string(before) != string(after) {
				t.Errorf("%s %s: a failed fit changed the model", name, tc.name)
			}
		}
		e, _ := NewEstimator(name, nil)
		if _, err := e.Predict(good); err == nil || !strings.Contains(err.Error(), "not fitted") {
			t.Errorf("%s: predict before fit: %v", name, err)
		}
		if e.FeatureImportances() != nil {
			t.Errorf("%s: importances before fit", name)
		}
		_ = e.Fit(good, []float64{1, 2, 4})
		if _, err := e.Predict(&Matrix{Rows: 1, Cols: 2, Data: []float64{1, 2}}); err == nil || !strings.Contains(err.Error(), "X has 2 columns, the model was fitted on 1") {
			t.Errorf("%s: predict wrong width: %v", name, err)
		}
		if _, err := e.Predict(&Matrix{Rows: 1, Cols: 1, Data: []float64{math.NaN()}}); err == nil {
			t.Errorf("%s: predict NaN: no error", name)
		}
	}
	// Huge values that overflow the normal equations are an error, not a NaN model.
	huge := &Matrix{Rows: 3, Cols: 1, Data: []float64{1e200, -1e200, 3e200}}
	e, _ := NewRidge(nil)
	if err := e.Fit(huge, []float64{1, 2, 3}); err == nil {
		t.Errorf("huge: no error, model %+v", e.LinearModel)
	}
}

func TestRegistry(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		params map[string]any
		want   string
	}{
		{"no_such_estimator", nil, `unknown estimator "no_such_estimator"; registered: `},
		{RidgeName, map[string]any{"alpah": 1}, `ridge: unknown param "alpah"; allowed params: alpha, fit_intercept`},
		{RidgeName, map[string]any{"alpha": "1"}, `ridge: param "alpha" must be a finite number, got string 1`},
		{RidgeName, map[string]any{"alpha": -1}, `ridge: param "alpha" must be >= 0, got -1`},
		{LinearRegressionName, map[string]any{"fit_intercept": 1}, `linear_regression: param "fit_intercept" must be true or false, got int 1`},
		{LinearRegressionName, map[string]any{"alpha": 1}, `linear_regression: unknown param "alpha"; allowed params: fit_intercept`},
	}
	for _, tc := range cases {
		_, err := NewEstimator(tc.name, tc.params)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewEstimator(%s, %v): err = %v, want %q", tc.name, tc.params, err, tc.want)
		}
	}
	// Numbers of any type, and JSON numbers, are accepted.
	for _, alpha := range []any{2, int64(2), float32(2), 2.0, json.Number("2")} {
		e, err := NewEstimator(RidgeName, map[string]any{"alpha": alpha})
		if err != nil || e.(*Ridge).Alpha != 2 {
			t.Errorf("alpha %T: %v %v", alpha, e, err)
		}
	}
	if got := Estimators(); !slices.IsSorted(got) || !slices.Contains(got, LinearRegressionName) || !slices.Contains(got, RidgeName) {
		t.Errorf("Estimators() = %v", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("registering ridge twice did not panic")
		}
	}()
	Register(RidgeName, func(map[string]any) (Estimator, error) { return nil, nil })
}

func TestEstimatorRoundTrip(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(6, 6))
	X := randomMatrix(rng, 50, 4)
	y := make([]float64, 50)
	for i := range y {
		y[i] = X.At(i, 0) - X.At(i, 3) + rng.NormFloat64()
	}
	for _, name := range []string{LinearRegressionName, RidgeName} {
		e, _ := NewEstimator(name, map[string]any{"fit_intercept": false})
		if err := e.Fit(X, y); err != nil {
			t.Fatal(err)
		}
		data, err := MarshalEstimator(e)
		if err != nil {
			t.Fatal(err)
		}
		back, err := UnmarshalEstimator(name, data)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(e, back) {
			t.Fatalf("%s: round trip: %s", name, data)
		}
		p1, _ := e.Predict(X)
		p2, _ := back.Predict(X)
		if !reflect.DeepEqual(p1, p2) {
			t.Fatalf("%s: predictions differ after round trip", name)
		}
		imp := back.FeatureImportances()
		var s float64
		for _, v := range imp {
			s += v
		}
		if len(imp) != 4 || !near(s, 1, 1e-12) || imp[1] > imp[0] {
			t.Fatalf("%s: importances %v", name, imp)
		}
	}
	if _, err := UnmarshalEstimator(RidgeName, []byte(`{"alpha":1,"coef":[1,2],"intercept":"x"}`)); err == nil {
		t.Error("bad JSON: no error")
	}
	if _, err := UnmarshalEstimator(RidgeName, []byte(`{"alpha":-1,"coef":[1]}`)); err == nil {
		t.Error("negative alpha: no error")
	}
	if _, err := UnmarshalEstimator("nope", []byte(`{}`)); err == nil {
		t.Error("unknown estimator: no error")
	}
}
