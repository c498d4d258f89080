package ml

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// treeData returns y = 3·x0 + step(x1) + noise, and class labels from it.
func treeData(n int, seed uint64) (*Matrix, []float64, []float64) {
	rng := rand.New(rand.NewPCG(seed, 3))
	X := NewMatrix(n, 4)
	y := make([]float64, n)
	cls := make([]float64, n)
	for i := range n {
		for j := range 4 {
			X.Set(i, j, rng.NormFloat64())
		}
		y[i] = 3*X.At(i, 0) + 0.1*rng.NormFloat64()
		if X.At(i, 1) > 0 {
			y[i] += 2
		}
		switch {
		case y[i] < -1:
			cls[i] = 0
		case y[i] < 2:
			cls[i] = 1
		default:
			cls[i] = 2
		}
	}
	return X, y, cls
}

// loaderParams are params as the recipe loader hands them over (ints as
// int64, or float64 after JSON; null as nil).
func loaderParams(name string, viaJSON bool) map[string]any {
	var p map[string]any
	switch name {
	case DecisionTreeName:
		p = map[string]any{"max_depth": nil, "min_samples_leaf": int64(1), "min_samples_split": int64(2), "max_features": nil}
	case RandomForestName:
		p = map[string]any{"n_estimators": int64(20), "max_depth": nil, "min_samples_leaf": int64(1), "min_samples_split": int64(2),
			"max_features": 1.0, "bootstrap": true, "random_state": nil}
	}
	if viaJSON {
		b, _ := json.Marshal(p)
		p = nil
		_ = json.Unmarshal(b, &p)
	}
	return p
}

func TestTreeEstimatorsRegression(t *testing.T) {
	t.Parallel()
	X, y, _ := treeData(1500, 1)
	Xt, yt, _ := treeData(500, 2)
	for _, name := range []string{DecisionTreeName, RandomForestName} {
		for _, viaJSON := range []bool{false, true} {
			e, err := NewEstimator(name, loaderParams(name, viaJSON))
			if err != nil {
				t.Fatal(err)
			}
			if e.FeatureImportances() != nil {
				t.Errorf("%s: importances before fit", name)
			}
			if _, err := e.Predict(Xt); err == nil {
				t.Errorf("%s: predict before fit: no error", name)
			}
			if err := e.Fit(X, y); err != nil {
				t.Fatal(err)
			}
			pred, err := e.Predict(Xt)
			if err != nil {
				t.Fatal(err)
			}
			r2 := RegressionMetrics(yt, pred)["r2_score"]
			if r2 < 0.9 {
				t.Errorf("%s: R² %.4f", name, r2)
			}
			imp := e.FeatureImportances()
			if slices.Index(imp, slices.Max(imp)) != 0 {
				t.Errorf("%s: importances %v, want feature 0 first", name, imp)
			}
			c := e.(Classifier)
			if c.Classes() != 0 {
				t.Errorf("%s: regression Classes() = %d", name, c.Classes())
			}
			if _, err := c.PredictProba(Xt); err == nil {
				t.Errorf("%s: regression PredictProba: no error", name)
			}
			raw, err := MarshalEstimator(e)
			if err != nil {
				t.Fatal(err)
			}
			e2, err := UnmarshalEstimator(name, raw)
			if err != nil {
				t.Fatal(err)
			}
			pred2, err := e2.Predict(Xt)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(pred, pred2) || !slices.Equal(imp, e2.FeatureImportances()) {
				t.Errorf("%s: round trip changed the model", name)
			}
			raw2, _ := MarshalEstimator(e2)
			if string(raw) != string(raw2) {
				t.Errorf("%s: re-marshalled state differs", name)
			}
			bad := NewMatrix(1, 4)
			bad.Set(0, 2, math.NaN())
			if _, err := e.Predict(bad); err == nil {
				t.Errorf("%s: NaN feature: no error", name)
			}
			if _, err := e.Predict(NewMatrix(2, 3)); err == nil {
				t.Errorf("%s: wrong column count: no error", name)
			}
		}
	}
}

func TestTreeEstimatorsClassification(t *testing.T) {
	t.Parallel()
	X, _, cls := treeData(1500, 3)
	Xt, _, clst := treeData(500, 4)
	for _, name := range []string{DecisionTreeName, RandomForestName} {
		params := loaderParams(name, true)
		params["criterion"] = CriterionGini
		if name == RandomForestName {
			params["max_features"] = "sqrt"
		}
		e, err := NewEstimator(name, params)
		if err != nil {
			t.Fatal(err)
		}
		c := e.(Classifier)
		if c.Classes() != 0 {
			t.Errorf("%s: Classes() %d before fit", name, c.Classes())
		}
		if err := e.Fit(X, cls); err != nil {
			t.Fatal(err)
		}
		if c.Classes() != 3 {
			t.Errorf("%s: Classes() = %d, want 3", name, c.Classes())
		}
		pred, err := e.Predict(Xt)
		if err != nil {
			t.Fatal(err)
		}
		ok := 0
		for i := range pred {
			if pred[i] == clst[i] {
				ok++
			}
		}
		if acc := float64(ok) / float64(len(pred)); acc < 0.85 {
			t.Errorf("%s: accuracy %.3f", name, acc)
		}
		proba, err := c.PredictProba(Xt)
		if err != nil {
			t.Fatal(err)
		}
		if proba.Rows != Xt.Rows || proba.Cols != 3 {
			t.Fatalf("%s: proba %d×%d", name, proba.Rows, proba.Cols)
		}
		for i := range proba.Rows {
			r := proba.Row(i)
			var s float64
			for _, v := range r {
				s += v
			}
			if math.Abs(s-1) > 1e-9 || float64(slices.Index(r, slices.Max(r))) != pred[i] {
				t.Fatalf("%s: row %d proba %v, predicted %v", name, i, r, pred[i])
			}
		}
		raw, err := MarshalEstimator(e)
		if err != nil {
			t.Fatal(err)
		}
		e2, err := UnmarshalEstimator(name, raw)
		if err != nil {
			t.Fatal(err)
		}
		proba2, err := e2.(Classifier).PredictProba(Xt)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(proba.Data, proba2.Data) {
			t.Errorf("%s: round trip changed the probabilities", name)
		}
		// A classification model under a regression criterion is rejected.
		var state map[string]any
		_ = json.Unmarshal(raw, &state)
		state["criterion"] = CriterionSquaredError
		b, _ := json.Marshal(state)
		if _, err := UnmarshalEstimator(name, b); err == nil {
			t.Errorf("%s: criterion/model mismatch: no error", name)
		}
		state["criterion"] = CriterionGini
		state["model"] = "AAAA"
		b, _ = json.Marshal(state)
		if _, err := UnmarshalEstimator(name, b); err == nil {
			t.Errorf("%s: corrupt model: no error", name)
		}
		if err := e.Fit(X, append(slices.Clone(cls[:len(cls)-1]), 0.5)); err == nil {
			t.Errorf("%s: fractional class: no error", name)
		}
	}
}

func TestForestDefaultsAndDeterminism(t *testing.T) {
	t.Parallel()
	reg, err := NewRandomForest(nil)
	if err != nil {
		t.Fatal(err)
	}
	if reg.NEstimators != 100 || !reg.Bootstrap || reg.MaxFeatures != "" || reg.MaxFeaturesFraction != 0 || reg.Criterion != CriterionSquaredError {
		t.Errorf("regression defaults %+v", reg)
	}
	clf, err := NewRandomForest(map[string]any{"criterion": "gini"})
	if err != nil {
		t.Fatal(err)
	}
	if clf.MaxFeatures != "sqrt" {
		t.Errorf("classification default max_features %q", clf.MaxFeatures)
	}
	clf, _ = NewRandomForest(map[string]any{"criterion": "gini", "max_features": nil})
	if clf.MaxFeatures != "" || clf.MaxFeaturesFraction != 0 {
		t.Errorf("max_features null: %+v", clf.TreeParams)
	}
	half, _ := NewDecisionTree(map[string]any{"max_features": 0.5})
	if half.MaxFeaturesFraction != 0.5 {
		t.Errorf("max_features 0.5: %+v", half.TreeParams)
	}

	X, y, _ := treeData(800, 5)
	var ref json.RawMessage
	for _, threads := range []int{1, 3} {
		e, _ := NewRandomForest(map[string]any{"n_estimators": 15, "random_state": 7, "max_features": 0.5})
		e.Threads = threads
		if err := e.Fit(X, y); err != nil {
			t.Fatal(err)
		}
		raw, _ := MarshalEstimator(e)
		if ref == nil {
			ref = raw
		} else if string(raw) != string(ref) {
			t.Error("forest depends on the thread count")
		}
	}
}

func TestTreeEstimatorBadParams(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		params map[string]any
		want   string
	}{
		{DecisionTreeName, map[string]any{"n_estimators": 10}, "unknown param"},
		{DecisionTreeName, map[string]any{"criterion": "entropy"}, "criterion"},
		{DecisionTreeName, map[string]any{"max_depth": 0}, "max_depth"},
		{DecisionTreeName, map[string]any{"max_depth": 2.5}, "max_depth"},
		{DecisionTreeName, map[string]any{"min_samples_leaf": 0}, "min_samples_leaf"},
		{DecisionTreeName, map[string]any{"min_samples_split": 1}, "min_samples_split"},
		{DecisionTreeName, map[string]any{"max_features": "half"}, "max_features"},
		{DecisionTreeName, map[string]any{"max_features": 0.0}, "max_features"},
		{DecisionTreeName, map[string]any{"max_features": 1.5}, "max_features"},
		{DecisionTreeName, map[string]any{"max_features": true}, "max_features"},
		{RandomForestName, map[string]any{"n_estimators": 0}, "n_estimators"},
		{RandomForestName, map[string]any{"random_state": -1}, "random_state"},
		{RandomForestName, map[string]any{"bootstrap": "yes"}, "bootstrap"},
		{RandomForestName, map[string]any{"learning_rate": 0.1}, "unknown param"},
	} {
		_, err := NewEstimator(tc.name, tc.params)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %v: error %v, want one about %s", tc.name, tc.params, err, tc.want)
		}
	}
	e, _ := NewDecisionTree(nil)
	X := NewMatrix(2, 1)
	for _, y := range [][]float64{{1}, {1, math.NaN()}} {
		if err := e.Fit(X, y); err == nil {
			t.Errorf("y %v: no error", y)
		}
	}
	if err := e.Fit(NewMatrix(0, 1), nil); err == nil {
		t.Error("empty X: no error")
	}
	X.Data[1] = math.Inf(1)
	if err := e.Fit(X, []float64{1, 2}); err == nil {
		t.Error("Inf in X: no error")
	}
	// One row fits a one-leaf tree.
	if err := e.Fit(NewMatrix(1, 3), []float64{4}); err != nil {
		t.Fatal(err)
	}
	if p, err := e.Predict(NewMatrix(2, 3)); err != nil || !slices.Equal(p, []float64{4, 4}) {
		t.Errorf("one row: %v, %v", p, err)
	}
}

// TestTreeBundleRoundTrip puts fitted trees in a bundle, encodes and decodes
// it, and checks the decoded bundle predicts the same.
func TestTreeBundleRoundTrip(t *testing.T) {
	t.Parallel()
	train := goldenFrame(120, false)
	tr := mustFit(t, goldenSpec(), train)
	X := mustTransform(t, tr, train)
	y, _ := train.Col("fare_amount")
	score := goldenFrame(30, true)
	for _, name := range []string{DecisionTreeName, RandomForestName} {
		est, err := NewEstimator(name, map[string]any{"min_samples_leaf": 2})
		if err != nil {
			t.Fatal(err)
		}
		if err := est.Fit(X, y.Floats); err != nil {
			t.Fatal(err)
		}
		b, err := NewBundle("regression/v1", "fare_amount", tr, est)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := b.Encode(&buf); err != nil {
			t.Fatal(err)
		}
		back, err := DecodeBundle(&buf)
		if err != nil {
			t.Fatal(err)
		}
		p1, err := b.Predict(score)
		if err != nil {
			t.Fatal(err)
		}
		p2, err := back.Predict(score)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(p1, p2) {
			t.Errorf("%s: decoded bundle predicts differently", name)
		}
	}
}
