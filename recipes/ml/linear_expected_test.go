package ml

import (
	"encoding/json"
	"os"
	"sync"
	"testing"
)

// linearExpected is testdata/linear_expected.json, written by
// testdata/linear_expected.py with scikit-learn.
type linearExpected struct {
	SklearnVersion string `json:"sklearn_version"`
	Classification []struct {
		Name      string             `json:"name"`
		YTrue     []int              `json:"y_true"`
		Proba     [][]float64        `json:"proba"`
		Positive  int                `json:"positive"`
		Expected  map[string]float64 `json:"expected"`
		Confusion [][]int            `json:"confusion"`
		ROC       *struct {
			FPR        []float64 `json:"fpr"`
			TPR        []float64 `json:"tpr"`
			Thresholds []float64 `json:"thresholds"`
		} `json:"roc"`
		PR *struct {
			Precision  []float64 `json:"precision"`
			Recall     []float64 `json:"recall"`
			Thresholds []float64 `json:"thresholds"`
		} `json:"pr"`
	} `json:"classification"`
	EnetFixed struct {
		X    [][]float64 `json:"X"`
		Y    []float64   `json:"y"`
		Fits []enetFit   `json:"fits"`
	} `json:"enet_fixed"`
	WineLasso struct {
		Features []string  `json:"features"`
		Fits     []enetFit `json:"fits"`
	} `json:"wine_lasso"`
	Logistic []struct {
		Name      string   `json:"name"`
		TrainRows int      `json:"train_rows"`
		TestRows  int      `json:"test_rows"`
		XSum      float64  `json:"x_sum"`
		YSum      int      `json:"y_sum"`
		Features  []string `json:"features"`
		Classes   []string `json:"classes"`
		Fits      []struct {
			Params       map[string]any `json:"params"`
			Coef         [][]float64    `json:"coef"`
			Intercept    []float64      `json:"intercept"`
			OptimumCoef  [][]float64    `json:"optimum_coef"`
			OptimumIcpt  []float64      `json:"optimum_intercept"`
			NIter        int            `json:"n_iter"`
			TestAccuracy float64        `json:"test_accuracy"`
			TestProba    [][]float64    `json:"test_proba_head"`
		} `json:"fits"`
	} `json:"logistic"`
}

type enetFit struct {
	Estimator string         `json:"estimator"`
	Params    map[string]any `json:"params"`
	Coef      []float64      `json:"coef"`
	Intercept float64        `json:"intercept"`
	TestR2    float64        `json:"test_r2"`
	NIter     int            `json:"n_iter"`
}

var linearExpectedOnce = sync.OnceValues(func() (*linearExpected, error) {
	data, err := os.ReadFile("testdata/linear_expected.json")
	if err != nil {
		return nil, err
	}
	var e linearExpected
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, err
	}
	return &e, nil
})

func loadLinearExpected(t testing.TB) *linearExpected {
	t.Helper()
	e, err := linearExpectedOnce()
	if err != nil {
		t.Fatal(err)
	}
	return e
}
