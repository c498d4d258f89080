package ml

import (
	"errors"
	"fmt"
	"math"
)

// The regression metric names, as MLflow's evaluator reports them.
const (
	MetricMAE          = "mean_absolute_error"
	MetricMSE          = "mean_squared_error"
	MetricRMSE         = "root_mean_squared_error"
	MetricMaxError     = "max_error"
	MetricMAPE         = "mean_absolute_percentage_error"
	MetricR2           = "r2_score"
	MetricCount        = "example_count"
	MetricMeanOnTarget = "mean_on_target"
	MetricSumOnTarget  = "sum_on_target"
)

// RegressionMetrics returns MLflow's regression metrics, each computed as
// scikit-learn's function of the same name does:
//
//   - mean_absolute_error, mean_squared_error, root_mean_squared_error, max_error
//   - mean_absolute_percentage_error: mean(|y - ŷ| / max(|y|, ε)), ε the
//     float64 machine epsilon, so a zero target gives a huge term, not Inf
//   - r2_score: 1 - Σ(y-ŷ)²/Σ(y-ȳ)²; for a constant y, 1 if the predictions are
//     exact and 0 otherwise; NaN for fewer than two examples
//   - example_count, mean_on_target (mean of y), sum_on_target (sum of y)
//
// yTrue and yPred must have the same length (it panics otherwise, as gonum's
// floats package does; CheckMetricInputs reports it as an error). With no
// examples only example_count (0) and sum_on_target (0) are returned.
func RegressionMetrics(yTrue, yPred []float64) map[string]float64 {
	if len(yTrue) != len(yPred) {
		panic(fmt.Sprintf("ml: RegressionMetrics: %d true values but %d predictions", len(yTrue), len(yPred)))
	}
	n := len(yTrue)
	if n == 0 {
		return map[string]float64{MetricCount: 0, MetricSumOnTarget: 0}
	}
	var sumAbs, sumSq, maxErr, sumPct, sumY float64
	for i, y := range yTrue {
		d := y - yPred[i]
		a := math.Abs(d)
		sumAbs += a
		sumSq += d * d
		if a > maxErr || math.IsNaN(a) {
			maxErr = a
		}
		sumPct += a / math.Max(math.Abs(y), eps)
		sumY += y
	}
	nf := float64(n)
	meanY := sumY / nf
	var ssTot float64
	for _, y := range yTrue {
		d := y - meanY
		ssTot += d * d
	}
	var r2 float64
	switch {
	case n < 2:
		r2 = math.NaN()
	case ssTot == 0 && sumSq == 0:
		r2 = 1
	case ssTot == 0:
		r2 = 0
	default:
		r2 = 1 - sumSq/ssTot
	}
	mse := sumSq / nf
	return map[string]float64{
		MetricMAE:          sumAbs / nf,
		MetricMSE:          mse,
		MetricRMSE:         math.Sqrt(mse),
		MetricMaxError:     maxErr,
		MetricMAPE:         sumPct / nf,
		MetricR2:           r2,
		MetricCount:        nf,
		MetricMeanOnTarget: meanY,
		MetricSumOnTarget:  sumY,
	}
}

// CheckMetricInputs returns an error unless yTrue and yPred are non-empty,
// of equal length and finite.
func CheckMetricInputs(yTrue, yPred []float64) error {
	if len(yTrue) != len(yPred) {
		return fmt.Errorf("ml: metrics: %d true values but %d predictions", len(yTrue), len(yPred))
	}
	if len(yTrue) == 0 {
		return errors.New("ml: metrics: no examples")
	}
	for i := range yTrue {
		if !finite(yTrue[i]) || !finite(yPred[i]) {
			return fmt.Errorf("ml: metrics: example %d is not finite (true %v, predicted %v)", i, yTrue[i], yPred[i])
		}
	}
	return nil
}

// MetricGreaterIsBetter reports whether a larger value of the named built-in
// metric is better: true for r2_score and the classification scores
// (accuracy_score, f1_score, precision_score, recall_score, roc_auc,
// precision_recall_auc, roc_auc_ovr and the macro and micro averages), false
// for errors, losses (log_loss), counts and unknown names.
func MetricGreaterIsBetter(name string) bool {
	switch name {
	case MetricR2, MetricAccuracy, MetricF1, MetricPrecision, MetricRecall, MetricROCAUC, MetricPRAUC,
		MetricROCAUCOvR, MetricF1Macro, MetricF1Micro, MetricPrecisionMacro, MetricRecallMacro:
		return true
	}
	return false
}
