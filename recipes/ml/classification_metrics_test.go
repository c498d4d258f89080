package ml

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

func matrixOf(rows [][]float64) *Matrix {
	m := NewMatrix(len(rows), len(rows[0]))
	for i, r := range rows {
		copy(m.Row(i), r)
	}
	return m
}

func TestClassificationMetricsMatchSklearn(t *testing.T) {
	t.Parallel()
	exp := loadLinearExpected(t)
	if len(exp.Classification) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range exp.Classification {
		proba := matrixOf(c.Proba)
		got := ClassificationMetrics(c.YTrue, proba, nil, c.Positive)
		if got == nil {
			t.Fatalf("%s: nil metrics: %v", c.Name, CheckClassificationInputs(c.YTrue, proba, nil, c.Positive))
		}
		if len(got) != len(c.Expected) {
			t.Errorf("%s: %d metrics %v, scikit-learn %d %v", c.Name, len(got), got, len(c.Expected), c.Expected)
		}
		for name, want := range c.Expected {
			if v, ok := got[name]; !ok || !near(v, want, 1e-9) {
				t.Errorf("%s: %s = %v, scikit-learn %v", c.Name, name, v, want)
			}
		}
		if cm := ConfusionMatrix(c.YTrue, argmaxRows(proba), proba.Cols); !reflect.DeepEqual(cm, c.Confusion) {
			t.Errorf("%s: confusion %v, scikit-learn %v", c.Name, cm, c.Confusion)
		}
		if c.ROC != nil {
			score := proba.colVector(c.Positive)
			fpr, tpr, thr := ROCCurve(c.YTrue, score, c.Positive)
			assertSlice(t, c.Name+" fpr", fpr, c.ROC.FPR, 1e-12)
			assertSlice(t, c.Name+" tpr", tpr, c.ROC.TPR, 1e-12)
			assertSlice(t, c.Name+" roc thresholds", thr, c.ROC.Thresholds, 1e-12)
			prec, rec, pthr := PRCurve(c.YTrue, score, c.Positive)
			assertSlice(t, c.Name+" precision", prec, c.PR.Precision, 1e-12)
			assertSlice(t, c.Name+" recall", rec, c.PR.Recall, 1e-12)
			assertSlice(t, c.Name+" pr thresholds", pthr, c.PR.Thresholds, 1e-12)
		}
	}
}

func TestClassificationMetricsEdgeCases(t *testing.T) {
	t.Parallel()
	p := matrixOf([][]float64{{0.8, 0.2}, {0.3, 0.7}, {0.6, 0.4}})
	// Only negatives: the ROC AUC and average precision are undefined.
	m := ClassificationMetrics([]int{0, 0, 0}, p, []string{"no", "yes"}, 1)
	if !math.IsNaN(m[MetricROCAUC]) || !math.IsNaN(m[MetricPRAUC]) || m[MetricPrecision] != 0 || m[MetricRecall] != 0 || m[MetricF1] != 0 {
		t.Fatalf("single class: %v", m)
	}
	if m[MetricAccuracy] != 2.0/3 || m[MetricFalsePositives] != 1 || m[MetricTrueNegatives] != 2 {
		t.Fatalf("single class: %v", m)
	}
	fpr, tpr, _ := ROCCurve([]int{1, 1}, []float64{0.2, 0.3}, 1)
	if !math.IsNaN(fpr[0]) || tpr[len(tpr)-1] != 1 {
		t.Fatalf("roc without negatives: %v %v", fpr, tpr)
	}
	_, rec, _ := PRCurve([]int{0, 0}, []float64{0.2, 0.3}, 1)
	if rec[0] != 1 || rec[len(rec)-1] != 0 {
		t.Fatalf("pr without positives: recall %v", rec)
	}
	for _, c := range []struct {
		y     []int
		proba *Matrix
		lab   []string
		pos   int
		want  string
	}{
		{[]int{0}, nil, nil, 1, "proba is nil"},
		{[]int{0, 1}, p, nil, 1, "2 true values but 3 rows"},
		{nil, &Matrix{Cols: 2}, nil, 1, "no examples"},
		{[]int{0, 1, 2}, p, nil, 1, "true class 2 of example 2"},
		{[]int{0, 1, -1}, p, nil, 1, "true class -1"},
		{[]int{0, 1, 1}, p, []string{"a"}, 1, "1 labels for 2 classes"},
		{[]int{0, 1, 1}, p, nil, 2, "positive class 2"},
		{[]int{0, 1, 1}, matrixOf([][]float64{{0.5, 0.5}, {math.NaN(), 1}, {1, 0}}), nil, 1, "probability [1][0] is NaN"},
		{[]int{0, 1, 1}, matrixOf([][]float64{{1}, {1}, {1}}), nil, -1, "1 classes"},
		{[]int{0, 1, 1}, matrixOf([][]float64{{1, 0, 0}, {0, 1, 0}, {0, 1, 0}}), nil, 1, "positive class is given but there are 3"},
		{[]int{0}, &Matrix{Rows: 1, Cols: 2, Data: []float64{1}}, nil, 1, "holds 1 values"},
	} {
		err := CheckClassificationInputs(c.y, c.proba, c.lab, c.pos)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("err = %v, want %q", err, c.want)
		}
		if m := ClassificationMetrics(c.y, c.proba, c.lab, c.pos); m != nil {
			t.Errorf("%q: metrics %v for bad input", c.want, m)
		}
	}
	if a, b, c := ROCCurve([]int{1}, []float64{math.Inf(1)}, 1); a != nil || b != nil || c != nil {
		t.Error("ROCCurve accepted Inf")
	}
	if a, b, c := PRCurve([]int{1, 0}, []float64{1}, 1); a != nil || b != nil || c != nil {
		t.Error("PRCurve accepted mismatched lengths")
	}
	cm := ConfusionMatrix([]int{0, 1, 2, 5}, []int{0, 2, 2, 0}, 3)
	if !reflect.DeepEqual(cm, [][]int{{1, 0, 0}, {0, 0, 1}, {0, 0, 1}}) {
		t.Errorf("confusion %v", cm)
	}
	if len(ConfusionMatrix(nil, nil, -1)) != 0 {
		t.Error("negative k")
	}
}

func TestClassificationGreaterIsBetter(t *testing.T) {
	t.Parallel()
	for _, name := range []string{MetricAccuracy, MetricPrecision, MetricRecall, MetricF1, MetricROCAUC, MetricPRAUC,
		MetricF1Macro, MetricF1Micro, MetricPrecisionMacro, MetricRecallMacro, MetricROCAUCOvR} {
		if !MetricGreaterIsBetter(name) {
			t.Errorf("%s: greater should be better", name)
		}
	}
	for _, name := range []string{MetricLogLoss, MetricTruePositives, MetricFalsePositives, MetricFalseNegatives, MetricCount} {
		if MetricGreaterIsBetter(name) {
			t.Errorf("%s: lower should be better", name)
		}
	}
}
