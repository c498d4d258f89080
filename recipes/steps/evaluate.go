package steps

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"

	"github.com/sous-ml/sous/proto"
	"github.com/sous-ml/sous/recipes"
	"github.com/sous-ml/sous/recipes/cards"
	"github.com/sous-ml/sous/recipes/frame"
	"github.com/sous-ml/sous/recipes/ml"
	"github.com/sous-ml/sous/worker"
)

// Validation statuses, as MLflow names them.
const (
	Validated = "VALIDATED"
	Rejected  = "REJECTED"
	Unknown   = "UNKNOWN"
)

// evaluation is the metrics artifact evaluate writes and register reads.
type evaluation struct {
	Metrics          map[string]float64 `json:"metrics"`
	ValidationStatus string             `json:"validation_status"`
	Criteria         []criterionResult  `json:"criteria,omitempty"`
}

type criterionResult struct {
	Metric    string  `json:"metric"`
	Threshold float64 `json:"threshold"`
	Value     float64 `json:"value"`
	Passed    bool    `json:"passed"`
}

// evaluate scores the model on every split and checks validation_criteria
// against the test metrics.
func evaluate(ctx context.Context, job *proto.Job, cfg *recipes.JobConfig, env *worker.Env) (*worker.Output, error) {
	var s recipes.EvaluateSettings
	if err := cfg.Decode(&s); err != nil {
		return nil, err
	}
	b, err := readModel(ctx, job, env)
	if err != nil {
		return nil, err
	}
	metrics := map[string]float64{}
	var yTest, predTest []float64
	var classTest []int
	var probaTest *ml.Matrix
	for _, part := range []struct{ input, prefix string }{
		{"training_data", "training_"}, {"validation_data", "val_"}, {"test_data", "test_"},
	} {
		raw, err := readTable(ctx, job, env, part.input)
		if err != nil {
			return nil, err
		}
		if isClassification(cfg) {
			m, y, proba, err := classificationTable(b, raw, cfg.PositiveClass)
			if err != nil {
				return nil, err
			}
			addMetrics(metrics, part.prefix, m)
			classTest, probaTest = y, proba
			continue
		}
		y, pred, err := predictTable(b, raw)
		if err != nil {
			return nil, err
		}
		addMetrics(metrics, part.prefix, ml.RegressionMetrics(y, pred))
		yTest, predTest = y, pred
	}
	ev := evaluation{Metrics: metrics, ValidationStatus: Unknown}
	if len(s.ValidationCriteria) > 0 {
		ev.ValidationStatus = Validated
		for _, c := range s.ValidationCriteria {
			v, ok := metrics["test_"+c.Metric]
			if !ok {
				return nil, badInput("evaluate: validation_criteria: metric %q was not computed", c.Metric)
			}
			passed := v <= c.Threshold
			if ml.MetricGreaterIsBetter(c.Metric) {
				passed = v >= c.Threshold
			}
			if math.IsNaN(v) {
				passed = false
			}
			if !passed {
				ev.ValidationStatus = Rejected
			}
			ev.Criteria = append(ev.Criteria, criterionResult{Metric: c.Metric, Threshold: c.Threshold, Value: v, Passed: passed})
		}
	}
	// JSON has no NaN: an undefined metric (r2 of a one-row split, ROC AUC
	// of a split with one class) is left out of the artifact.
	stored := ev
	stored.Metrics = map[string]float64{}
	for k, v := range ev.Metrics {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			stored.Metrics[k] = v
		}
	}
	for i, c := range stored.Criteria {
		if math.IsNaN(c.Value) || math.IsInf(c.Value, 0) {
			stored.Criteria[i].Value = 0
		}
	}
	data, err := json.Marshal(stored)
	if err != nil {
		return nil, err
	}
	ref, err := writeBlob(ctx, env, "metrics", data)
	if err != nil {
		return nil, err
	}
	card := newCard(job, "Model evaluation")
	card.AddSummary(
		cards.KV{Key: "validation status", Value: ev.ValidationStatus},
		cards.KV{Key: "primary metric", Value: fmt.Sprintf("%s = %.6g (test)", cfg.PrimaryMetric, metrics["test_"+cfg.PrimaryMetric])},
	)
	if len(ev.Criteria) > 0 {
		rows := [][]string{}
		for _, c := range ev.Criteria {
			mark := "pass"
			if !c.Passed {
				mark = "FAIL"
				card.AddWarning(fmt.Sprintf("%s on test data is %.6g, threshold %.6g", c.Metric, c.Value, c.Threshold))
			}
			rows = append(rows, []string{c.Metric, fmt.Sprintf("%.6g", c.Threshold), fmt.Sprintf("%.6g", c.Value), mark})
		}
		card.AddTable("Validation criteria (test data)", []string{"metric", "threshold", "value", "result"}, rows)
	}
	card.AddMetrics("Metrics", metrics)
	if isClassification(cfg) {
		addConfusion(card, "Confusion matrix (test)", b.ClassLabels, classTest, probaTest)
		if pos := positiveIndex(b.ClassLabels, cfg.PositiveClass); pos >= 0 {
			score := make([]float64, probaTest.Rows)
			for i := range score {
				score[i] = probaTest.At(i, pos)
			}
			fpr, tpr, _ := ml.ROCCurve(classTest, score, pos)
			card.AddScatter("ROC curve (test)", fpr, tpr, "false positive rate", "true positive rate")
		}
	} else {
		residuals := make([]float64, len(yTest))
		for i := range residuals {
			residuals[i] = yTest[i] - predTest[i]
		}
		card.AddScatter("Predicted vs actual (test)", yTest, predTest, "actual", "predicted")
		card.AddHistogram("Residuals (test)", residuals, 40)
	}
	return &worker.Output{
		Outputs:          map[string]proto.ArtifactRef{"metrics": ref},
		Metrics:          metrics,
		Summary:          card.Text(80),
		Card:             card.HTML(),
		ValidationStatus: ev.ValidationStatus,
	}, nil
}

// readModel loads the job's model bundle.
func readModel(ctx context.Context, job *proto.Job, env *worker.Env) (*ml.Bundle, error) {
	data, err := readBlob(ctx, job, env, "model")
	if err != nil {
		return nil, err
	}
	b, err := ml.DecodeBundle(bytes.NewReader(data))
	if err != nil {
		return nil, badInput("%s: model: %w", job.Step, err)
	}
	return b, nil
}

// predictTable derives, transforms and predicts a raw table, returning the target and the predictions.
func predictTable(b *ml.Bundle, raw *frame.Frame) (y, pred []float64, err error) {
	f, err := applyDerive(raw, b.Derive)
	if err != nil {
		return nil, nil, badInput("%w", err)
	}
	if y, err = targetValues(f, b.Target); err != nil {
		return nil, nil, err
	}
	if pred, err = b.Predict(f); err != nil {
		return nil, nil, badInput("%w", err)
	}
	return y, pred, nil
}
