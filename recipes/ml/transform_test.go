package ml

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sous-ml/sous/recipes/frame"
)

func TestStandardScalerFitsOnTrainOnly(t *testing.T) {
	t.Parallel()
	train := mkFrame(floatCol("x", 1, 2, 3, 4), floatCol("y", 0, 0, 0, 0))
	test := mkFrame(floatCol("x", 10, 20))
	tr := mustFit(t, TransformSpec{Groups: []GroupSpec{group(StandardScaler, nil, "x")}, Target: "y"}, train)
	if s := tr.Columns[0].Numeric; s.Center != 2.5 || !near(s.Scale, math.Sqrt(1.25), 1e-15) {
		t.Fatalf("state = %+v, want mean 2.5 and population std sqrt(1.25)", s)
	}
	m := mustTransform(t, tr, test)
	std := math.Sqrt(1.25)
	assertSlice(t, "test", m.Data, []float64{(10 - 2.5) / std, (20 - 2.5) / std}, 1e-15)
	// Transforming the test frame changed nothing in the state.
	if s := tr.Columns[0].Numeric; s.Center != 2.5 {
		t.Fatalf("state changed: %+v", s)
	}
}

func TestStandardScalerConstantAndNulls(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	train := mkFrame(floatCol("c", 7, 7, 7), floatCol("n", 1, nan, 3))
	tr := mustFit(t, TransformSpec{Groups: []GroupSpec{group(StandardScaler, nil, "c", "n")}}, train)
	if s := tr.Columns[0].Numeric; s.Scale != 1 || s.Center != 7 {
		t.Fatalf("constant column state = %+v, want center 7 scale 1", s)
	}
	m := mustTransform(t, tr, mkFrame(floatCol("c", 7, 9, nan), floatCol("n", nan, 3, nan)))
	assertSlice(t, "c", column(m, 0), []float64{0, 2, 0}, 0)
	// n: mean 2 (nulls ignored), std 1; a null becomes the training mean, i.e. 0.
	assertSlice(t, "n", column(m, 1), []float64{0, 1, 0}, 1e-15)
	// A NaN that is not marked null is a null too.
	m = mustTransform(t, tr, mkFrame(&frame.Column{Name: "c", Kind: frame.Float, Floats: []float64{nan}}, floatCol("n", 2)))
	assertSlice(t, "NaN", m.Data, []float64{0, 0}, 0)
}

func TestScalers(t *testing.T) {
	t.Parallel()
	train := mkFrame(floatCol("x", 0, 1, 2, 3, 4, 5, 6, 7, 8, 100), intCol("i", 2, 4, 4, 4, 5, 5, 7, 9, 2, 8))
	probe := mkFrame(floatCol("x", -10, 0, 50, 100, 200), intCol("i", 0, 2, 5, 9, 10))
	cases := []struct {
		name   string
		g      GroupSpec
		wantX  []float64
		wantI  []float64
		tolAbs float64
	}{
		{"min_max", group(MinMaxScaler, nil, "x", "i"),
			[]float64{-0.1, 0, 0.5, 1, 2}, []float64{-2.0 / 7, 0, 3.0 / 7, 1, 8.0 / 7}, 1e-15},
		{"min_max_range_clip", group(MinMaxScaler, map[string]any{"feature_range": []any{-1, 1}, "clip": true}, "x", "i"),
			[]float64{-1, -1, 0, 1, 1}, []float64{-1, -1, -1 + 6.0/7, 1, 1}, 1e-15},
		// x: median 4.5, q25 2.25, q75 6.75 -> IQR 4.5. i: sorted 2 2 4 4 4 5 5 7 8 9: median 4.5, q25 4, q75 6.5.
		{"robust", group(RobustScaler, nil, "x", "i"),
			[]float64{-14.5 / 4.5, -1, 45.5 / 4.5, 95.5 / 4.5, 195.5 / 4.5}, []float64{-4.5 / 2.5, -1, 0.2, 1.8, 2.2}, 1e-15},
		{"robust_no_centering", group(RobustScaler, map[string]any{"with_centering": false}, "x"),
			[]float64{-10 / 4.5, 0, 50 / 4.5, 100 / 4.5, 200 / 4.5}, nil, 1e-15},
		{"standard_no_mean", group(StandardScaler, map[string]any{"with_mean": false, "with_std": false}, "x"),
			[]float64{-10, 0, 50, 100, 200}, nil, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr := mustFit(t, TransformSpec{Groups: []GroupSpec{tc.g}}, train)
			m := mustTransform(t, tr, probe)
			assertSlice(t, "x", column(m, 0), tc.wantX, tc.tolAbs)
			if tc.wantI != nil {
				assertSlice(t, "i", column(m, 1), tc.wantI, tc.tolAbs)
			}
		})
	}
}

func TestOneHot(t *testing.T) {
	t.Parallel()
	t.Run("strings", func(t *testing.T) {
		t.Parallel()
		train := mkFrame(strCol("s", "b", "a", "c", "a", null))
		tr := mustFit(t, TransformSpec{Groups: []GroupSpec{group(OneHot, nil, "s")}}, train)
		if got, want := tr.FeatureNames(), []string{"s_a", "s_b", "s_c", "s_null"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("features = %v, want %v", got, want)
		}
		// Another dictionary order, an unseen category and a null.
		m := mustTransform(t, tr, mkFrame(strCol("s", "zzz", "c", null, "a")))
		want := []float64{
			0, 0, 0, 0,
			0, 0, 1, 0,
			0, 0, 0, 1,
			1, 0, 0, 0,
		}
		assertSlice(t, "one_hot", m.Data, want, 0)
	})
	t.Run("null unseen at fit is zeros", func(t *testing.T) {
		t.Parallel()
		tr := mustFit(t, TransformSpec{Groups: []GroupSpec{group(OneHot, nil, "s")}}, mkFrame(strCol("s", "x", "y")))
		m := mustTransform(t, tr, mkFrame(strCol("s", null, "y")))
		assertSlice(t, "one_hot", m.Data, []float64{0, 0, 0, 1}, 0)
	})
	t.Run("ints sort numerically", func(t *testing.T) {
		t.Parallel()
		tr := mustFit(t, TransformSpec{Groups: []GroupSpec{group(OneHot, nil, "h")}}, mkFrame(intCol("h", 10, 2, -1, 2)))
		if got, want := tr.FeatureNames(), []string{"h_-1", "h_2", "h_10"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("features = %v, want %v", got, want)
		}
		m := mustTransform(t, tr, mkFrame(intCol("h", 2, 3, 10)))
		assertSlice(t, "one_hot", m.Data, []float64{0, 1, 0, 0, 0, 0, 0, 0, 1}, 0)
	})
	t.Run("bools", func(t *testing.T) {
		t.Parallel()
		tr := mustFit(t, TransformSpec{Groups: []GroupSpec{group(OneHot, nil, "b")}}, mkFrame(boolCol("b", true, false)))
		if got, want := tr.FeatureNames(), []string{"b_false", "b_true"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("features = %v, want %v", got, want)
		}
		m := mustTransform(t, tr, mkFrame(boolCol("b", true, true, false)))
		assertSlice(t, "one_hot", m.Data, []float64{0, 1, 0, 1, 1, 0}, 0)
		// Only true seen at fit: false is unseen.
		tr = mustFit(t, TransformSpec{Groups: []GroupSpec{group(OneHot, nil, "b")}}, mkFrame(boolCol("b", true)))
		m = mustTransform(t, tr, mkFrame(boolCol("b", true, false)))
		assertSlice(t, "one_hot", m.Data, []float64{1, 0}, 0)
	})
	t.Run("max_categories", func(t *testing.T) {
		t.Parallel()
		// Counts a:5 b:3 c:3 d:1. Keep 2; of the tied b and c scikit-learn keeps the later, c.
		vals := strings.Split("a a a a a b b b c c c d", " ")
		tr := mustFit(t, TransformSpec{Groups: []GroupSpec{group(OneHot, map[string]any{"max_categories": 3}, "s")}}, mkFrame(strCol("s", vals...)))
		if got, want := tr.FeatureNames(), []string{"s_a", "s_c", "s_infrequent"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("features = %v, want %v", got, want)
		}
		m := mustTransform(t, tr, mkFrame(strCol("s", "a", "b", "c", "d", "e")))
		assertSlice(t, "one_hot", m.Data, []float64{1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 0, 0}, 0)
	})
	t.Run("min_frequency and infrequent null", func(t *testing.T) {
		t.Parallel()
		vals := []string{"a", "a", "a", "b", "b", "b", "c", null}
		tr := mustFit(t, TransformSpec{Groups: []GroupSpec{group(OneHot, map[string]any{"min_frequency": 2}, "s")}}, mkFrame(strCol("s", vals...)))
		if got, want := tr.FeatureNames(), []string{"s_a", "s_b", "s_infrequent"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("features = %v, want %v", got, want)
		}
		m := mustTransform(t, tr, mkFrame(strCol("s", null, "c", "z")))
		assertSlice(t, "one_hot", m.Data, []float64{0, 0, 1, 0, 0, 1, 0, 0, 0}, 0)
	})
}

func TestOrdinal(t *testing.T) {
	t.Parallel()
	train := mkFrame(strCol("s", "m", "l", "s", null), intCol("i", 5, 1, 5, 3))
	tr := mustFit(t, TransformSpec{Groups: []GroupSpec{group(Ordinal, nil, "s", "i")}}, train)
	m := mustTransform(t, tr, mkFrame(strCol("s", "s", "xl", null, "l"), intCol("i", 3, 4, 5, 1)))
	assertSlice(t, "s", column(m, 0), []float64{2, -1, 3, 0}, 0)
	assertSlice(t, "i", column(m, 1), []float64{1, -1, 2, 0}, 0)

	tr = mustFit(t, TransformSpec{Groups: []GroupSpec{group(Ordinal, map[string]any{"unknown_value": -99}, "i")}}, train)
	m = mustTransform(t, tr, mkFrame(intCol("i", 7)))
	assertSlice(t, "unknown", m.Data, []float64{-99}, 0)

	_, err := FitTransformer(TransformSpec{Groups: []GroupSpec{group(Ordinal, map[string]any{"unknown_value": 1}, "i")}}, train)
	if err == nil || !strings.Contains(err.Error(), "unknown_value 1 is also the code") {
		t.Fatalf("err = %v", err)
	}
}

func TestImpute(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	train := mkFrame(floatCol("x", 1, 2, nan, 2, 10))
	probe := mkFrame(floatCol("x", nan, 4))
	for _, tc := range []struct {
		params map[string]any
		want   float64
	}{
		{nil, 3.75},
		{map[string]any{"strategy": "median"}, 2},
		{map[string]any{"strategy": "most_frequent"}, 2},
		{map[string]any{"strategy": "constant", "fill_value": -1.5}, -1.5},
		{map[string]any{"strategy": "constant"}, 0},
	} {
		tr := mustFit(t, TransformSpec{Groups: []GroupSpec{group(Impute, tc.params, "x")}}, train)
		m := mustTransform(t, tr, probe)
		assertSlice(t, "impute", m.Data, []float64{tc.want, 4}, 1e-15)
	}
	// most_frequent breaks ties towards the smallest value.
	tr := mustFit(t, TransformSpec{Groups: []GroupSpec{group(Impute, map[string]any{"strategy": "most_frequent"}, "x")}},
		mkFrame(floatCol("x", 3, 3, 1, 1, nan)))
	assertSlice(t, "tie", mustTransform(t, tr, probe).Data, []float64{1, 4}, 0)
	// constant works on an all-null column.
	tr = mustFit(t, TransformSpec{Groups: []GroupSpec{group(Impute, map[string]any{"strategy": "constant", "fill_value": 7}, "x")}},
		mkFrame(floatCol("x", nan, nan)))
	assertSlice(t, "all null", mustTransform(t, tr, probe).Data, []float64{7, 4}, 0)
	_, err := FitTransformer(TransformSpec{Groups: []GroupSpec{group(Impute, nil, "x")}}, mkFrame(floatCol("x", nan, nan)))
	if err == nil || !strings.Contains(err.Error(), `impute: column "x" has no non-null values`) {
		t.Fatalf("err = %v", err)
	}
}

func TestLog1p(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	tr := mustFit(t, TransformSpec{Groups: []GroupSpec{group(Log1p, nil, "x")}}, mkFrame(floatCol("x", 0, math.E-1, nan)))
	m := mustTransform(t, tr, mkFrame(floatCol("x", nan, 0, -0.5)))
	assertSlice(t, "log1p", m.Data, []float64{0.5, 0, math.Log1p(-0.5)}, 1e-15)

	_, err := FitTransformer(TransformSpec{Groups: []GroupSpec{group(Log1p, nil, "x")}}, mkFrame(floatCol("x", 1, -1)))
	if err == nil || !strings.Contains(err.Error(), `log1p: column "x" is -1 at row 1; log1p needs values > -1`) {
		t.Fatalf("fit err = %v", err)
	}
	_, err = tr.Transform(mkFrame(floatCol("x", 1, -3)))
	if err == nil || !strings.Contains(err.Error(), `log1p: column "x" is -3 at row 1`) {
		t.Fatalf("transform err = %v", err)
	}
}

func TestBinning(t *testing.T) {
	t.Parallel()
	train := mkFrame(floatCol("x", 0, 1, 2, 3, 4, 5, 6, 7, 8))
	tr := mustFit(t, TransformSpec{Groups: []GroupSpec{group(Binning, map[string]any{"n_bins": 4, "encode": "ordinal"}, "x")}}, train)
	assertSlice(t, "edges", tr.Columns[0].Bins.Edges, []float64{0, 2, 4, 6, 8}, 0)
	m := mustTransform(t, tr, mkFrame(floatCol("x", -1, 0, 1.99, 2, 5, 8, 100, math.NaN())))
	assertSlice(t, "bins", m.Data, []float64{0, 0, 0, 1, 2, 3, 3, 2}, 0)

	tr = mustFit(t, TransformSpec{Groups: []GroupSpec{group(Binning, map[string]any{"n_bins": 2}, "x")}}, train)
	if got, want := tr.FeatureNames(), []string{"x_bin0", "x_bin1"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("features = %v, want %v", got, want)
	}
	m = mustTransform(t, tr, mkFrame(floatCol("x", 1, 7)))
	assertSlice(t, "onehot", m.Data, []float64{1, 0, 0, 1}, 0)

	// Repeated quantiles collapse, as in scikit-learn.
	tr = mustFit(t, TransformSpec{Groups: []GroupSpec{group(Binning, map[string]any{"n_bins": 4}, "x")}}, mkFrame(floatCol("x", 1, 1, 1, 1, 1, 1, 2, 3)))
	assertSlice(t, "collapsed", tr.Columns[0].Bins.Edges, []float64{1, 1.25, 3}, 1e-15)
	// Uniform bins; a constant column is one bin.
	tr = mustFit(t, TransformSpec{Groups: []GroupSpec{
		group(Binning, map[string]any{"n_bins": 3, "strategy": "uniform", "encode": "ordinal"}, "x"),
		group(Binning, nil, "c"),
	}}, mkFrame(floatCol("x", 0, 1, 9), floatCol("c", 4, 4, 4)))
	assertSlice(t, "uniform", tr.Columns[0].Bins.Edges, []float64{0, 3, 6, 9}, 0)
	m = mustTransform(t, tr, mkFrame(floatCol("x", 5), floatCol("c", 100)))
	assertSlice(t, "uniform+constant", m.Data, []float64{1, 1}, 0)
}

func TestTimeAndBoolAreNumbers(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	train := mkFrame(timeCol("ts", t0, t0.Add(time.Hour)), boolCol("b", true, false), floatCol("y", 1, 2))
	tr := mustFit(t, TransformSpec{Remainder: Passthrough, Target: "y"}, train)
	if got, want := tr.FeatureNames(), []string{"ts", "b"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("features = %v, want %v", got, want)
	}
	m := mustTransform(t, tr, train)
	sec := float64(t0.Unix())
	assertSlice(t, "passthrough", m.Data, []float64{sec, 1, sec + 3600, 0}, 0)

	// A scaler on a timestamp works in seconds.
	tr = mustFit(t, TransformSpec{Groups: []GroupSpec{group(StandardScaler, nil, "ts")}}, train)
	m = mustTransform(t, tr, train)
	assertSlice(t, "scaled", m.Data, []float64{-1, 1}, 1e-12)
	// But a float column where the timestamp was is an error.
	_, err := tr.Transform(mkFrame(floatCol("ts", 1)))
	if err == nil || !strings.Contains(err.Error(), `standard_scaler: column "ts" is a float column but was timestamp when the transformer was fitted`) {
		t.Fatalf("err = %v", err)
	}
	// Int fitted, float given: numbers are numbers.
	tr = mustFit(t, TransformSpec{Groups: []GroupSpec{group(Passthrough, nil, "i")}}, mkFrame(intCol("i", 1, 2)))
	assertSlice(t, "int as float", mustTransform(t, tr, mkFrame(floatCol("i", 2.5))).Data, []float64{2.5}, 0)
}

func TestRemainderAndTarget(t *testing.T) {
	t.Parallel()
	train := mkFrame(floatCol("a", 1, 2), floatCol("y", 3, 4), intCol("b", 5, 6), strCol("s", "u", "v"), floatCol("gone", 0, 1))
	spec := TransformSpec{
		Groups: []GroupSpec{
			group(OneHot, nil, "s"),
			group(Drop, nil, "gone"),
		},
		Remainder: Passthrough,
		Target:    "y",
	}
	tr := mustFit(t, spec, train)
	if got, want := tr.FeatureNames(), []string{"s_u", "s_v", "a", "b"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("features = %v, want %v", got, want)
	}
	if got, want := tr.InputColumns(), []string{"s", "a", "b"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("inputs = %v, want %v", got, want)
	}
	// Neither the target nor the dropped column is needed to transform.
	m := mustTransform(t, tr, mkFrame(intCol("b", 7), floatCol("a", 0.5), strCol("s", "v")))
	assertSlice(t, "row", m.Data, []float64{0, 1, 0.5, 7}, 0)

	spec.Remainder = ""
	tr = mustFit(t, spec, train)
	if got, want := tr.FeatureNames(), []string{"s_u", "s_v"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("remainder drop: features = %v, want %v", got, want)
	}
}

func TestDuplicateFeatureNamesAreMadeUnique(t *testing.T) {
	t.Parallel()
	train := mkFrame(strCol("a", "b_c", "b_c"), strCol("a_b", "c", "c"), floatCol("x", 1, 2))
	tr := mustFit(t, TransformSpec{Groups: []GroupSpec{
		group(OneHot, nil, "a", "a_b"),
		group(StandardScaler, nil, "x"),
		group(Log1p, nil, "x"),
	}}, train)
	if got, want := tr.FeatureNames(), []string{"a_b_c", "a_b_c_2", "x", "x_2"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("features = %v, want %v", got, want)
	}
}

func TestTransformerErrors(t *testing.T) {
	t.Parallel()
	train := mkFrame(floatCol("x", 1, 2), strCol("s", "a", "b"), floatCol("y", 0, 1), timeCol("ts", time.Unix(0, 0), time.Unix(1, 0)))
	cases := []struct {
		name string
		spec TransformSpec
		want string
	}{
		{"string in scaler", TransformSpec{Groups: []GroupSpec{group(StandardScaler, nil, "s")}},
			`standard_scaler: column "s" is a string column; use one_hot or ordinal`},
		{"float in one_hot", TransformSpec{Groups: []GroupSpec{group(OneHot, nil, "x")}},
			`one_hot: column "x" is a float column`},
		{"time in one_hot", TransformSpec{Groups: []GroupSpec{group(OneHot, nil, "ts")}},
			`one_hot: column "ts" is a timestamp column; derive parts`},
		{"unknown param", TransformSpec{Groups: []GroupSpec{group(StandardScaler, map[string]any{"with_meen": true}, "x")}},
			`standard_scaler: unknown param "with_meen"; allowed params: with_mean, with_std`},
		{"mistyped param", TransformSpec{Groups: []GroupSpec{group(OneHot, map[string]any{"max_categories": "3"}, "s")}},
			`one_hot: param "max_categories" must be an integer, got string 3`},
		{"bad choice", TransformSpec{Groups: []GroupSpec{group(Impute, map[string]any{"strategy": "mode"}, "x")}},
			`impute: param "strategy" is "mode"; allowed: mean, median, most_frequent, constant`},
		{"unknown transformer", TransformSpec{Groups: []GroupSpec{group("scale", nil, "x")}},
			`unknown transformer "scale"; allowed: binning, drop, impute`},
		{"missing columns", TransformSpec{Groups: []GroupSpec{group(StandardScaler, nil, "x", "p", "q")}},
			`columns not in the training data: "p", "q"`},
		{"target as feature", TransformSpec{Groups: []GroupSpec{group(StandardScaler, nil, "y")}, Target: "y"},
			`column "y" is the target; the target is never a feature`},
		{"string in remainder", TransformSpec{Groups: []GroupSpec{group(Drop, nil, "ts")}, Remainder: Passthrough, Target: "y"},
			`remainder passthrough: column "s" is a string column`},
		{"bad remainder", TransformSpec{Remainder: "keep"}, `remainder is "keep"; allowed: drop, passthrough`},
		{"no features", TransformSpec{Groups: []GroupSpec{group(Drop, nil, "x")}}, `no features`},
		{"empty group", TransformSpec{Groups: []GroupSpec{group(StandardScaler, nil)}}, `names no columns`},
		{"column twice", TransformSpec{Groups: []GroupSpec{group(StandardScaler, nil, "x", "x")}}, `names column "x" twice`},
		{"fill_value without constant", TransformSpec{Groups: []GroupSpec{group(Impute, map[string]any{"fill_value": 1}, "x")}},
			`fill_value" applies only to strategy constant`},
		{"bad range", TransformSpec{Groups: []GroupSpec{group(MinMaxScaler, map[string]any{"feature_range": []any{1, 0}}, "x")}},
			`feature_range" must be [min, max] with min < max`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := FitTransformer(tc.spec, train)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	t.Run("infinite value", func(t *testing.T) {
		t.Parallel()
		_, err := FitTransformer(TransformSpec{Groups: []GroupSpec{group(StandardScaler, nil, "x")}}, mkFrame(floatCol("x", 1, math.Inf(1))))
		if err == nil || !strings.Contains(err.Error(), `standard_scaler: column "x" is +Inf at row 1`) {
			t.Fatalf("err = %v", err)
		}
		tr := mustFit(t, TransformSpec{Groups: []GroupSpec{group(StandardScaler, nil, "x")}}, mkFrame(floatCol("x", 1, 2)))
		if _, err := tr.Transform(mkFrame(floatCol("x", math.Inf(-1)))); err == nil || !strings.Contains(err.Error(), "-Inf at row 0") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("missing at transform", func(t *testing.T) {
		t.Parallel()
		tr := mustFit(t, TransformSpec{Groups: []GroupSpec{group(StandardScaler, nil, "x"), group(OneHot, nil, "s")}}, train)
		_, err := tr.Transform(mkFrame(floatCol("z", 1)))
		if err == nil || !strings.Contains(err.Error(), `missing input columns "x", "s"`) {
			t.Fatalf("err = %v", err)
		}
		_, err = tr.Transform(mkFrame(floatCol("x", 1), intCol("s", 1)))
		if err == nil || !strings.Contains(err.Error(), `one_hot: column "s" is a int column but was string`) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("empty and nil", func(t *testing.T) {
		t.Parallel()
		if _, err := FitTransformer(TransformSpec{}, nil); err == nil {
			t.Fatal("nil frame: no error")
		}
		if _, err := FitTransformer(TransformSpec{Remainder: Passthrough}, mkFrame(floatCol("x"))); err == nil || !strings.Contains(err.Error(), "no rows") {
			t.Fatalf("empty frame: err = %v", err)
		}
		var tr *Transformer
		if _, err := tr.Transform(mkFrame(floatCol("x", 1))); err == nil {
			t.Fatal("nil transformer: no error")
		}
	})
}

// TestTransformerJSONRoundTrip checks a decoded Transformer transforms
// bit-for-bit like the one that was fitted.
func TestTransformerJSONRoundTrip(t *testing.T) {
	t.Parallel()
	train, test := randomFrame(rand.New(rand.NewPCG(1, 2)), 300), randomFrame(rand.New(rand.NewPCG(3, 4)), 100)
	tr := mustFit(t, allTransformersSpec(), train)
	data, err := json.Marshal(tr)
	if err != nil {
		t.Fatal(err)
	}
	var back Transformer
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*tr, back) {
		t.Fatalf("round trip changed the state:\n%s", data)
	}
	a, b := mustTransform(t, tr, test), mustTransform(t, &back, test)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("decoded transformer transforms differently")
	}
	if !reflect.DeepEqual(tr.FeatureNames(), back.FeatureNames()) || a.Cols != len(tr.FeatureNames()) {
		t.Fatal("feature names differ")
	}
}

// TestTransformNeverNaN fits every transformer on random frames full of
// nulls, NaNs, unseen categories and extreme values.
func TestTransformNeverNaN(t *testing.T) {
	t.Parallel()
	for seed := uint64(0); seed < 20; seed++ {
		rng := rand.New(rand.NewPCG(seed, 99))
		tr, err := FitTransformer(allTransformersSpec(), randomFrame(rng, 5+rng.IntN(50)))
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		m, err := tr.Transform(randomFrame(rng, 50))
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		assertFinite(t, m)
	}
}

func TestCorruptStateIsAnError(t *testing.T) {
	t.Parallel()
	tr := mustFit(t, allTransformersSpec(), randomFrame(rand.New(rand.NewPCG(5, 6)), 40))
	test := randomFrame(rand.New(rand.NewPCG(7, 8)), 10)
	mutations := map[string]func(tr *Transformer){
		"zero scale":        func(tr *Transformer) { tr.Columns[0].Numeric.Scale = 0 },
		"no numeric state":  func(tr *Transformer) { tr.Columns[0].Numeric = nil },
		"slot out of range": func(tr *Transformer) { tr.Columns[columnIndex(tr, OneHot)].Categorical.NullSlot = 99 },
		"unsorted edges":    func(tr *Transformer) { e := tr.Columns[columnIndex(tr, Binning)].Bins.Edges; e[0] = e[len(e)-1] + 1 },
		"unknown kind":      func(tr *Transformer) { tr.Inputs[0].Kind = "decimal" },
		"unknown transform": func(tr *Transformer) { tr.Columns[0].Transformer = "zscore" },
		"no columns":        func(tr *Transformer) { tr.Columns = nil },
		"missing input":     func(tr *Transformer) { tr.Inputs = tr.Inputs[1:] },
	}
	for name, mutate := range mutations {
		data, _ := json.Marshal(tr)
		var c Transformer
		if err := json.Unmarshal(data, &c); err != nil {
			t.Fatal(err)
		}
		mutate(&c)
		if _, err := c.Transform(test); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func columnIndex(tr *Transformer, name string) int {
	for i, c := range tr.Columns {
		if c.Transformer == name {
			return i
		}
	}
	panic("no column for " + name)
}

func allTransformersSpec() TransformSpec {
	return TransformSpec{
		Groups: []GroupSpec{
			group(StandardScaler, nil, "f", "i", "t", "b"),
			group(MinMaxScaler, map[string]any{"clip": true}, "f"),
			group(RobustScaler, nil, "f", "i"),
			group(OneHot, map[string]any{"max_categories": 4}, "s", "i", "b"),
			group(OneHot, nil, "s2"),
			group(Ordinal, nil, "s", "i"),
			group(Impute, map[string]any{"strategy": "median"}, "f"),
			group(Log1p, nil, "pos"),
			group(Passthrough, nil, "t"),
			group(Binning, map[string]any{"n_bins": 3}, "f"),
		},
		Remainder: Passthrough,
		Target:    "y",
	}
}

// randomFrame has every kind, nulls everywhere, NaNs and categories that
// differ between calls.
func randomFrame(rng *rand.Rand, n int) *frame.Frame {
	f := make([]float64, n)
	pos := make([]float64, n)
	ints := make([]int64, n)
	bools := make([]bool, n)
	ts := make([]time.Time, n)
	s := make([]string, n)
	s2 := make([]string, n)
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		f[i] = rng.NormFloat64() * math.Pow(10, float64(rng.IntN(12)-4))
		if rng.IntN(10) == 0 {
			f[i] = math.NaN()
		}
		pos[i] = rng.ExpFloat64()
		ints[i] = int64(rng.IntN(8))
		bools[i] = rng.IntN(2) == 0
		ts[i] = time.Unix(1.7e9+int64(rng.IntN(1e7)), int64(rng.IntN(1e9)))
		s[i] = string(rune('a' + rng.IntN(10)))
		if rng.IntN(8) == 0 {
			s[i] = null
		}
		s2[i] = string(rune('p' + rng.IntN(3)))
		y[i] = rng.NormFloat64()
	}
	fr := mkFrame(floatCol("f", f...), floatCol("pos", pos...), intCol("i", ints...), boolCol("b", bools...),
		timeCol("t", ts...), strCol("s", s...), strCol("s2", s2...), floatCol("y", y...), floatCol("extra", y...))
	// Nulls in int, bool and time columns too.
	for _, name := range []string{"i", "b", "t"} {
		c, _ := fr.Col(name)
		for i := 0; i < n; i++ {
			if rng.IntN(7) == 0 {
				setNull(c, i, n)
			}
		}
	}
	return fr
}

func TestTransformIntoReuses(t *testing.T) {
	t.Parallel()
	train := randomFrame(rand.New(rand.NewPCG(9, 9)), 60)
	tr := mustFit(t, allTransformersSpec(), train)
	big := randomFrame(rand.New(rand.NewPCG(10, 10)), 50)
	small := randomFrame(rand.New(rand.NewPCG(11, 11)), 20)
	buf, err := tr.TransformInto(nil, big)
	if err != nil {
		t.Fatal(err)
	}
	data := &buf.Data[0]
	got, err := tr.TransformInto(buf, small)
	if err != nil {
		t.Fatal(err)
	}
	if &got.Data[0] != data || got.Rows != 20 {
		t.Fatal("buffer not reused")
	}
	if want := mustTransform(t, tr, small); !reflect.DeepEqual(got, want) {
		t.Fatal("TransformInto differs from Transform")
	}
}
