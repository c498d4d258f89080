package steps

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/sous-ml/sous/artifacts"
	"github.com/sous-ml/sous/proto"
	"github.com/sous-ml/sous/recipes"
	"github.com/sous-ml/sous/recipes/cards"
	"github.com/sous-ml/sous/recipes/frame"
	"github.com/sous-ml/sous/worker"
)

// ingest reads the recipe's source files (parquet or csv) into one table.
// For the training graph it also checks the target column.
func ingest(ctx context.Context, job *proto.Job, cfg *recipes.JobConfig, env *worker.Env) (*worker.Output, error) {
	var s recipes.IngestSettings
	if err := cfg.Decode(&s); err != nil {
		return nil, err
	}
	if len(job.Sources) == 0 {
		return nil, badInput("%s: no source files", job.Step)
	}
	var parts []*frame.Frame
	for _, src := range job.Sources {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		f, err := ingestSource(ctx, env, src, &s)
		if err != nil {
			return nil, err
		}
		parts = append(parts, f)
	}
	data, err := frame.Concat(parts...)
	if err != nil {
		return nil, badInput("%s: the source files do not share one schema: %w", job.Step, err)
	}
	if len(s.Columns) > 0 {
		if data, err = data.Select(s.Columns...); err != nil {
			return nil, badInput("%s: columns: %w", job.Step, err)
		}
	}
	files := make([]string, len(job.Sources))
	for i, src := range job.Sources {
		files[i] = src.Name
	}
	if job.Step == "ingest" {
		if err := checkTarget(data, cfg, strings.Join(files, ", ")); err != nil {
			return nil, err
		}
	}
	outName := "ingested_data"
	if job.Step == "ingest_scoring" {
		outName = "ingested_scoring_data"
	}
	ref, err := writeTable(ctx, env, outName, data)
	if err != nil {
		return nil, err
	}

	card := newCard(job, "Data ingestion")
	card.AddSummary(
		cards.KV{Key: "rows", Value: fmt.Sprint(data.Len())},
		cards.KV{Key: "columns", Value: fmt.Sprint(len(data.Cols))},
		cards.KV{Key: "files", Value: fmt.Sprint(len(job.Sources))},
		cards.KV{Key: "format", Value: s.Using},
	)
	card.AddProfile("ingested data", data)
	card.AddSchema(data)
	card.AddPreview(data, 20)
	return &worker.Output{
		Outputs: map[string]proto.ArtifactRef{outName: ref},
		Summary: card.Text(80),
		Card:    card.HTML(),
		Metrics: map[string]float64{"rows": float64(data.Len()), "columns": float64(len(data.Cols))},
	}, nil
}

// ingestSource loads one source: from the store when the CLI uploaded it,
// else from its path.
func ingestSource(ctx context.Context, env *worker.Env, src proto.Source, s *recipes.IngestSettings) (*frame.Frame, error) {
	path := src.URI
	if src.Uploaded {
		p, cleanup, err := artifacts.OpenBlobFile(ctx, env.Store, src.Digest, env.TempDir)
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", src.Name, err)
		}
		defer cleanup()
		path = p
	}
	f, err := readSource(path, s)
	if err != nil {
		if src.Uploaded {
			return nil, badInput("%s: %s: %w", "ingest", src.Name, err)
		}
		return nil, badInput("%s: %w", "ingest", err)
	}
	return f, nil
}

// readSource loads one file as the settings say.
func readSource(path string, s *recipes.IngestSettings) (*frame.Frame, error) {
	using := s.Using
	if using == "" {
		using = strings.TrimPrefix(filepath.Ext(path), ".")
	}
	switch using {
	case "parquet":
		return frame.ReadParquetFile(path)
	case "csv":
		opts := frame.CSVOptions{NoHeader: !s.Header}
		if s.Sep != "" {
			opts.Sep = []rune(s.Sep)[0]
		}
		if len(s.Schema) > 0 {
			opts.Schema = map[string]frame.Kind{}
			for col, typ := range s.Schema {
				k, err := kindOf(typ)
				if err != nil {
					return nil, fmt.Errorf("schema.%s: %w", col, err)
				}
				opts.Schema[col] = k
			}
		}
		return frame.ReadCSVFile(path, opts)
	}
	return nil, fmt.Errorf("%s: unsupported format %q (use parquet or csv)", path, using)
}

func kindOf(typ string) (frame.Kind, error) {
	switch typ {
	case "float", "double":
		return frame.Float, nil
	case "int", "integer", "long":
		return frame.Int, nil
	case "bool", "boolean":
		return frame.Bool, nil
	case "string", "str":
		return frame.String, nil
	case "timestamp", "datetime":
		return frame.Time, nil
	}
	return 0, fmt.Errorf("unknown type %q (float, int, bool, string, timestamp)", typ)
}

// checkTarget insists on a numeric target column for regression.
func checkTarget(data *frame.Frame, cfg *recipes.JobConfig, files string) error {
	col, ok := data.Col(cfg.TargetCol)
	if !ok {
		return badInput("ingest: target column %q is not in %s; columns: %s", cfg.TargetCol, files, strings.Join(data.Names(), ", "))
	}
	if cfg.Template == recipes.TemplateRegression && !col.Kind.Numeric() {
		return badInput("ingest: target column %q in %s is a %s column; regression/v1 needs a numeric target", cfg.TargetCol, files, col.Kind)
	}
	return nil
}
