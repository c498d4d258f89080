package steps

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/sous-ml/sous/recipes/frame"
	"github.com/sous-ml/sous/recipes/ml"
)

// scoreBatch appends the prediction columns to a batch of input rows and
// returns the per-row prediction (for classification, the predicted class's score).
func scoreBatch(b *ml.Bundle, est ml.Estimator, data *frame.Frame, resultType string) (*frame.Frame, []float64, error) {
	f, err := applyDerive(data, b.Derive)
	if err != nil {
		return nil, nil, badInput("predict: %w", err)
	}
	X, err := b.Transformer.Transform(f)
	if err != nil {
		return nil, nil, badInput("predict: %w", err)
	}
	scored := &frame.Frame{Cols: append([]*frame.Column(nil), data.Cols...)}
	if len(b.ClassLabels) == 0 {
		pred, err := est.Predict(X)
		if err != nil {
			return nil, nil, badInput("predict: %w", err)
		}
		scored.Cols = append(scored.Cols, predictionColumn(pred, resultType))
		return scored, pred, nil
	}
	// Classification: the predicted label and a score per class, as MLflow names them.
	c, ok := est.(ml.Classifier)
	if !ok {
		return nil, nil, badInput("predict: estimator %s is not a classifier", est.Name())
	}
	proba, err := c.PredictProba(X)
	if err != nil {
		return nil, nil, badInput("predict: %w", err)
	}
	labels := make([]string, proba.Rows)
	pred := make([]float64, proba.Rows)
	for i := range labels {
		best := 0
		for j := range proba.Cols {
			if proba.At(i, j) > proba.At(i, best) {
				best = j
			}
		}
		labels[i], pred[i] = b.ClassLabels[best], proba.At(i, best)
	}
	scored.Cols = append(scored.Cols, frame.NewStringColumn("predicted_label", labels))
	for j, l := range b.ClassLabels {
		col := make([]float64, proba.Rows)
		for i := range col {
			col[i] = proba.At(i, j)
		}
		scored.Cols = append(scored.Cols, frame.NewFloatColumn("predicted_score_"+l, col))
	}
	return scored, pred, nil
}

// checkSchema names every column the model needs that the data lacks or has with another type.
func checkSchema(b *ml.Bundle, schema []frame.Field) error {
	kinds := make(map[string]frame.Kind, len(schema))
	for _, f := range schema {
		kinds[f.Name] = f.Kind
	}
	var problems []string
	for _, field := range b.InputSchema {
		k, ok := kinds[field.Name]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%s (%s) is missing", field.Name, field.Kind))
		case k.String() != field.Kind && !(k.Numeric() && numericKind(field.Kind)):
			problems = append(problems, fmt.Sprintf("%s is %s, the model needs %s", field.Name, k, field.Kind))
		}
	}
	if len(problems) > 0 {
		return badInput("predict: the scoring data does not fit the model's input schema: %s", strings.Join(problems, "; "))
	}
	return nil
}

func numericKind(k string) bool { return k == "float" || k == "int" || k == "bool" }

// predictionColumn is the regression prediction as result_type asks:
// double or float (a float column), int (rounded) or string.
func predictionColumn(pred []float64, resultType string) *frame.Column {
	switch resultType {
	case "int":
		ints := make([]int64, len(pred))
		for i, p := range pred {
			ints[i] = int64(math.Round(p))
		}
		return frame.NewIntColumn("prediction", ints)
	case "string":
		strs := make([]string, len(pred))
		for i, p := range pred {
			strs[i] = strconv.FormatFloat(p, 'g', -1, 64)
		}
		return frame.NewStringColumn("prediction", strs)
	}
	return frame.NewFloatColumn("prediction", pred)
}
