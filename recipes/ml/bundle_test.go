package ml

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sous-ml/sous/recipes/frame"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// goldenFrame is a deterministic taxi-like frame (no random numbers, so it
// is the same on every Go version and platform) covering every column kind,
// nulls and, for scoring, categories unseen in training.
func goldenFrame(n int, scoring bool) *frame.Frame {
	nan := math.NaN()
	dist := make([]float64, n)
	dur := make([]float64, n)
	tip := make([]float64, n)
	hour := make([]int64, n)
	vendor := make([]string, n)
	rating := make([]string, n)
	flag := make([]bool, n)
	pickup := make([]time.Time, n)
	fare := make([]float64, n)
	t0 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		dist[i] = float64((i*37)%101) / 7
		if i%11 == 3 {
			dist[i] = nan
		}
		dur[i] = float64((i*13)%29) + 0.5
		tip[i] = float64((i*7)%10) / 4
		if i%6 == 1 {
			tip[i] = nan
		}
		hour[i] = int64(i % 24)
		vendor[i] = []string{"a", "b", "c"}[i%3]
		if i%13 == 5 {
			vendor[i] = null
		}
		rating[i] = []string{"low", "mid", "high", "mid"}[i%4]
		flag[i] = i%4 == 0
		pickup[i] = t0.Add(time.Duration(i*37) * time.Minute)
		if scoring {
			if i%5 == 2 {
				vendor[i] = "d"
			}
			if i%7 == 3 {
				hour[i] = 30
				rating[i] = "none"
			}
		}
		d := dist[i]
		if math.IsNaN(d) {
			d = 7
		}
		fare[i] = 2.5 + 1.7*d + 0.3*dur[i] + float64(i%3) - 0.1*float64(i%24) + float64((i*17)%5)/10
	}
	return mkFrame(floatCol("trip_distance", dist...), floatCol("trip_duration", dur...), floatCol("tip", tip...),
		intCol("pickup_hour", hour...), strCol("vendor", vendor...), strCol("rating", rating...),
		boolCol("store_flag", flag...), timeCol("pickup", pickup...), floatCol("fare_amount", fare...))
}

func goldenSpec() TransformSpec {
	return TransformSpec{
		Groups: []GroupSpec{
			group(StandardScaler, nil, "trip_distance"),
			group(Log1p, nil, "trip_duration"),
			group(Impute, map[string]any{"strategy": "median"}, "tip"),
			group(OneHot, map[string]any{"max_categories": 8}, "pickup_hour"),
			group(OneHot, nil, "vendor"),
			group(Ordinal, nil, "rating"),
			group(RobustScaler, nil, "pickup"),
			group(Binning, map[string]any{"n_bins": 3}, "trip_distance"),
		},
		Remainder: Passthrough,
		Target:    "fare_amount",
	}
}

// goldenBundle fits the golden model from scratch.
func goldenBundle(t *testing.T) *Bundle {
	t.Helper()
	train := goldenFrame(120, false)
	tr := mustFit(t, goldenSpec(), train)
	X := mustTransform(t, tr, train)
	y, _ := train.Col("fare_amount")
	est, err := NewEstimator(RidgeName, map[string]any{"alpha": 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if err := est.Fit(X, y.Floats); err != nil {
		t.Fatal(err)
	}
	pred, _ := est.Predict(X)
	b, err := NewBundle("regression/v1", "fare_amount", tr, est)
	if err != nil {
		t.Fatal(err)
	}
	b.Derive = []Derived{{Name: "trip_duration", Expr: "minutes(tpep_dropoff_datetime - tpep_pickup_datetime)"}}
	b.Created = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	b.Metrics = RegressionMetrics(y.Floats, pred)
	return b
}

const (
	goldenBundlePath = "testdata/golden/ridge_v1.bundle"
	goldenPredPath   = "testdata/golden/ridge_v1_predictions.json"
)

// TestGoldenRidgeBundle loads a bundle written by an earlier version of this
// package and checks it predicts what it predicted then, and that fitting
// afresh still gives those predictions. Run with -update to rewrite the
// golden files after an intended change (and bump BundleFormatVersion if
// old bundles no longer load).
func TestGoldenRidgeBundle(t *testing.T) {
	scoring := goldenFrame(40, true)
	fresh := goldenBundle(t)
	if *update {
		var buf bytes.Buffer
		if err := fresh.Encode(&buf); err != nil {
			t.Fatal(err)
		}
		pred, err := fresh.Predict(scoring)
		if err != nil {
			t.Fatal(err)
		}
		pj, _ := json.MarshalIndent(pred, "", " ")
		if err := os.MkdirAll(filepath.Dir(goldenBundlePath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenBundlePath, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenPredPath, append(pj, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d bytes) and %s", goldenBundlePath, buf.Len(), goldenPredPath)
	}
	fh, err := os.Open(goldenBundlePath)
	if err != nil {
		t.Fatalf("%v (run go test -run TestGoldenRidgeBundle -update to create it)", err)
	}
	defer fh.Close()
	b, err := DecodeBundle(fh)
	if err != nil {
		t.Fatalf("the golden bundle no longer loads: %v", err)
	}
	var want []float64
	data, err := os.ReadFile(goldenPredPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	got, err := b.Predict(scoring)
	if err != nil {
		t.Fatal(err)
	}
	assertSlice(t, "golden bundle predictions", got, want, 1e-12)
	got, err = fresh.Predict(scoring)
	if err != nil {
		t.Fatal(err)
	}
	assertSlice(t, "freshly fitted predictions", got, want, 1e-9)
	if b.EstimatorName != RidgeName || b.Template != "regression/v1" || !b.Created.Equal(fresh.Created) ||
		len(b.Derive) != 1 || b.Metrics[MetricR2] < 0.9 {
		t.Fatalf("golden bundle fields: %+v", b)
	}
}

func TestBundleRoundTrip(t *testing.T) {
	t.Parallel()
	b := goldenBundle(t)
	b.Metrics["r2_score"] = math.NaN()
	b.Metrics["max_error"] = math.Inf(1)
	b.ClassLabels = []string{"no", "yes"}
	var buf bytes.Buffer
	if err := b.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	if buf.Bytes()[0] != 0x1f || buf.Bytes()[1] != 0x8b {
		t.Fatal("not gzip")
	}
	back, err := DecodeBundle(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(back.Metrics["r2_score"]) || !math.IsInf(back.Metrics["max_error"], 1) {
		t.Fatalf("non-finite metrics: %v", back.Metrics)
	}
	delete(b.Metrics, "r2_score")
	delete(back.Metrics, "r2_score")
	if !reflect.DeepEqual(b, back) {
		t.Fatalf("round trip changed the bundle:\n%+v\n%+v", b, back)
	}
	f := goldenFrame(30, true)
	p1, err := b.Predict(f)
	if err != nil {
		t.Fatal(err)
	}
	p2, _ := back.Predict(f)
	if !reflect.DeepEqual(p1, p2) {
		t.Fatal("predictions differ")
	}

	// Plain (not gzip'd) JSON decodes too.
	js, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeBundle(bytes.NewReader(js)); err != nil {
		t.Fatal(err)
	}
}

func gz(data []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(data)
	zw.Close()
	return buf.Bytes()
}

func TestBundleDecodeErrors(t *testing.T) {
	t.Parallel()
	b := goldenBundle(t)
	js, _ := json.Marshal(b)
	var doc map[string]any
	_ = json.Unmarshal(js, &doc)
	edit := func(k string, v any) []byte {
		c := make(map[string]any, len(doc))
		for kk, vv := range doc {
			c[kk] = vv
		}
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		out, _ := json.Marshal(c)
		return gz(out)
	}
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"future version", edit("format_version", 3), "format version 3 is not supported (this build reads versions 1 to 2)"},
		{"no version", edit("format_version", nil), "not a model bundle (no format_version)"},
		{"not json", gz([]byte("hello")), "not a model bundle"},
		{"truncated gzip", gz(js)[:40], "unexpected EOF"},
		{"unknown estimator", edit("estimator_name", "xgboost"), `unknown estimator "xgboost"`},
		{"bad estimator state", edit("estimator", map[string]any{"alpha": 1, "coef": "x"}), "unmarshal estimator ridge"},
		{"feature names", edit("feature_names", []string{"a"}), "1 feature names but the transformer makes"},
		{"no transformer", edit("transformer", nil), "transformer is nil"},
		{"bad transformer", edit("transformer", map[string]any{"columns": []any{map[string]any{"column": "x", "transformer": "zscore", "kind": "float", "features": []string{"x"}}}}), `unknown transformer "zscore"`},
	}
	for _, c := range cases {
		_, err := DecodeBundle(bytes.NewReader(c.data))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
	b.FormatVersion = 9
	if err := b.Encode(&bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "format version 9 is not supported") {
		t.Errorf("encode v9: %v", err)
	}
}

func TestBundlePredictMissingColumns(t *testing.T) {
	t.Parallel()
	b := goldenBundle(t)
	f := goldenFrame(5, false)
	var keep []*frame.Column
	for _, c := range f.Cols {
		if c.Name != "vendor" && c.Name != "pickup" {
			keep = append(keep, c)
		}
	}
	_, err := b.Predict(&frame.Frame{Cols: keep})
	if err == nil || !strings.Contains(err.Error(), `input is missing columns "vendor", "pickup"`) {
		t.Fatalf("err = %v", err)
	}
	// The target is not an input.
	var noTarget []*frame.Column
	for _, c := range f.Cols {
		if c.Name != "fare_amount" {
			noTarget = append(noTarget, c)
		}
	}
	if _, err := b.Predict(&frame.Frame{Cols: noTarget}); err != nil {
		t.Fatal(err)
	}
	if got := b.InputSchema; len(got) != 8 || got[0] != (Field{Name: "trip_distance", Kind: "float"}) {
		t.Fatalf("input schema = %v", got)
	}
}

func TestBundlePredictEmptyFrame(t *testing.T) {
	t.Parallel()
	b := goldenBundle(t)
	empty := goldenFrame(0, false)
	pred, err := b.Predict(empty)
	if err != nil || len(pred) != 0 {
		t.Fatalf("pred %v, err %v", pred, err)
	}
}

func TestBundlePredictConcurrently(t *testing.T) {
	t.Parallel()
	b := goldenBundle(t)
	f := goldenFrame(50, true)
	want, err := b.Predict(f)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			got, err := b.Predict(f)
			if err == nil && !reflect.DeepEqual(got, want) {
				err = errors.New("predictions differ")
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
