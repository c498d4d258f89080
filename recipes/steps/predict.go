package steps

import (
	"context"
	"fmt"
	"strings"

	"github.com/sous-ml/sous/proto"
	"github.com/sous-ml/sous/recipes"
	"github.com/sous-ml/sous/recipes/cards"
	"github.com/sous-ml/sous/recipes/frame"
	"github.com/sous-ml/sous/recipes/ml"
	"github.com/sous-ml/sous/worker"
)

// predict scores the ingested scoring data with the model and writes the
// input columns plus a prediction column to output.location.
func predict(ctx context.Context, job *proto.Job, cfg *recipes.JobConfig, env *worker.Env) (*worker.Output, error) {
	var s recipes.PredictSettings
	if err := cfg.Decode(&s); err != nil {
		return nil, err
	}
	b, err := readModel(ctx, job, env)
	if err != nil {
		return nil, err
	}
	data, err := readTable(ctx, job, env, "ingested_scoring_data")
	if err != nil {
		return nil, err
	}
	if err := checkSchema(b, data); err != nil {
		return nil, err
	}
	f, err := applyDerive(data, b.Derive)
	if err != nil {
		return nil, badInput("predict: %w", err)
	}
	scored := &frame.Frame{Cols: append([]*frame.Column(nil), data.Cols...)}
	var pred []float64
	if len(b.ClassLabels) > 0 {
		// Classification: the predicted label and a score per class, as MLflow names them.
		proba, err := probabilities(b, f)
		if err != nil {
			return nil, badInput("predict: %w", err)
		}
		labels := make([]string, proba.Rows)
		pred = make([]float64, proba.Rows)
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
	} else {
		if pred, err = b.Predict(f); err != nil {
			return nil, badInput("predict: %w", err)
		}
		scored.Cols = append(scored.Cols, frame.NewFloatColumn("prediction", pred))
	}
	ref, err := writeTable(ctx, env, "scored_data", scored)
	if err != nil {
		return nil, err
	}
	card := newCard(job, "Batch scoring")
	card.AddSummary(
		cards.KV{Key: "rows scored", Value: fmt.Sprint(scored.Len())},
		cards.KV{Key: "model", Value: b.EstimatorName},
		cards.KV{Key: "output", Value: s.Output.Location},
	)
	card.AddHistogram("Prediction distribution", pred, 40)
	card.AddPreview(scored, 20)
	return &worker.Output{
		Outputs: map[string]proto.ArtifactRef{"scored_data": ref},
		Metrics: map[string]float64{"rows_scored": float64(scored.Len())},
		Summary: card.Text(80),
		Card:    card.HTML(),
	}, nil
}

// checkSchema names every column the model needs that the data lacks or has with another type.
func checkSchema(b *ml.Bundle, data *frame.Frame) error {
	var problems []string
	for _, field := range b.InputSchema {
		c, ok := data.Col(field.Name)
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%s (%s) is missing", field.Name, field.Kind))
		case c.Kind.String() != field.Kind && !(c.Kind.Numeric() && numericKind(field.Kind)):
			problems = append(problems, fmt.Sprintf("%s is %s, the model needs %s", field.Name, c.Kind, field.Kind))
		}
	}
	if len(problems) > 0 {
		return badInput("predict: the scoring data does not fit the model's input schema: %s", strings.Join(problems, "; "))
	}
	return nil
}

func numericKind(k string) bool { return k == "float" || k == "int" || k == "bool" }
