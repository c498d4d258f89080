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
// derive expressions, the fitted transformer and the estimator into one model
// bundle. With calibrate_proba it also fits a calibrator on the validation
// split and puts it in the bundle, so evaluate and predict, which read
// probabilities through the bundle, get calibrated ones.
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
	params := s.EstimatorParams
	var y []float64
	var labels []string
	var yIdx []int
	if isClassification(cfg) {
		if labels, err = classLabels(trainF, cfg.TargetCol, cfg.PositiveClass); err != nil {
			return nil, err
		}
		if yIdx, err = classIndexes(trainF, cfg.TargetCol, labels); err != nil {
			return nil, err
		}
		if s.RebalanceTrainingData {
			if keep := rebalance(trainF, yIdx, len(labels)); len(keep) < len(yIdx) {
				trainF = trainF.Take(keep)
				if X, err = ft.Transformer.Transform(trainF); err != nil {
					return nil, badInput("train: %w", err)
				}
				kept := make([]int, len(keep))
				for i, r := range keep {
					kept[i] = yIdx[r]
				}
				yIdx = kept
			}
		}
		y = make([]float64, len(yIdx))
		for i, k := range yIdx {
			y[i] = float64(k)
		}
		params = classifierParams(s.Estimator, params, len(labels))
	} else if y, err = targetValues(trainF, cfg.TargetCol); err != nil {
		return nil, err
	}
	est, err := ml.NewEstimator(s.Estimator, params)
	if err != nil {
		return nil, badInput("train: %w", err)
	}
	if err := est.Fit(X, y); err != nil {
		return nil, badInput("train: %s: %w", s.Estimator, err)
	}
	if _, ok := est.(ml.Classifier); isClassification(cfg) && !ok {
		return nil, badInput("train: estimator %s does not classify", s.Estimator)
	}
	var cal *calibration
	if isClassification(cfg) && s.CalibrateProba != "" {
		if cal, err = calibrate(est.(ml.Classifier), string(s.CalibrateProba), &ft, valRaw, cfg, labels); err != nil {
			return nil, err
		}
	}
	state, err := ml.MarshalEstimator(est)
	if err != nil {
		return nil, err
	}
	schema, err := inputSchema(trainRaw, &ft, cfg.TargetCol)
	if err != nil {
		return nil, badInput("train: %w", err)
	}
	// FormatVersion is left to Encode: the lowest version that holds the
	// bundle, so an uncalibrated model is the version 1 bundle it always was.
	b := &ml.Bundle{
		Template:      cfg.Template,
		Target:        cfg.TargetCol,
		InputSchema:   schema,
		Derive:        ft.Derive,
		Transformer:   ft.Transformer,
		EstimatorName: s.Estimator,
		Estimator:     state,
		ClassLabels:   labels,
		FeatureNames:  ft.Transformer.FeatureNames(),
	}
	model, _ := est.(ml.Classifier) // nil for a regressor
	if cal != nil {
		b.Calibrator = cal.calibrator
		if model, err = ml.NewCalibratedClassifier(model, cal.calibrator); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
	}
	metrics := map[string]float64{}
	var plot func(card *cards.Card)
	if isClassification(cfg) {
		proba, err := model.PredictProba(X)
		if err != nil {
			return nil, fmt.Errorf("train: predict training data: %w", err)
		}
		addMetrics(metrics, "training_", ml.ClassificationMetrics(yIdx, proba, labels, positiveIndex(labels, cfg.PositiveClass)))
		valMetrics, yVal, probaVal, err := classificationTable(b, valRaw, cfg.PositiveClass)
		if err != nil {
			return nil, err
		}
		addMetrics(metrics, "val_", valMetrics)
		plot = func(card *cards.Card) { addConfusion(card, "Confusion matrix (validation)", labels, yVal, probaVal) }
	} else {
		predTrain, err := est.Predict(X)
		if err != nil {
			return nil, fmt.Errorf("train: predict training data: %w", err)
		}
		addMetrics(metrics, "training_", ml.RegressionMetrics(y, predTrain))
		yVal, predVal, err := predictTable(b, valRaw)
		if err != nil {
			return nil, err
		}
		addMetrics(metrics, "val_", ml.RegressionMetrics(yVal, predVal))
		plot = func(card *cards.Card) {
			card.AddScatter("Predicted vs actual (validation)", yVal, predVal, "actual "+cfg.TargetCol, "predicted")
		}
	}

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
	if cal != nil {
		card.AddSummary(cards.KV{Key: "calibration", Value: cal.summary(metrics["val_"+ml.MetricLogLoss])})
	}
	card.AddMetrics("Metrics", metrics)
	addImportances(card, b.FeatureNames, est.FeatureImportances())
	plot(card)
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

// addConfusion shows the confusion matrix of predicted classes.
func addConfusion(card *cards.Card, title string, labels []string, y []int, proba *ml.Matrix) {
	pred := make([]int, proba.Rows)
	for i := range pred {
		row := proba.Row(i)
		for j, p := range row {
			if p > row[pred[i]] {
				pred[i] = j
			}
		}
	}
	cm := ml.ConfusionMatrix(y, pred, len(labels))
	header := append([]string{"actual \\ predicted"}, labels...)
	rows := make([][]string, len(labels))
	for i, l := range labels {
		rows[i] = append([]string{l}, make([]string, len(labels))...)
		for j := range labels {
			rows[i][j+1] = fmt.Sprint(cm[i][j])
		}
	}
	card.AddTable(title, header, rows)
}
