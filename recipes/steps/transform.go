package steps

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/sous-ml/sous/proto"
	"github.com/sous-ml/sous/recipes"
	"github.com/sous-ml/sous/recipes/cards"
	"github.com/sous-ml/sous/recipes/expr"
	"github.com/sous-ml/sous/recipes/frame"
	"github.com/sous-ml/sous/recipes/ml"
	"github.com/sous-ml/sous/worker"
)

// fittedTransform is the transformer artifact: derived columns, then the
// column transformer fitted on the training split.
type fittedTransform struct {
	Derive      []ml.Derived    `json:"derive,omitempty"`
	Transformer *ml.Transformer `json:"transformer"`
}

// transform derives columns and fits the column transformer on the training
// split only, then applies it to training and validation data.
func transform(ctx context.Context, job *proto.Job, cfg *recipes.JobConfig, env *worker.Env) (*worker.Output, error) {
	var s recipes.TransformSettings
	if err := cfg.Decode(&s); err != nil {
		return nil, err
	}
	trainRaw, err := readTable(ctx, job, env, "training_data")
	if err != nil {
		return nil, err
	}
	valRaw, err := readTable(ctx, job, env, "validation_data")
	if err != nil {
		return nil, err
	}
	ft := &fittedTransform{}
	for _, d := range s.Derive {
		ft.Derive = append(ft.Derive, ml.Derived{Name: d.Name, Expr: d.Expr})
	}
	trainF, err := applyDerive(trainRaw, ft.Derive)
	if err != nil {
		return nil, badInput("transform: %w", err)
	}
	valF, err := applyDerive(valRaw, ft.Derive)
	if err != nil {
		return nil, badInput("transform: %w", err)
	}
	spec := ml.TransformSpec{Remainder: s.Remainder, Target: cfg.TargetCol}
	for _, g := range s.Columns {
		spec.Groups = append(spec.Groups, ml.GroupSpec{Columns: g.Name, Transformer: g.Transformer, Params: g.Params})
	}
	if ft.Transformer, err = ml.FitTransformer(spec, trainF); err != nil {
		return nil, badInput("transform: %w", err)
	}
	trainT, err := transformedFrame(ft.Transformer, trainF, cfg.TargetCol)
	if err != nil {
		return nil, badInput("transform: training data: %w", err)
	}
	valT, err := transformedFrame(ft.Transformer, valF, cfg.TargetCol)
	if err != nil {
		return nil, badInput("transform: validation data: %w", err)
	}
	blob, err := json.Marshal(ft)
	if err != nil {
		return nil, err
	}
	outputs := map[string]proto.ArtifactRef{}
	if outputs["transformer"], err = writeBlob(ctx, env, "transformer", blob); err != nil {
		return nil, err
	}
	if outputs["transformed_training_data"], err = writeTable(ctx, env, "transformed_training_data", trainT); err != nil {
		return nil, err
	}
	if outputs["transformed_validation_data"], err = writeTable(ctx, env, "transformed_validation_data", valT); err != nil {
		return nil, err
	}
	names := ft.Transformer.FeatureNames()
	card := newCard(job, "Feature transformation")
	card.AddSummary(
		cards.KV{Key: "derived columns", Value: fmt.Sprint(len(ft.Derive))},
		cards.KV{Key: "features", Value: fmt.Sprint(len(names))},
		cards.KV{Key: "fitted on", Value: fmt.Sprintf("%d training rows", trainF.Len())},
	)
	rows := [][]string{}
	for _, g := range spec.Groups {
		rows = append(rows, []string{fmt.Sprint(g.Columns), g.Transformer})
	}
	card.AddTable("Column groups", []string{"columns", "transformer"}, rows)
	card.AddProfile("transformed training data", trainT)
	return &worker.Output{
		Outputs: outputs,
		Metrics: map[string]float64{"features": float64(len(names))},
		Summary: card.Text(80),
		Card:    card.HTML(),
	}, nil
}

// applyDerive adds the derived columns in order; each may use the ones before it.
func applyDerive(f *frame.Frame, derive []ml.Derived) (*frame.Frame, error) {
	if len(derive) == 0 {
		return f, nil
	}
	out := &frame.Frame{Cols: append([]*frame.Column(nil), f.Cols...)}
	for _, d := range derive {
		schema := make(map[string]frame.Kind, len(out.Cols))
		for _, c := range out.Cols {
			schema[c.Name] = c.Kind
		}
		p, err := expr.Compile(d.Expr, schema)
		if err != nil {
			return nil, fmt.Errorf("derive %s: %w", d.Name, err)
		}
		col, err := p.Eval(out)
		if err != nil {
			return nil, fmt.Errorf("derive %s: %w", d.Name, err)
		}
		col.Name = d.Name
		replaced := false
		for i, c := range out.Cols {
			if c.Name == d.Name {
				out.Cols[i], replaced = col, true
			}
		}
		if !replaced {
			out.Cols = append(out.Cols, col)
		}
	}
	return out, nil
}

// transformedFrame is the feature matrix as a table, with the target beside it.
func transformedFrame(t *ml.Transformer, f *frame.Frame, target string) (*frame.Frame, error) {
	X, err := t.Transform(f)
	if err != nil {
		return nil, err
	}
	names := t.FeatureNames()
	out := &frame.Frame{}
	for j, name := range names {
		vals := make([]float64, X.Rows)
		for i := range vals {
			vals[i] = X.Data[i*X.Cols+j]
		}
		out.Cols = append(out.Cols, frame.NewFloatColumn(name, vals))
	}
	if tc, ok := f.Col(target); ok {
		out.Cols = append(out.Cols, tc)
	}
	return out, nil
}
