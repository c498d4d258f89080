package ml

import (
	"math"
	"strings"
	"testing"
)

func TestRegressionMetricsEdgeCases(t *testing.T) {
	t.Parallel()
	m := RegressionMetrics(nil, nil)
	if len(m) != 2 || m[MetricCount] != 0 || m[MetricSumOnTarget] != 0 {
		t.Fatalf("empty: %v", m)
	}
	m = RegressionMetrics([]float64{3}, []float64{1})
	if !math.IsNaN(m[MetricR2]) || m[MetricMAE] != 2 || m[MetricMaxError] != 2 || m[MetricCount] != 1 {
		t.Fatalf("one example: %v", m)
	}
	// A zero target divides by machine epsilon, as scikit-learn does.
	m = RegressionMetrics([]float64{0, 1}, []float64{1, 1})
	if want := (1 / eps) / 2; m[MetricMAPE] != want {
		t.Fatalf("mape = %v, want %v", m[MetricMAPE], want)
	}
	for _, name := range []string{MetricMAE, MetricMSE, MetricRMSE, MetricMaxError, MetricMAPE, MetricR2, MetricCount, MetricMeanOnTarget, MetricSumOnTarget} {
		if _, ok := m[name]; !ok {
			t.Errorf("missing %s", name)
		}
	}
	func() {
		defer func() {
			if r := recover(); r == nil || !strings.Contains(r.(string), "2 true values but 1 predictions") {
				t.Errorf("length mismatch: recovered %v", r)
			}
		}()
		RegressionMetrics([]float64{1, 2}, []float64{1})
	}()
}

func TestCheckMetricInputs(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		y, p []float64
		want string
	}{
		{[]float64{1}, []float64{1, 2}, "1 true values but 2 predictions"},
		{nil, nil, "no examples"},
		{[]float64{1, 2}, []float64{1, math.NaN()}, "example 1 is not finite"},
	} {
		if err := CheckMetricInputs(c.y, c.p); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("err = %v, want %q", err, c.want)
		}
	}
	if err := CheckMetricInputs([]float64{1}, []float64{2}); err != nil {
		t.Error(err)
	}
}

func TestMetricGreaterIsBetter(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{
		MetricR2: true, MetricMAE: false, MetricMSE: false, MetricRMSE: false, MetricMaxError: false,
		MetricMAPE: false, MetricCount: false, "accuracy_score": true, "roc_auc": true, "log_loss": false, "custom": false,
	} {
		if got := MetricGreaterIsBetter(name); got != want {
			t.Errorf("MetricGreaterIsBetter(%s) = %v, want %v", name, got, want)
		}
	}
}
