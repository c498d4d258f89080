package steps

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sous-ml/sous/artifacts"

	"github.com/sous-ml/sous/proto"
	"github.com/sous-ml/sous/recipes"
	"github.com/sous-ml/sous/recipes/cards"
	"github.com/sous-ml/sous/recipes/frame"
	"github.com/sous-ml/sous/recipes/ml"
	"github.com/sous-ml/sous/worker"
)

// predict streams the ingested scoring data through the model one row group
// at a time and writes the input columns plus the prediction columns
// (prediction; for classification predicted_label and predicted_score_<class>),
// so memory does not grow with the data. The CLI writes the result to
// output.location.
func predict(ctx context.Context, job *proto.Job, cfg *recipes.JobConfig, env *worker.Env) (*worker.Output, error) {
	var s recipes.PredictSettings
	if err := cfg.Decode(&s); err != nil {
		return nil, err
	}
	b, err := readModel(ctx, job, env)
	if err != nil {
		return nil, err
	}
	ref, err := input(job, "ingested_scoring_data")
	if err != nil {
		return nil, err
	}
	inPath, cleanup, err := artifacts.OpenBlobFile(ctx, env.Store, ref.Digest, env.TempDir)
	if err != nil {
		return nil, fmt.Errorf("predict: input: %w", err)
	}
	defer cleanup()
	r, err := frame.OpenParquetFile(inPath)
	if err != nil {
		return nil, fmt.Errorf("predict: input: %w", err)
	}
	defer r.Close()
	if err := checkSchema(b, r.Schema()); err != nil {
		return nil, err
	}
	est, err := b.Model() // decoded once, used for every batch
	if err != nil {
		return nil, badInput("predict: model: %w", err)
	}
	outPath := filepath.Join(env.TempDir, "scored_data.parquet")
	out, err := os.Create(outPath)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	var w *frame.ParquetWriter
	var sample *frame.Frame
	var predSample []float64
	rows := 0
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		data, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("predict: input: %w", err)
		}
		scored, pred, err := scoreBatch(b, est, data, s.ResultType)
		if err != nil {
			return nil, err
		}
		if w == nil {
			if w, err = frame.NewParquetWriter(out, scored.Schema(), frame.WriterOptions{}); err != nil {
				return nil, err
			}
		}
		if err := w.Write(scored); err != nil {
			return nil, fmt.Errorf("predict: write scored data: %w", err)
		}
		rows += scored.Len()
		if sample == nil {
			sample = scored.Head(20)
		}
		if n := profileRows - len(predSample); n > 0 {
			predSample = append(predSample, pred[:min(n, len(pred))]...)
		}
	}
	if w == nil {
		return nil, badInput("predict: the scoring data has no rows")
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("predict: write scored data: %w", err)
	}
	if err := out.Close(); err != nil {
		return nil, err
	}
	digest, size, err := artifacts.PutBlobFile(ctx, env.Store, outPath)
	if err != nil {
		return nil, fmt.Errorf("store scored_data: %w", err)
	}
	card := newCard(job, "Batch scoring")
	card.AddSummary(
		cards.KV{Key: "rows scored", Value: fmt.Sprint(rows)},
		cards.KV{Key: "model", Value: b.EstimatorName},
		cards.KV{Key: "output", Value: s.Output.Location},
	)
	title := "Prediction distribution"
	if len(b.ClassLabels) > 0 {
		title = "Score of the predicted class"
	}
	if len(predSample) < rows {
		title += fmt.Sprintf(" (first %d rows)", len(predSample))
	}
	card.AddHistogram(title, predSample, 40)
	card.AddPreview(sample, 20)
	return &worker.Output{
		Outputs: map[string]proto.ArtifactRef{"scored_data": {Digest: digest, Size: size}},
		Metrics: map[string]float64{"rows_scored": float64(rows)},
		Summary: card.Text(80),
		Card:    card.HTML(),
	}, nil
}

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
