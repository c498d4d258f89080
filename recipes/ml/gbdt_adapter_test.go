package ml

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
)

func gbdtLoaderParams(loss string) map[string]any {
	p := map[string]any{"n_estimators": int64(50), "learning_rate": 0.1, "max_leaf_nodes": int64(31), "max_depth": nil,
		"min_samples_leaf": int64(20), "l2_regularization": 0.0, "max_bins": int64(255), "early_stopping": "auto",
		"validation_fraction": 0.1, "n_iter_no_change": int64(10), "loss": loss, "random_state": nil}
	b, _ := json.Marshal(p)
	p = nil
	_ = json.Unmarshal(b, &p)
	return p
}

func TestGBDTRegression(t *testing.T) {
	t.Parallel()
	X, y, _ := treeData(1500, 11)
	Xt, yt, _ := treeData(500, 12)
	e, err := NewEstimator(GBDTName, gbdtLoaderParams("squared_error"))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Fit(X, y); err != nil {
		t.Fatal(err)
	}
	pred, err := e.Predict(Xt)
	if err != nil {
		t.Fatal(err)
	}
	if r2 := RegressionMetrics(yt, pred)["r2_score"]; r2 < 0.9 {
		t.Errorf("R² %.4f", r2)
	}
	if c := e.(Classifier); c.Classes() != 0 {
		t.Errorf("Classes() %d", c.Classes())
	} else if _, err := c.PredictProba(Xt); err == nil {
		t.Error("regression PredictProba: no error")
	}
	imp := e.FeatureImportances()
	if slices.Index(imp, slices.Max(imp)) != 0 {
		t.Errorf("importances %v", imp)
	}
	raw, err := MarshalEstimator(e)
	if err != nil {
		t.Fatal(err)
	}
	e2, err := UnmarshalEstimator(GBDTName, raw)
	if err != nil {
		t.Fatal(err)
	}
	pred2, err := e2.Predict(Xt)
	if err != nil || !slices.Equal(pred, pred2) {
		t.Errorf("round trip: %v", err)
	}
	bad := NewMatrix(1, 4)
	bad.Data[0] = math.NaN()
	if _, err := e.Predict(bad); err == nil {
		t.Error("NaN: no error")
	}
}

func TestGBDTClassification(t *testing.T) {
	t.Parallel()
	X, _, cls := treeData(1500, 13)
	Xt, _, clst := treeData(500, 14)
	bin := make([]float64, len(cls))
	bint := make([]float64, len(clst))
	for i, c := range cls {
		bin[i] = min(c, 1)
	}
	for i, c := range clst {
		bint[i] = min(c, 1)
	}
	for _, tc := range []struct {
		y, yt []float64
		k     int
		loss  string
	}{{cls, clst, 3, "log_loss"}, {bin, bint, 2, "log_loss"}, {cls, clst, 3, "softmax"}, {bin, bint, 2, "softmax"}} {
		e, err := NewEstimator(GBDTName, gbdtLoaderParams(tc.loss))
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Fit(X, tc.y); err != nil {
			t.Fatal(err)
		}
		c := e.(Classifier)
		if c.Classes() != tc.k {
			t.Fatalf("Classes() %d, want %d", c.Classes(), tc.k)
		}
		pred, err := e.Predict(Xt)
		if err != nil {
			t.Fatal(err)
		}
		proba, err := c.PredictProba(Xt)
		if err != nil {
			t.Fatal(err)
		}
		ok := 0
		for i := range pred {
			r := proba.Row(i)
			if float64(slices.Index(r, slices.Max(r))) != pred[i] {
				t.Fatalf("row %d: proba %v, predicted %v", i, r, pred[i])
			}
			if pred[i] == tc.yt[i] {
				ok++
			}
		}
		if acc := float64(ok) / float64(len(pred)); acc < 0.85 {
			t.Errorf("k=%d: accuracy %.3f", tc.k, acc)
		}
		raw, _ := MarshalEstimator(e)
		e2, err := UnmarshalEstimator(GBDTName, raw)
		if err != nil {
			t.Fatal(err)
		}
		p2, _ := e2.(Classifier).PredictProba(Xt)
		if !slices.Equal(proba.Data, p2.Data) {
			t.Error("round trip changed the probabilities")
		}
	}
}

func TestGBDTParams(t *testing.T) {
	t.Parallel()
	e, err := NewGBDT(nil)
	if err != nil {
		t.Fatal(err)
	}
	if e.NEstimators != 100 || e.MaxLeafNodes != 31 || e.EarlyStopping != "auto" || e.Loss != "squared_error" {
		t.Errorf("defaults %+v", e)
	}
	e, err = NewGBDT(map[string]any{"max_leaf_nodes": nil, "early_stopping": false})
	if err != nil || e.MaxLeafNodes != gbdtUnlimitedLeaves || e.EarlyStopping != "false" {
		t.Errorf("%+v, %v", e, err)
	}
	for _, tc := range []struct {
		params map[string]any
		want   string
	}{
		{map[string]any{"loss": "poisson"}, "not supported"},
		{map[string]any{"loss": "huber"}, "loss"},
		{map[string]any{"early_stopping": "yes"}, "early_stopping"},
		{map[string]any{"early_stopping": 1}, "early_stopping"},
		{map[string]any{"max_depth": 0}, "max_depth"},
		{map[string]any{"learning_rate": 0}, "learning_rate"},
		{map[string]any{"max_bins": 300}, "MaxBins"},
		{map[string]any{"n_estimators": 0}, "n_estimators"},
		{map[string]any{"criterion": "gini"}, "unknown param"},
	} {
		if _, err := NewEstimator(GBDTName, tc.params); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one about %s", tc.params, err, tc.want)
		}
	}
}

func TestGBDTEarlyStoppingAuto(t *testing.T) {
	t.Parallel()
	big, ybig, _ := treeData(gbdtAutoEarlyStoppingRows+1, 15)
	small, ysmall, _ := treeData(2000, 16)
	for _, tc := range []struct {
		X    *Matrix
		y    []float64
		mode any
		want bool
	}{
		{big, ybig, "auto", true},
		{small, ysmall, "auto", false},
		{small, ysmall, true, true},
		{big, ybig, false, false},
	} {
		p := gbdtLoaderParams("squared_error")
		p["early_stopping"] = tc.mode
		p["n_estimators"] = 20
		e, err := NewGBDT(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Fit(tc.X, tc.y); err != nil {
			t.Fatal(err)
		}
		if got := e.model.ValidationScores() != nil; got != tc.want {
			t.Errorf("early_stopping %v on %d rows: early stopping %v, want %v", tc.mode, tc.X.Rows, got, tc.want)
		}
	}
}
