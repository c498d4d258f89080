package ml

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

const goldenLinearPath = "testdata/golden/linear_estimators_v1.json"

// goldenLinearCase is one estimator's marshalled state and what it predicted
// when the golden file was written.
type goldenLinearCase struct {
	Name    string          `json:"name"`
	Params  map[string]any  `json:"params"`
	State   json.RawMessage `json:"state"`
	Predict []float64       `json:"predict"`
	Proba   []float64       `json:"proba,omitempty"`
}

// goldenLinearData is a small fixed design with a regression target and
// binary and 3-class targets.
func goldenLinearData() (X *Matrix, yReg, yBin, y3 []float64) {
	n := 40
	X = NewMatrix(n, 3)
	for i := 0; i < n; i++ {
		t := float64(i)
		row := X.Row(i)
		row[0] = math.Sin(t)
		row[1] = math.Cos(1.7*t) + 0.1*t/float64(n)
		row[2] = float64(i%4) - 1.5
		yReg = append(yReg, 2*row[0]-row[1]+0.3*row[2]+0.2*math.Sin(5*t))
		yBin = append(yBin, float64(i%2)*boolFloat(row[0]+0.5*math.Sin(3*t) > -0.6)+float64(1-i%2)*boolFloat(row[0] > 0.6))
		y3 = append(y3, float64(i%3))
	}
	return X, yReg, yBin, y3
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// TestGoldenLinearEstimators decodes lasso, elastic_net and
// logistic_regression states written by an earlier version and checks their
// predictions (and probabilities) are unchanged, and that fitting afresh
// gives them too. Run with -update to rewrite the golden file after an
// intended change.
func TestGoldenLinearEstimators(t *testing.T) {
	X, yReg, yBin, y3 := goldenLinearData()
	specs := []struct {
		name   string
		params map[string]any
		y      []float64
	}{
		{LassoName, map[string]any{"alpha": 0.05}, yReg},
		{ElasticNetName, map[string]any{"alpha": 0.1, "l1_ratio": 0.3}, yReg},
		{LogisticRegressionName, map[string]any{"C": 2.0}, yBin},
		{LogisticRegressionName, map[string]any{"C": 0.5, "fit_intercept": false}, y3},
	}
	fresh := make([]goldenLinearCase, len(specs))
	for i, s := range specs {
		est, err := NewEstimator(s.name, s.params)
		if err != nil {
			t.Fatal(err)
		}
		if err := est.Fit(X, s.y); err != nil {
			t.Fatal(err)
		}
		c := goldenLinearCase{Name: s.name, Params: s.params}
		if c.State, err = MarshalEstimator(est); err != nil {
			t.Fatal(err)
		}
		if c.Predict, err = est.Predict(X); err != nil {
			t.Fatal(err)
		}
		if cl, ok := est.(Classifier); ok {
			p, err := cl.PredictProba(X)
			if err != nil {
				t.Fatal(err)
			}
			c.Proba = p.Data
		}
		fresh[i] = c
	}
	if *update {
		data, _ := json.MarshalIndent(fresh, "", " ")
		if err := os.WriteFile(goldenLinearPath, append(data, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", goldenLinearPath)
	}
	data, err := os.ReadFile(goldenLinearPath)
	if err != nil {
		t.Fatalf("%v (run go test -run TestGoldenLinearEstimators -update to create it)", err)
	}
	var golden []goldenLinearCase
	if err := json.Unmarshal(data, &golden); err != nil {
		t.Fatal(err)
	}
	if len(golden) != len(fresh) {
		t.Fatalf("%d golden cases, %d now", len(golden), len(fresh))
	}
	for i, g := range golden {
		est, err := UnmarshalEstimator(g.Name, g.State)
		if err != nil {
			t.Fatalf("golden %s no longer loads: %v", g.Name, err)
		}
		got, err := est.Predict(X)
		if err != nil {
			t.Fatal(err)
		}
		assertSlice(t, g.Name+" golden predictions", got, g.Predict, 1e-12)
		// A fresh fit reaches the same optimum within the solver's
		// tolerance, not to the last bit: the golden logistic fits were made
		// by an L-BFGS that stopped about 2e-6 short of the optimum the
		// present Newton-CG reaches.
		assertSlice(t, g.Name+" fresh predictions", fresh[i].Predict, g.Predict, 1e-5)
		if g.Proba != nil {
			p, err := est.(Classifier).PredictProba(X)
			if err != nil {
				t.Fatal(err)
			}
			assertSlice(t, g.Name+" golden proba", p.Data, g.Proba, 1e-12)
			assertSlice(t, g.Name+" fresh proba", fresh[i].Proba, g.Proba, 1e-5)
		}
	}
}
