package steps

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
	pred, err := b.Predict(f)
	if err != nil {
		return nil, badInput("predict: %w", err)
	}
	scored := &frame.Frame{Cols: append(append([]*frame.Column(nil), data.Cols...), frame.NewFloatColumn("prediction", pred))}
	ref, err := writeTable(ctx, env, "scored_data", scored)
	if err != nil {
		return nil, err
	}
	location := ""
	if s.Output.Location != "" {
		location = s.Output.Location
		if !filepath.IsAbs(location) {
			location = filepath.Join(cfg.RecipeDir, location)
		}
		if err := export(scored, location, s.Output.Using, s.SaveMode); err != nil {
			return nil, err
		}
	}
	card := newCard(job, "Batch scoring")
	card.AddSummary(
		cards.KV{Key: "rows scored", Value: fmt.Sprint(scored.Len())},
		cards.KV{Key: "model", Value: b.EstimatorName},
		cards.KV{Key: "output", Value: location},
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

// export writes the scored table to its final location through a temporary
// file and a rename, so the location never holds half an output.
func export(f *frame.Frame, location, using, saveMode string) error {
	if using == "" {
		using = strings.TrimPrefix(filepath.Ext(location), ".")
	}
	if saveMode == "error" {
		if _, err := os.Stat(location); err == nil {
			return badInput("predict: output %s exists and save_mode is error", location)
		} else if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("predict: output %s: %w", location, err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(location), 0o755); err != nil {
		return fmt.Errorf("predict: output: %w", err)
	}
	tmp := location + ".tmp"
	var err error
	switch using {
	case "parquet":
		err = frame.WriteParquetFile(tmp, f)
	case "csv":
		var out *os.File
		if out, err = os.Create(tmp); err == nil {
			err = frame.WriteCSV(out, f)
			if cerr := out.Close(); err == nil {
				err = cerr
			}
		}
	default:
		return badInput("predict: output.using %q: use parquet or csv", using)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("predict: write %s: %w", location, err)
	}
	if err := os.Rename(tmp, location); err != nil {
		return fmt.Errorf("predict: output %s: %w", location, err)
	}
	return nil
}
