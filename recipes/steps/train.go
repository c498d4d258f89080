package steps

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"

	"github.com/sous-ml/sous/proto"
	"github.com/sous-ml/sous/recipes"
	"github.com/sous-ml/sous/recipes/cards"
	"github.com/sous-ml/sous/recipes/expr"
	"github.com/sous-ml/sous/recipes/frame"
	"github.com/sous-ml/sous/recipes/ml"
	"github.com/sous-ml/sous/worker"
)

// train fits the estimator on the transformed training split and packs the
// derive expressions, the fitted transformer and the estimator into one model bundle.
func train(ctx context.Context, job *proto.Job, cfg *recipes.JobConfig, env *worker.Env) (*worker.Output, error) {
	var s recipes.TrainSettings
	if err := cfg.Decode(&s); err != nil {
		return nil, err
	}
	blob, err := readBlob(ctx, job, env, "transformer")
	if err != nil {
		return nil, err
	}
	var ft fittedTransform
	if err := json.Unmarshal(blob, &ft); err != nil {
		return nil, fmt.Errorf("train: transformer: %w", err)
	}
	trainRaw, err := readTable(ctx, job, env, "training_data")
	if err != nil {
		return nil, err
	}
	valRaw, err := readTable(ctx, job, env, "validation_data")
	if err != nil {
		return nil, err
	}
	trainF, err := applyDerive(trainRaw, ft.Derive)
	if err != nil {
		return nil, badInput("train: %w", err)
	}
	X, err := ft.Transformer.Transform(trainF)
	if err != nil {
		return nil, badInput("train: %w", err)
	}
	y, err := targetValues(trainF, cfg.TargetCol)
	if err != nil {
		return nil, err
	}
	est, err := ml.NewEstimator(s.Estimator, s.EstimatorParams)
	if err != nil {
		return nil, badInput("train: %w", err)
	}
	if err := est.Fit(X, y); err != nil {
		return nil, badInput("train: %s: %w", s.Estimator, err)
	}
	state, err := ml.MarshalEstimator(est)
	if err != nil {
		return nil, err
	}
	schema, err := inputSchema(trainRaw, &ft, cfg.TargetCol)
	if err != nil {
		return nil, badInput("train: %w", err)
	}
	b := &ml.Bundle{
		FormatVersion: ml.BundleFormatVersion,
		Template:      cfg.Template,
		Target:        cfg.TargetCol,
		InputSchema:   schema,
		Derive:        ft.Derive,
		Transformer:   ft.Transformer,
		EstimatorName: s.Estimator,
		Estimator:     state,
		FeatureNames:  ft.Transformer.FeatureNames(),
	}
	metrics := map[string]float64{}
	predTrain, err := est.Predict(X)
	if err != nil {
		return nil, fmt.Errorf("train: predict training data: %w", err)
	}
	addMetrics(metrics, "training_", ml.RegressionMetrics(y, predTrain))
	valF, err := applyDerive(valRaw, ft.Derive)
	if err != nil {
		return nil, badInput("train: %w", err)
	}
	yVal, err := targetValues(valF, cfg.TargetCol)
	if err != nil {
		return nil, err
	}
	predVal, err := b.Predict(valF)
	if err != nil {
		return nil, fmt.Errorf("train: predict validation data: %w", err)
	}
	addMetrics(metrics, "val_", ml.RegressionMetrics(yVal, predVal))

	var buf bytes.Buffer
	if err := b.Encode(&buf); err != nil {
		return nil, fmt.Errorf("train: encode model: %w", err)
	}
	ref, err := writeBlob(ctx, env, "model", buf.Bytes())
	if err != nil {
		return nil, err
	}

	card := newCard(job, "Model training")
	card.AddSummary(
		cards.KV{Key: "estimator", Value: s.Estimator},
		cards.KV{Key: "params", Value: fmt.Sprint(s.EstimatorParams)},
		cards.KV{Key: "training rows", Value: fmt.Sprint(X.Rows)},
		cards.KV{Key: "features", Value: fmt.Sprint(X.Cols)},
	)
	card.AddMetrics("Metrics", metrics)
	addImportances(card, b.FeatureNames, est.FeatureImportances())
	card.AddScatter("Predicted vs actual (validation)", yVal, predVal, "actual "+cfg.TargetCol, "predicted")
	return &worker.Output{
		Outputs: map[string]proto.ArtifactRef{"model": ref},
		Metrics: metrics,
		Summary: card.Text(80),
		Card:    card.HTML(),
	}, nil
}

// targetValues returns the target column as float64; a null or non-finite
// target here is a bug upstream (split drops null targets).
func targetValues(f *frame.Frame, target string) ([]float64, error) {
	col, ok := f.Col(target)
	if !ok {
		return nil, badInput("target column %q is missing", target)
	}
	if !col.Kind.Numeric() {
		return nil, badInput("target column %q is a %s column; regression needs numbers", target, col.Kind)
	}
	y := make([]float64, f.Len())
	for i := range y {
		y[i] = col.Float(i)
		if math.IsNaN(y[i]) || math.IsInf(y[i], 0) {
			return nil, badInput("target column %q has a non-finite value at row %d", target, i)
		}
	}
	return y, nil
}

// inputSchema is the raw columns the model reads: what the derive
// expressions and the transformer use, less the derived columns themselves.
func inputSchema(raw *frame.Frame, ft *fittedTransform, target string) ([]ml.Field, error) {
	derived := map[string]bool{}
	need := map[string]bool{}
	schema := map[string]frame.Kind{}
	for _, c := range raw.Cols {
		schema[c.Name] = c.Kind
	}
	for _, d := range ft.Derive {
		p, err := expr.Compile(d.Expr, schema)
		if err != nil {
			return nil, fmt.Errorf("derive %s: %w", d.Name, err)
		}
		for _, c := range p.Columns() {
			if !derived[c] {
				need[c] = true
			}
		}
		derived[d.Name] = true
		schema[d.Name] = p.Type()
	}
	for _, c := range ft.Transformer.InputColumns() {
		if !derived[c] {
			need[c] = true
		}
	}
	delete(need, target)
	var out []ml.Field
	for _, c := range raw.Cols {
		if need[c.Name] {
			out = append(out, ml.Field{Name: c.Name, Kind: c.Kind.String()})
		}
	}
	return out, nil
}

func addMetrics(dst map[string]float64, prefix string, m map[string]float64) {
	for k, v := range m {
		dst[prefix+k] = v
	}
}

// addImportances shows the 20 most important features.
func addImportances(card *cards.Card, names []string, imp []float64) {
	if len(imp) != len(names) || len(imp) == 0 {
		return
	}
	idx := make([]int, len(imp))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return imp[idx[a]] > imp[idx[b]] })
	if len(idx) > 20 {
		idx = idx[:20]
	}
	labels := make([]string, len(idx))
	vals := make([]float64, len(idx))
	for i, j := range idx {
		labels[i], vals[i] = names[j], imp[j]
	}
	card.AddBars("Feature importances", labels, vals)
}
