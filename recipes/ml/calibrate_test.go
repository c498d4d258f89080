package ml

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sous-ml/sous/recipes/frame"
)

// calibrateExpected is testdata/calibrate_expected.json, written by
// testdata/calibrate_expected.py with scikit-learn.
type calibrateExpected struct {
	SklearnVersion string `json:"sklearn_version"`
	Sigmoid        []struct {
		Name         string    `json:"name"`
		Scores       []float64 `json:"scores"`
		Y            []int     `json:"y"`
		SklearnA     float64   `json:"sklearn_a"`
		SklearnB     float64   `json:"sklearn_b"`
		ExactA       float64   `json:"exact_a"`
		ExactB       float64   `json:"exact_b"`
		TestScores   []float64 `json:"test_scores"`
		SklearnProba []float64 `json:"sklearn_proba"`
		ExactProba   []float64 `json:"exact_proba"`
	} `json:"sigmoid"`
	Isotonic []struct {
		Name        string    `json:"name"`
		Scores      []float64 `json:"scores"`
		Y           []int     `json:"y"`
		XThresholds []float64 `json:"x_thresholds"`
		YThresholds []float64 `json:"y_thresholds"`
		TestScores  []float64 `json:"test_scores"`
		Predict     []float64 `json:"predict"`
	} `json:"isotonic"`
	Classifier []struct {
		Name      string      `json:"name"`
		Method    string      `json:"method"`
		Classes   int         `json:"classes"`
		CalProba  [][]float64 `json:"cal_proba"`
		CalY      []int       `json:"cal_y"`
		TestProba [][]float64 `json:"test_proba"`
		Proba     [][]float64 `json:"proba"`
	} `json:"classifier"`
}

var calibrateExpectedOnce = sync.OnceValues(func() (*calibrateExpected, error) {
	data, err := os.ReadFile("testdata/calibrate_expected.json")
	if err != nil {
		return nil, err
	}
	var e calibrateExpected
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, err
	}
	return &e, nil
})

func loadCalibrateExpected(t testing.TB) *calibrateExpected {
	t.Helper()
	e, err := calibrateExpectedOnce()
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func positives(y []int) []bool {
	out := make([]bool, len(y))
	for i, v := range y {
		out[i] = v == 1
	}
	return out
}

func rowsMatrix(rows [][]float64) *Matrix {
	if len(rows) == 0 {
		return &Matrix{}
	}
	m := NewMatrix(len(rows), len(rows[0]))
	for i, r := range rows {
		copy(m.Row(i), r)
	}
	return m
}

// maxDiff is the largest |got-want| (sizes must match).
func maxDiff(t *testing.T, what string, got, want []float64) float64 {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	var d float64
	for i := range got {
		d = math.Max(d, math.Abs(got[i]-want[i]))
	}
	return d
}

// TestSigmoidCalibrationMatchesSklearn compares Platt fits with
// scikit-learn's _sigmoid_calibration. scikit-learn stops BFGS at a
// gradient of 1e-5, so its (a, b) are near the optimum, not at it: they
// agree with ours to 1e-4 (relative; 1.2e-5 at worst, the separable case)
// and the probabilities to 1e-5 (2.9e-6 at worst). The exact optimum of the
// same objective (Newton in numpy to a gradient of 1e-13) agrees to 1e-9
// and 1e-11 (3e-11 and 2e-12 at worst).
func TestSigmoidCalibrationMatchesSklearn(t *testing.T) {
	t.Parallel()
	exp := loadCalibrateExpected(t)
	if len(exp.Sigmoid) == 0 {
		t.Fatal("no sigmoid cases")
	}
	for _, c := range exp.Sigmoid {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			s := fitSigmoid(c.Scores, positives(c.Y))
			if !near(s.A, c.ExactA, 1e-9) || !near(s.B, c.ExactB, 1e-9) {
				t.Errorf("(a, b) = (%v, %v), exact optimum (%v, %v)", s.A, s.B, c.ExactA, c.ExactB)
			}
			if !near(s.A, c.SklearnA, 1e-4) || !near(s.B, c.SklearnB, 1e-4) {
				t.Errorf("(a, b) = (%v, %v), scikit-learn %s (%v, %v)", s.A, s.B, exp.SklearnVersion, c.SklearnA, c.SklearnB)
			}
			got := make([]float64, len(c.TestScores))
			for i, v := range c.TestScores {
				got[i] = s.predict(v)
			}
			dExact, dSk := maxDiff(t, "exact", got, c.ExactProba), maxDiff(t, "sklearn", got, c.SklearnProba)
			if dExact > 1e-11 || dSk > 1e-5 {
				t.Errorf("probabilities differ by %.3g from the exact optimum's and %.3g from scikit-learn's", dExact, dSk)
			}
			t.Logf("|Δa| %.2g |Δb| %.2g |Δp| %.2g vs scikit-learn; |Δa| %.2g |Δp| %.2g vs the exact optimum",
				math.Abs(s.A-c.SklearnA), math.Abs(s.B-c.SklearnB), dSk, math.Abs(s.A-c.ExactA), dExact)
		})
	}
}

// TestIsotonicCalibrationMatchesSklearn compares isotonic fits with
// scikit-learn's IsotonicRegression(out_of_bounds="clip"): the thresholds
// are the same numbers, the predictions agree to 1e-12.
func TestIsotonicCalibrationMatchesSklearn(t *testing.T) {
	t.Parallel()
	exp := loadCalibrateExpected(t)
	if len(exp.Isotonic) == 0 {
		t.Fatal("no isotonic cases")
	}
	for _, c := range exp.Isotonic {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			curve := fitIsotonic(c.Scores, positives(c.Y))
			assertSlice(t, "x thresholds", curve.X, c.XThresholds, 0)
			assertSlice(t, "y thresholds", curve.Y, c.YThresholds, 1e-15)
			got := make([]float64, len(c.TestScores))
			for i, v := range c.TestScores {
				got[i] = curve.predict(v)
			}
			assertSlice(t, "predictions", got, c.Predict, 1e-12)
			if err := curve.check(); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestCalibratorMatchesSklearn runs FitCalibrator and Apply where
// scikit-learn ran CalibratedClassifierCV(cv="prefit").fit and
// predict_proba on the same probabilities: binary (one curve, p0 = 1-p1)
// and 3-class (one-vs-rest, rows renormalised; the isotonic case has a row
// every curve maps to 0, which becomes uniform).
func TestCalibratorMatchesSklearn(t *testing.T) {
	t.Parallel()
	exp := loadCalibrateExpected(t)
	if len(exp.Classifier) == 0 {
		t.Fatal("no classifier cases")
	}
	for _, c := range exp.Classifier {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			cal, err := FitCalibrator(c.Method, rowsMatrix(c.CalProba), c.CalY)
			if err != nil {
				t.Fatal(err)
			}
			if cal.Classes != c.Classes || len(cal.Sigmoid)+len(cal.Isotonic) != curves(c.Classes) {
				t.Fatalf("calibrator %+v", cal)
			}
			got, err := cal.Apply(rowsMatrix(c.TestProba))
			if err != nil {
				t.Fatal(err)
			}
			want := rowsMatrix(c.Proba)
			tol := 1e-12 // isotonic: the same arithmetic
			if c.Method == CalibrationSigmoid {
				tol = 1e-5 // scikit-learn's BFGS stops short of the optimum
			}
			d := maxDiff(t, "proba", got.Data, want.Data)
			if d > tol {
				t.Errorf("calibrated probabilities differ from scikit-learn's by %.3g (tolerance %g)", d, tol)
			}
			t.Logf("max |Δp| vs scikit-learn %s: %.2g", exp.SklearnVersion, d)
			for i := range got.Rows {
				var sum float64
				for _, v := range got.Row(i) {
					if !(v >= 0 && v <= 1) {
						t.Fatalf("row %d: %v", i, got.Row(i))
					}
					sum += v
				}
				if math.Abs(sum-1) > 1e-12 {
					t.Fatalf("row %d sums to %v", i, sum)
				}
			}
		})
	}
}

// TestFitCalibratorRejectsBadInput: every input a calibrator cannot be
// fitted on is an error that says why, never a panic or a NaN curve.
func TestFitCalibratorRejectsBadInput(t *testing.T) {
	t.Parallel()
	binary := func(ps ...float64) *Matrix {
		m := NewMatrix(len(ps), 2)
		for i, p := range ps {
			m.Set(i, 0, 1-p)
			m.Set(i, 1, p)
		}
		return m
	}
	three := rowsMatrix([][]float64{{0.7, 0.2, 0.1}, {0.1, 0.8, 0.1}, {0.3, 0.3, 0.4}, {0.6, 0.3, 0.1}})
	tests := []struct {
		name   string
		method string
		proba  *Matrix
		y      []int
		want   string
	}{
		{"unknown method", "platt", binary(0.2, 0.8), []int{0, 1}, `unknown method "platt" (methods: sigmoid, isotonic)`},
		{"nil", CalibrationSigmoid, nil, nil, "the calibration set is empty"},
		{"no rows", CalibrationIsotonic, NewMatrix(0, 2), nil, "the calibration set is empty"},
		{"one column", CalibrationSigmoid, NewMatrix(2, 1), []int{0, 0}, "probabilities have 1 columns; calibration needs a classifier of at least two classes"},
		{"malformed", CalibrationSigmoid, &Matrix{Rows: 2, Cols: 2, Data: []float64{1}}, []int{0, 1}, "matrix is 2×2 but holds 1 values"},
		{"length", CalibrationSigmoid, binary(0.2, 0.8), []int{0}, "2 rows of probabilities but 1 labels"},
		{"single class", CalibrationSigmoid, binary(0.2, 0.8, 0.6), []int{1, 1, 1}, "no row of class 0 in the calibration set"},
		{"single class isotonic", CalibrationIsotonic, binary(0.2, 0.8), []int{0, 0}, "no row of class 1 in the calibration set"},
		{"class missing from multiclass", CalibrationSigmoid, three, []int{0, 1, 1, 0}, "no row of class 2 in the calibration set; calibration needs rows of every class (counts by class: [2 2 0])"},
		{"NaN score", CalibrationSigmoid, binary(0.2, math.NaN()), []int{0, 1}, "the score of class 0 in row 1 is NaN; scores must be finite"},
		{"infinite score", CalibrationIsotonic, binary(0.2, math.Inf(1)), []int{0, 1}, "the score of class 0 in row 1 is -Inf"},
		{"label out of range", CalibrationSigmoid, binary(0.2, 0.8), []int{0, 2}, "label 2 of row 1 is not a class index in [0, 2)"},
		{"negative label", CalibrationSigmoid, binary(0.2, 0.8), []int{-1, 1}, "label -1 of row 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cal, err := FitCalibrator(tt.method, tt.proba, tt.y)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("FitCalibrator = %+v, %v; want an error containing %q", cal, err, tt.want)
			}
		})
	}
}

// TestCalibratorDegenerateScores: scores that carry no information (all
// equal) or separate the classes perfectly still give finite curves and
// probabilities that sum to 1.
func TestCalibratorDegenerateScores(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		proba [][]float64
		y     []int
	}{
		{"constant binary", [][]float64{{0.5, 0.5}, {0.5, 0.5}, {0.5, 0.5}, {0.5, 0.5}}, []int{0, 1, 1, 1}},
		{"zero one", [][]float64{{1, 0}, {1, 0}, {0, 1}, {0, 1}}, []int{0, 0, 1, 1}},
		{"separable", [][]float64{{0.9, 0.1}, {0.8, 0.2}, {0.3, 0.7}, {0.1, 0.9}}, []int{0, 0, 1, 1}},
		{"wrong way round", [][]float64{{0.1, 0.9}, {0.2, 0.8}, {0.7, 0.3}, {0.9, 0.1}}, []int{0, 0, 1, 1}},
		{"constant multiclass", [][]float64{{1, 0, 0}, {1, 0, 0}, {1, 0, 0}}, []int{0, 1, 2}},
		{"one row per class", [][]float64{{0.6, 0.3, 0.1}, {0.2, 0.5, 0.3}, {0.1, 0.1, 0.8}}, []int{0, 1, 2}},
	}
	probe := rowsMatrix([][]float64{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {0.5, 0.5, 0}, {0.2, 0.3, 0.5}})
	for _, tt := range tests {
		for _, method := range CalibrationMethods() {
			t.Run(tt.name+"/"+method, func(t *testing.T) {
				t.Parallel()
				cal, err := FitCalibrator(method, rowsMatrix(tt.proba), tt.y)
				if err != nil {
					t.Fatal(err)
				}
				k := len(tt.proba[0])
				in := NewMatrix(probe.Rows, k)
				for i := range in.Rows {
					row := probe.Row(i)[:k]
					var s float64
					for _, v := range row {
						s += v
					}
					for j, v := range row {
						if s == 0 {
							v, s = 1, float64(k) // a probe with no mass in the first k columns
						}
						in.Set(i, j, v/s)
					}
				}
				out, err := cal.Apply(in)
				if err != nil {
					t.Fatal(err)
				}
				for i := range out.Rows {
					var sum float64
					for _, v := range out.Row(i) {
						if !(v >= 0 && v <= 1) {
							t.Fatalf("row %d = %v (calibrator %+v)", i, out.Row(i), cal)
						}
						sum += v
					}
					if math.Abs(sum-1) > 1e-12 {
						t.Fatalf("row %d sums to %v", i, sum)
					}
				}
			})
		}
	}
}

// TestCalibratorValidate rejects decoded state that would misbehave.
func TestCalibratorValidate(t *testing.T) {
	t.Parallel()
	good := func() *Calibrator {
		return &Calibrator{Method: CalibrationIsotonic, Scores: ScoresPredictProba, Classes: 2,
			Isotonic: []IsotonicCurve{{X: []float64{0.1, 0.5}, Y: []float64{0, 1}}}}
	}
	if err := good().Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(c *Calibrator)
		want string
	}{
		{"decision values", func(c *Calibrator) { c.Scores = "decision_function" }, `scores "decision_function" are not supported`},
		{"no scores", func(c *Calibrator) { c.Scores = "" }, `scores "" are not supported`},
		{"one class", func(c *Calibrator) { c.Classes = 1 }, "1 classes; want at least 2"},
		{"unknown method", func(c *Calibrator) { c.Method = "beta" }, `unknown method "beta"`},
		{"curve count", func(c *Calibrator) { c.Classes = 3 }, "1 isotonic and 0 sigmoid curves for 3 classes; want 3 isotonic"},
		{"mixed curves", func(c *Calibrator) { c.Sigmoid = []SigmoidCurve{{A: -1}} }, "want 1 isotonic"},
		{"sigmoid NaN", func(c *Calibrator) {
			c.Method, c.Isotonic, c.Sigmoid = CalibrationSigmoid, nil, []SigmoidCurve{{A: math.NaN()}}
		}, "sigmoid curve 0 has a non-finite parameter"},
		{"empty curve", func(c *Calibrator) { c.Isotonic[0] = IsotonicCurve{} }, "0 thresholds and 0 values"},
		{"lengths", func(c *Calibrator) { c.Isotonic[0].Y = c.Isotonic[0].Y[:1] }, "2 thresholds and 1 values"},
		{"unsorted", func(c *Calibrator) { c.Isotonic[0].X = []float64{0.5, 0.1} }, "thresholds 0 and 1 are not increasing"},
		{"decreasing", func(c *Calibrator) { c.Isotonic[0].Y = []float64{1, 0} }, "thresholds 0 and 1 are not increasing"},
		{"value above 1", func(c *Calibrator) { c.Isotonic[0].Y[1] = 1.5 }, "threshold 1 is (0.5, 1.5)"},
		{"NaN value", func(c *Calibrator) { c.Isotonic[0].Y[0] = math.NaN() }, "threshold 0 is (0.1, NaN)"},
		{"infinite threshold", func(c *Calibrator) { c.Isotonic[0].X[1] = math.Inf(1) }, "threshold 1 is (+Inf, 1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := good()
			tt.edit(c)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate = %v, want %q", err, tt.want)
			}
		})
	}
	var nilCal *Calibrator
	if err := nilCal.Validate(); err == nil {
		t.Error("a nil calibrator validates")
	}
	if _, err := good().Apply(rowsMatrix([][]float64{{0.1, 0.2, 0.7}})); err == nil || !strings.Contains(err.Error(), "fitted on 2 classes") {
		t.Errorf("Apply on 3 columns: %v", err)
	}
	if _, err := good().Apply(rowsMatrix([][]float64{{0.5, math.NaN()}})); err == nil || !strings.Contains(err.Error(), "is NaN") {
		t.Errorf("Apply on NaN: %v", err)
	}
}

// goldenClassFrame is goldenFrame with a 3-class target cut from the fare.
func goldenClassFrame(n int, scoring bool) (*frame.Frame, []int) {
	f := goldenFrame(n, scoring)
	fare, _ := f.Col("fare_amount")
	y := make([]int, n)
	for i := range y {
		switch v := fare.Float(i); {
		case v < 10:
			y[i] = 0
		case v < 16:
			y[i] = 1
		default:
			y[i] = 2
		}
	}
	return f, y
}

func floatsOf(y []int) []float64 {
	out := make([]float64, len(y))
	for i, v := range y {
		out[i] = float64(v)
	}
	return out
}

// calibratedBundle fits a 3-class decision tree on rows 0..119 of the golden
// frame and a calibrator of the given method on rows 120..199, as the
// train step does with the training and validation splits.
func calibratedBundle(t *testing.T, method string) *Bundle {
	t.Helper()
	all, yAll := goldenClassFrame(200, false)
	train := all.Take(seq(0, 120))
	val := all.Take(seq(120, 200))
	tr := mustFit(t, goldenSpec(), train)
	X := mustTransform(t, tr, train)
	est, err := NewEstimator(DecisionTreeName, map[string]any{"criterion": CriterionGini, "max_depth": int64(3)})
	if err != nil {
		t.Fatal(err)
	}
	if err := est.Fit(X, floatsOf(yAll[:120])); err != nil {
		t.Fatal(err)
	}
	proba, err := est.(Classifier).PredictProba(mustTransform(t, tr, val))
	if err != nil {
		t.Fatal(err)
	}
	cal, err := FitCalibrator(method, proba, yAll[120:])
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewBundle("classification/v1", "fare_amount", tr, est)
	if err != nil {
		t.Fatal(err)
	}
	b.ClassLabels = []string{"low", "mid", "high"}
	b.Calibrator = cal
	b.Created = time.Date(2025, 6, 1, 2, 3, 4, 0, time.UTC)
	return b
}

func seq(from, to int) []int {
	out := make([]int, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// bundleProba is the bundle's probabilities of f, through Model as the
// evaluate and predict steps read them.
func bundleProba(t *testing.T, b *Bundle, f *frame.Frame) *Matrix {
	t.Helper()
	m, err := b.Model()
	if err != nil {
		t.Fatal(err)
	}
	c, ok := m.(Classifier)
	if !ok {
		t.Fatalf("model %T is not a classifier", m)
	}
	X, err := b.Transformer.Transform(f)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.PredictProba(X)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCalibratedBundle: a bundle with a calibrator is written as format
// version 2, reads back equal, and predicts calibrated probabilities (and
// their argmax as the class) through Model and Predict; the same bundle
// without its calibrator is still version 1.
func TestCalibratedBundle(t *testing.T) {
	t.Parallel()
	for _, method := range CalibrationMethods() {
		t.Run(method, func(t *testing.T) {
			t.Parallel()
			b := calibratedBundle(t, method)
			var buf bytes.Buffer
			if err := b.Encode(&buf); err != nil {
				t.Fatal(err)
			}
			back, err := DecodeBundle(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if back.FormatVersion != 2 {
				t.Errorf("format version %d, want 2", back.FormatVersion)
			}
			b.FormatVersion = 2
			if !reflect.DeepEqual(b, back) {
				t.Fatalf("round trip changed the bundle:\n%+v\n%+v", b, back)
			}
			m, err := back.Model()
			if err != nil {
				t.Fatal(err)
			}
			cc, ok := m.(*CalibratedClassifier)
			if !ok || cc.Name() != DecisionTreeName || cc.Classes() != 3 || cc.Calibrator().Method != method {
				t.Fatalf("model %T %+v", m, m)
			}
			scoring, _ := goldenClassFrame(40, true)
			X, err := back.Transformer.Transform(scoring)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := cc.Base().PredictProba(X)
			want, _ := b.Calibrator.Apply(raw)
			got := bundleProba(t, back, scoring)
			if !reflect.DeepEqual(got, want) {
				t.Fatal("the decoded bundle's probabilities are not the calibrated ones")
			}
			if reflect.DeepEqual(got, raw) {
				t.Fatal("calibration changed nothing")
			}
			pred, err := back.Predict(scoring)
			if err != nil {
				t.Fatal(err)
			}
			for i, p := range pred {
				if row := got.Row(i); row[int(p)] < row[0] || row[int(p)] < row[1] || row[int(p)] < row[2] {
					t.Fatalf("row %d: predicted %v, probabilities %v", i, p, row)
				}
			}
			if imp := cc.FeatureImportances(); !reflect.DeepEqual(imp, cc.Base().FeatureImportances()) {
				t.Errorf("importances %v", imp)
			}
			if err := cc.Fit(X, pred); err == nil {
				t.Error("Fit of a calibrated classifier succeeded")
			}

			plain := *b
			plain.Calibrator, plain.FormatVersion = nil, 0
			buf.Reset()
			if err := plain.Encode(&buf); err != nil {
				t.Fatal(err)
			}
			if back, err := DecodeBundle(&buf); err != nil || back.FormatVersion != 1 {
				t.Fatalf("uncalibrated bundle: version %v, %v", back, err)
			}
		})
	}
}

// TestCalibratedBundleDecodeErrors: a calibrator a version 1 reader would
// ignore, or one that does not fit the estimator, is refused on decode.
func TestCalibratedBundleDecodeErrors(t *testing.T) {
	t.Parallel()
	b := calibratedBundle(t, CalibrationSigmoid)
	b.FormatVersion = 2
	js, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeBundle(bytes.NewReader(gz(js))); err != nil {
		t.Fatalf("the unedited bundle: %v", err)
	}
	edit := func(f func(doc map[string]any)) []byte {
		var c map[string]any
		_ = json.Unmarshal(js, &c)
		f(c)
		out, _ := json.Marshal(c)
		return gz(out)
	}
	cal := func(doc map[string]any) map[string]any { return doc["calibrator"].(map[string]any) }
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"version 1", edit(func(d map[string]any) { d["format_version"] = 1 }), "a calibrator needs format version 2, the bundle is version 1"},
		{"future version", edit(func(d map[string]any) { d["format_version"] = 3 }), "format version 3 is not supported (this build reads versions 1 to 2)"},
		{"class count", edit(func(d map[string]any) { d["class_labels"] = []string{"a", "b"} }), "2 class labels but the calibrator is for 3 classes"},
		{"estimator classes", edit(func(d map[string]any) {
			c := cal(d)
			c["classes"], c["sigmoid"] = 4, append(c["sigmoid"].([]any), map[string]any{"a": -1, "b": 0})
			d["class_labels"] = []string{"a", "b", "c", "d"}
		}), "the calibrator is for 4 classes but decision_tree has 3"},
		{"bad curve", edit(func(d map[string]any) { cal(d)["sigmoid"] = []any{} }), "0 sigmoid and 0 isotonic curves for 3 classes"},
		{"decision values", edit(func(d map[string]any) { cal(d)["scores"] = "decision_function" }), `scores "decision_function" are not supported`},
		{"regressor", edit(func(d map[string]any) {
			d["estimator_name"] = RidgeName
			d["estimator"] = map[string]any{"fit_intercept": true, "coef": make([]float64, len(d["feature_names"].([]any))), "intercept": 1, "alpha": 1, "solver": "cholesky"}
		}), "estimator ridge has a calibrator but is not a classifier"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := DecodeBundle(bytes.NewReader(tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

const (
	goldenCalibratedPath  = "testdata/golden/calibrated_tree_v2.bundle"
	goldenCalibratedProba = "testdata/golden/calibrated_tree_v2_proba.json"
)

// TestGoldenCalibratedBundle loads a calibrated bundle (format version 2, a
// 3-class decision tree with a sigmoid calibrator) written by an earlier
// version of this package and checks it predicts the probabilities it
// predicted then, and that fitting afresh still gives them. Run with
// -update to rewrite the golden files after an intended change.
func TestGoldenCalibratedBundle(t *testing.T) {
	scoring, _ := goldenClassFrame(40, true)
	fresh := calibratedBundle(t, CalibrationSigmoid)
	if *update {
		var buf bytes.Buffer
		if err := fresh.Encode(&buf); err != nil {
			t.Fatal(err)
		}
		pj, _ := json.MarshalIndent(bundleProba(t, fresh, scoring).Data, "", " ")
		if err := os.MkdirAll(filepath.Dir(goldenCalibratedPath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenCalibratedPath, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenCalibratedProba, append(pj, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d bytes) and %s", goldenCalibratedPath, buf.Len(), goldenCalibratedProba)
	}
	fh, err := os.Open(goldenCalibratedPath)
	if err != nil {
		t.Fatalf("%v (run go test -run TestGoldenCalibratedBundle -update to create it)", err)
	}
	defer fh.Close()
	b, err := DecodeBundle(fh)
	if err != nil {
		t.Fatalf("the golden bundle no longer loads: %v", err)
	}
	var want []float64
	data, err := os.ReadFile(goldenCalibratedProba)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	assertSlice(t, "golden bundle probabilities", bundleProba(t, b, scoring).Data, want, 1e-12)
	assertSlice(t, "freshly fitted probabilities", bundleProba(t, fresh, scoring).Data, want, 1e-9)
	if b.FormatVersion != 2 || b.Calibrator == nil || b.Calibrator.Method != CalibrationSigmoid || len(b.ClassLabels) != 3 {
		t.Fatalf("golden bundle fields: %+v", b)
	}
}
