package ml

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"reflect"
	"strconv"
	"testing"

	"github.com/sous-ml/sous/recipes/frame"
)

// expected is testdata/metrics_expected.json, written by
// testdata/metrics_expected.py with scikit-learn.
type expected struct {
	SklearnVersion string `json:"sklearn_version"`
	Metrics        []struct {
		Name     string             `json:"name"`
		YTrue    []float64          `json:"y_true"`
		YPred    []float64          `json:"y_pred"`
		Expected map[string]float64 `json:"expected"`
	} `json:"metrics"`
	Transformers struct {
		X              []float64 `json:"x"`
		Probe          []float64 `json:"probe"`
		StandardScaler struct {
			Mean, Scale float64
			Probe       []float64
		} `json:"standard_scaler"`
		MinMaxScaler struct {
			FeatureRange []float64 `json:"feature_range"`
			Probe        []float64
		} `json:"min_max_scaler"`
		RobustScaler struct {
			QuantileRange []float64 `json:"quantile_range"`
			Center, Scale float64
			Probe         []float64
		} `json:"robust_scaler"`
		Binning struct {
			NBins int `json:"n_bins"`
			Edges []float64
			Probe []float64
		} `json:"binning"`
		OneHot struct {
			Categories    []string    `json:"categories"`
			MaxCategories int         `json:"max_categories"`
			Infrequent    []string    `json:"infrequent"`
			Probe         []string    `json:"probe"`
			ProbeOut      [][]float64 `json:"probe_out"`
		} `json:"one_hot"`
	} `json:"transformers"`
	RankDeficient struct {
		X         [][]float64 `json:"X"`
		Y         []float64   `json:"y"`
		Coef      []float64   `json:"coef"`
		Intercept float64     `json:"intercept"`
		Probe     [][]float64 `json:"probe"`
		ProbePred []float64   `json:"probe_pred"`
	} `json:"rank_deficient"`
	Wine struct {
		File           string    `json:"file"`
		Features       []string  `json:"features"`
		TrainRows      int       `json:"train_rows"`
		TestRows       int       `json:"test_rows"`
		RidgeAlpha     float64   `json:"ridge_alpha"`
		RidgeCoef      []float64 `json:"ridge_coef"`
		RidgeIntercept float64   `json:"ridge_intercept"`
		RidgeTestR2    float64   `json:"ridge_test_r2"`
		RidgeTestRMSE  float64   `json:"ridge_test_rmse"`
		OLSTestR2      float64   `json:"ols_test_r2"`
	} `json:"wine"`
}

func loadExpected(t *testing.T) *expected {
	t.Helper()
	data, err := os.ReadFile("testdata/metrics_expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var e expected
	if err := json.Unmarshal(data, &e); err != nil {
		t.Fatal(err)
	}
	return &e
}

func TestRegressionMetricsMatchSklearn(t *testing.T) {
	t.Parallel()
	exp := loadExpected(t)
	if len(exp.Metrics) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range exp.Metrics {
		got := RegressionMetrics(c.YTrue, c.YPred)
		if len(got) != len(c.Expected) {
			t.Errorf("%s: got metrics %v, want %v", c.Name, got, c.Expected)
		}
		for name, want := range c.Expected {
			if g, ok := got[name]; !ok || !near(g, want, 1e-9) {
				t.Errorf("%s: %s = %v, scikit-learn %s says %v", c.Name, name, g, exp.SklearnVersion, want)
			}
		}
	}
}

func matrixFrom(rows [][]float64) *Matrix {
	m := NewMatrix(len(rows), len(rows[0]))
	for i, r := range rows {
		copy(m.Row(i), r)
	}
	return m
}

func TestTransformersMatchSklearn(t *testing.T) {
	t.Parallel()
	e := loadExpected(t).Transformers
	train, probe := mkFrame(floatCol("x", e.X...)), mkFrame(floatCol("x", e.Probe...))
	fr := func(lo, hi float64) []any { return []any{lo, hi} }
	cases := []struct {
		g    GroupSpec
		want []float64
	}{
		{group(StandardScaler, nil, "x"), e.StandardScaler.Probe},
		{group(MinMaxScaler, map[string]any{"feature_range": fr(e.MinMaxScaler.FeatureRange[0], e.MinMaxScaler.FeatureRange[1])}, "x"), e.MinMaxScaler.Probe},
		{group(RobustScaler, map[string]any{"quantile_range": fr(e.RobustScaler.QuantileRange[0], e.RobustScaler.QuantileRange[1])}, "x"), e.RobustScaler.Probe},
		{group(Binning, map[string]any{"n_bins": e.Binning.NBins, "encode": "ordinal"}, "x"), e.Binning.Probe},
	}
	for _, c := range cases {
		tr := mustFit(t, TransformSpec{Groups: []GroupSpec{c.g}}, train)
		assertSlice(t, c.g.Transformer, mustTransform(t, tr, probe).Data, c.want, 1e-12)
		if c.g.Transformer == Binning {
			assertSlice(t, "edges", tr.Columns[0].Bins.Edges, e.Binning.Edges, 1e-12)
		}
	}

	oh := mustFit(t, TransformSpec{Groups: []GroupSpec{group(OneHot, map[string]any{"max_categories": e.OneHot.MaxCategories}, "s")}},
		mkFrame(strCol("s", e.OneHot.Categories...)))
	if got := oh.Columns[0].Categorical.Infrequent; !reflect.DeepEqual(got, e.OneHot.Infrequent) {
		t.Fatalf("infrequent = %v, scikit-learn says %v", got, e.OneHot.Infrequent)
	}
	m := mustTransform(t, oh, mkFrame(strCol("s", e.OneHot.Probe...)))
	if want := matrixFrom(e.OneHot.ProbeOut); !reflect.DeepEqual(m, want) {
		t.Fatalf("one_hot = %v, scikit-learn says %v", m.Data, want.Data)
	}
}

// TestRankDeficientMatchesSklearn checks that linear_regression finds
// scikit-learn's minimum-norm solution on a one-hot + intercept design, so
// that even a row with an unseen category (all one-hot columns 0) gets the
// same prediction.
func TestRankDeficientMatchesSklearn(t *testing.T) {
	t.Parallel()
	e := loadExpected(t).RankDeficient
	lr, _ := NewLinearRegression(nil)
	if err := lr.Fit(matrixFrom(e.X), e.Y); err != nil {
		t.Fatal(err)
	}
	assertSlice(t, "coef", lr.Coef, e.Coef, 1e-9)
	if !near(lr.Intercept, e.Intercept, 1e-9) {
		t.Fatalf("intercept = %v, want %v", lr.Intercept, e.Intercept)
	}
	pred, err := lr.Predict(matrixFrom(e.Probe))
	if err != nil {
		t.Fatal(err)
	}
	assertSlice(t, "probe", pred, e.ProbePred, 1e-9)
}

const wineDir = "/work/shared/data/wine-quality/"

// readWine reads the combined wine-quality csv (an unnamed index column
// first) into a frame with float feature columns and the float target.
func readWine(t testing.TB, file string) *frame.Frame {
	t.Helper()
	fh, err := os.Open(wineDir + file)
	if os.IsNotExist(err) {
		t.Skipf("wine data not present: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	rows, err := csv.NewReader(fh).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	header := rows[0]
	f := &frame.Frame{}
	for j := 1; j < len(header); j++ {
		c := &frame.Column{Name: header[j], Kind: frame.Float, Floats: make([]float64, len(rows)-1)}
		for i, r := range rows[1:] {
			if c.Floats[i], err = strconv.ParseFloat(r[j], 64); err != nil {
				t.Fatalf("row %d column %s: %v", i+1, header[j], err)
			}
		}
		f.Cols = append(f.Cols, c)
	}
	return f
}

// TestWineRidge reproduces scikit-learn's StandardScaler + Ridge(alpha=1) on
// the wine-quality data (rows i % 5 == 0 held out): the same coefficients,
// and a test R² no worse than scikit-learn's.
func TestWineRidge(t *testing.T) {
	t.Parallel()
	exp := loadExpected(t).Wine
	all := readWine(t, exp.File)
	var trainIdx, testIdx []int
	for i := 0; i < all.Len(); i++ {
		if i%5 == 0 {
			testIdx = append(testIdx, i)
		} else {
			trainIdx = append(trainIdx, i)
		}
	}
	train, test := all.Take(trainIdx), all.Take(testIdx)
	if train.Len() != exp.TrainRows || test.Len() != exp.TestRows {
		t.Fatalf("split %d/%d, want %d/%d", train.Len(), test.Len(), exp.TrainRows, exp.TestRows)
	}
	tr := mustFit(t, TransformSpec{Groups: []GroupSpec{group(StandardScaler, nil, exp.Features...)}, Target: "quality"}, train)
	Xtr, Xte := mustTransform(t, tr, train), mustTransform(t, tr, test)
	ytr, _ := train.Col("quality")
	yte, _ := test.Col("quality")

	ridge, err := NewEstimator(RidgeName, map[string]any{"alpha": exp.RidgeAlpha})
	if err != nil {
		t.Fatal(err)
	}
	if err := ridge.Fit(Xtr, ytr.Floats); err != nil {
		t.Fatal(err)
	}
	r := ridge.(*Ridge)
	assertSlice(t, "ridge coef", r.Coef, exp.RidgeCoef, 1e-9)
	if !near(r.Intercept, exp.RidgeIntercept, 1e-9) {
		t.Fatalf("intercept = %v, scikit-learn %v", r.Intercept, exp.RidgeIntercept)
	}
	pred, err := ridge.Predict(Xte)
	if err != nil {
		t.Fatal(err)
	}
	m := RegressionMetrics(yte.Floats, pred)
	t.Logf("ridge test r2 %.6f rmse %.6f (scikit-learn %.6f %.6f)", m[MetricR2], m[MetricRMSE], exp.RidgeTestR2, exp.RidgeTestRMSE)
	if m[MetricR2] < exp.RidgeTestR2-1e-9 {
		t.Fatalf("ridge test r2 %v is below scikit-learn's %v", m[MetricR2], exp.RidgeTestR2)
	}

	ols, _ := NewEstimator(LinearRegressionName, nil)
	if err := ols.Fit(Xtr, ytr.Floats); err != nil {
		t.Fatal(err)
	}
	pred, _ = ols.Predict(Xte)
	if r2 := RegressionMetrics(yte.Floats, pred)[MetricR2]; !near(r2, exp.OLSTestR2, 1e-9) {
		t.Fatalf("linear_regression test r2 %v, scikit-learn %v", r2, exp.OLSTestR2)
	}
}
