package steps

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/sous-ml/sous/recipes"
	"github.com/sous-ml/sous/recipes/cards"
	"github.com/sous-ml/sous/recipes/frame"
	"github.com/sous-ml/sous/recipes/ml"
)

// This file holds what the classification/v1 template adds to the steps:
// class labels, class indexes, classifier parameters, probability
// calibration, probabilities and metrics.

func isClassification(cfg *recipes.JobConfig) bool {
	return cfg.Template == recipes.TemplateClassification
}

// classLabels returns the target's classes in index order. With a positive
// class (binary classification) there must be exactly two, and the positive
// one is index 1; otherwise they are sorted (numerically for numbers).
func classLabels(f *frame.Frame, target, positive string) ([]string, error) {
	col, ok := f.Col(target)
	if !ok {
		return nil, badInput("target column %q is missing", target)
	}
	seen := map[string]bool{}
	for i := range col.Len() {
		if !col.IsNull(i) {
			seen[col.Str(i)] = true
		}
	}
	labels := make([]string, 0, len(seen))
	for l := range seen {
		labels = append(labels, l)
	}
	if col.Kind.Numeric() {
		sort.Slice(labels, func(i, j int) bool {
			a, _ := strconv.ParseFloat(labels[i], 64)
			b, _ := strconv.ParseFloat(labels[j], 64)
			return a < b
		})
	} else {
		sort.Strings(labels)
	}
	if len(labels) < 2 {
		return nil, badInput("target column %q has %d class in the training data (%s); classification needs at least two", target, len(labels), strings.Join(labels, ", "))
	}
	if positive == "" {
		return labels, nil
	}
	if len(labels) != 2 {
		return nil, badInput("positive_class %q makes this a binary classification, but target column %q has %d classes: %s; remove positive_class for multiclass", positive, target, len(labels), strings.Join(labels, ", "))
	}
	i := slices.Index(labels, positive)
	if i < 0 {
		return nil, badInput("positive_class %q is not a class of target column %q (classes: %s)", positive, target, strings.Join(labels, ", "))
	}
	return []string{labels[1-i], labels[i]}, nil
}

// classIndexes maps the target column to class indexes; a class the model
// was not trained on is an error naming it.
func classIndexes(f *frame.Frame, target string, labels []string) ([]int, error) {
	col, ok := f.Col(target)
	if !ok {
		return nil, badInput("target column %q is missing", target)
	}
	index := make(map[string]int, len(labels))
	for i, l := range labels {
		index[l] = i
	}
	y := make([]int, col.Len())
	for i := range y {
		if col.IsNull(i) {
			return nil, badInput("target column %q is null at row %d", target, i)
		}
		k, ok := index[col.Str(i)]
		if !ok {
			return nil, badInput("target column %q has class %q at row %d, which the training data does not have (classes: %s)", target, col.Str(i), i, strings.Join(labels, ", "))
		}
		y[i] = k
	}
	return y, nil
}

// classifierParams sets the task of estimators that serve both templates.
func classifierParams(estimator string, params map[string]any, classes int) map[string]any {
	out := make(map[string]any, len(params)+1)
	for k, v := range params {
		out[k] = v
	}
	switch estimator {
	case ml.DecisionTreeName, ml.RandomForestName:
		out["criterion"] = ml.CriterionGini
	case "gbdt":
		if classes > 2 {
			out["loss"] = "softmax"
		} else {
			out["loss"] = "log_loss"
		}
	}
	return out
}

// positiveIndex is the index of the positive class, or -1 for multiclass.
func positiveIndex(labels []string, positive string) int {
	if positive == "" {
		return -1
	}
	return slices.Index(labels, positive)
}

// probabilities returns the class probabilities of a frame (derived columns applied).
func probabilities(b *ml.Bundle, f *frame.Frame) (*ml.Matrix, error) {
	X, err := b.Transformer.Transform(f)
	if err != nil {
		return nil, badInput("%w", err)
	}
	e, err := b.Model()
	if err != nil {
		return nil, err
	}
	c, ok := e.(ml.Classifier)
	if !ok {
		return nil, fmt.Errorf("estimator %s is not a classifier", e.Name())
	}
	return c.PredictProba(X)
}

// classificationTable computes the metrics of a raw table, returning the
// class indexes and probabilities too.
func classificationTable(b *ml.Bundle, raw *frame.Frame, positive string) (map[string]float64, []int, *ml.Matrix, error) {
	f, err := applyDerive(raw, b.Derive)
	if err != nil {
		return nil, nil, nil, badInput("%w", err)
	}
	y, err := classIndexes(f, b.Target, b.ClassLabels)
	if err != nil {
		return nil, nil, nil, err
	}
	proba, err := probabilities(b, f)
	if err != nil {
		return nil, nil, nil, err
	}
	return ml.ClassificationMetrics(y, proba, b.ClassLabels, positiveIndex(b.ClassLabels, positive)), y, proba, nil
}

// rebalance downsamples classes with more than rebalanceRatio times the rows
// of the smallest class, choosing rows by their hash so the choice is
// deterministic. It returns the rows to keep.
func rebalance(f *frame.Frame, y []int, classes int) []int {
	counts := make([]int, classes)
	for _, k := range y {
		counts[k]++
	}
	smallest := math.MaxInt
	for _, c := range counts {
		if c > 0 && c < smallest {
			smallest = c
		}
	}
	limit := smallest * rebalanceRatio
	hashes := rowHashes(f)
	byClass := make([][]int, classes)
	for i, k := range y {
		byClass[k] = append(byClass[k], i)
	}
	var keep []int
	for _, rows := range byClass {
		if len(rows) > limit {
			sort.Slice(rows, func(a, b int) bool { return hashes[rows[a]] < hashes[rows[b]] })
			rows = rows[:limit]
		}
		keep = append(keep, rows...)
	}
	sort.Ints(keep)
	return keep
}

// rebalanceRatio is the largest class size rebalance_training_data keeps,
// as a multiple of the smallest class.
const rebalanceRatio = 3

// calibration is the calibrator train fitted for calibrate_proba, with what
// the train card says about it.
type calibration struct {
	calibrator *ml.Calibrator
	rows       int     // validation rows it was fitted on
	rawLogLoss float64 // their log loss before calibration
}

// calibrate fits calibrate_proba's calibrator on the validation split, as
// MLflow Recipes did with scikit-learn's CalibratedClassifierCV(cv="prefit"):
// the estimator never saw those rows, so the calibrator learns how its
// probabilities on new data relate to the truth (on the training rows they
// are overconfident). The validation split is not rebalanced: the
// calibrated probabilities should reflect the real class frequencies.
func calibrate(c ml.Classifier, method string, ft *fittedTransform, valRaw *frame.Frame, cfg *recipes.JobConfig, labels []string) (*calibration, error) {
	valF, err := applyDerive(valRaw, ft.Derive)
	if err != nil {
		return nil, badInput("train: calibrate_proba: validation data: %w", err)
	}
	y, err := classIndexes(valF, cfg.TargetCol, labels)
	if err != nil {
		return nil, err
	}
	if len(y) == 0 {
		return nil, badInput("train: calibrate_proba: the validation split is empty, and the calibrator is fitted on it; give split_ratios a larger validation share or use more data")
	}
	counts := make([]int, len(labels))
	for _, k := range y {
		counts[k]++
	}
	var missing []string
	for k, n := range counts {
		if n == 0 {
			missing = append(missing, strconv.Quote(labels[k]))
		}
	}
	if len(missing) > 0 {
		return nil, badInput("train: calibrate_proba: the validation split has no rows of class %s; the calibrator is fitted on the validation split and needs rows of every class (give split_ratios a larger validation share or use more data)", strings.Join(missing, ", "))
	}
	X, err := ft.Transformer.Transform(valF)
	if err != nil {
		return nil, badInput("train: calibrate_proba: validation data: %w", err)
	}
	proba, err := c.PredictProba(X)
	if err != nil {
		return nil, fmt.Errorf("train: predict validation data: %w", err)
	}
	cal, err := ml.FitCalibrator(method, proba, y)
	if err != nil {
		return nil, badInput("train: calibrate_proba: %w", err)
	}
	raw := ml.ClassificationMetrics(y, proba, labels, positiveIndex(labels, cfg.PositiveClass))
	return &calibration{calibrator: cal, rows: len(y), rawLogLoss: raw[ml.MetricLogLoss]}, nil
}

// summary is the card's line about calibration: the method, the rows it
// was fitted on, and the validation log loss before and after (on the rows
// the calibrator was fitted on, so it shows the fit; evaluate's test_
// metrics estimate what it does for new data). It fits an 80-column summary.
func (c *calibration) summary(valLogLoss float64) string {
	return fmt.Sprintf("%s on %d validation rows, log_loss %s → %s",
		c.calibrator.Method, c.rows, cards.FormatFloat(c.rawLogLoss), cards.FormatFloat(valLogLoss))
}
