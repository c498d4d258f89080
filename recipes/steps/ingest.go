package steps

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/sous-ml/sous/artifacts"
	"github.com/sous-ml/sous/proto"
	"github.com/sous-ml/sous/recipes"
	"github.com/sous-ml/sous/recipes/cards"
	"github.com/sous-ml/sous/recipes/frame"
	"github.com/sous-ml/sous/worker"
)

// profileRows bounds the rows a step keeps in memory for its card's profile
// and preview while it streams the rest.
const profileRows = 100_000

// ingest streams the recipe's source files (parquet row group by row group,
// csv file by file) into one parquet table, so memory does not grow with the
// data. It also checks the target column.
func ingest(ctx context.Context, job *proto.Job, cfg *recipes.JobConfig, env *worker.Env) (*worker.Output, error) {
	var s recipes.IngestSettings
	if err := cfg.Decode(&s); err != nil {
		return nil, err
	}
	if len(job.Sources) == 0 {
		return nil, badInput("%s: no source files", job.Step)
	}
	const outName = "ingested_data"
	path := filepath.Join(env.TempDir, outName+".parquet")
	out, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	var (
		w      *frame.ParquetWriter
		schema []frame.Field
		first  string
		sample *frame.Frame
		rows   int
	)
	for _, src := range job.Sources {
		err := eachBatch(ctx, env, src, &s, func(f *frame.Frame) error {
			if len(s.Columns) > 0 {
				var err error
				if f, err = f.Select(s.Columns...); err != nil {
					return badInput("%s: %s: columns: %w", job.Step, src.Name, err)
				}
			}
			if w == nil {
				if err := checkTarget(f, cfg, src.Name); err != nil {
					return err
				}
				schema, first = f.Schema(), src.Name
				var err error
				if w, err = frame.NewParquetWriter(out, schema, frame.WriterOptions{}); err != nil {
					return err
				}
			} else if err := sameSchema(schema, f.Schema()); err != nil {
				return badInput("%s: %s does not have the columns of %s: %w", job.Step, src.Name, first, err)
			}
			if err := w.Write(f); err != nil {
				return fmt.Errorf("%s: write %s: %w", job.Step, outName, err)
			}
			rows += f.Len()
			if sample.Len() < profileRows {
				part := f.Head(profileRows - sample.Len())
				if sample == nil {
					sample = part
				} else if sample, err = frame.Concat(sample, part); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if w == nil {
		return nil, badInput("%s: the source files hold no rows", job.Step)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("%s: write %s: %w", job.Step, outName, err)
	}
	if err := out.Close(); err != nil {
		return nil, err
	}
	digest, size, err := artifacts.PutBlobFile(ctx, env.Store, path)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", outName, err)
	}

	card := newCard(job, "Data ingestion")
	card.AddSummary(
		cards.KV{Key: "rows", Value: fmt.Sprint(rows)},
		cards.KV{Key: "columns", Value: fmt.Sprint(len(schema))},
		cards.KV{Key: "files", Value: fmt.Sprint(len(job.Sources))},
		cards.KV{Key: "format", Value: s.Using},
	)
	title := "ingested data"
	if sample.Len() < rows {
		title = fmt.Sprintf("ingested data (first %d of %d rows)", sample.Len(), rows)
	}
	card.AddProfile(title, sample)
	card.AddSchema(sample)
	card.AddPreview(sample, 20)
	return &worker.Output{
		Outputs: map[string]proto.ArtifactRef{outName: {Digest: digest, Size: size}},
		Summary: card.Text(80),
		Card:    card.HTML(),
		Metrics: map[string]float64{"rows": float64(rows), "columns": float64(len(schema))},
	}, nil
}

// sameSchema reports how two schemas differ, if they do.
func sameSchema(want, got []frame.Field) error {
	if len(want) != len(got) {
		return fmt.Errorf("%d columns instead of %d", len(got), len(want))
	}
	for i := range want {
		if want[i] != got[i] {
			return fmt.Errorf("column %d is %s (%s), want %s (%s)", i+1, got[i].Name, got[i].Kind, want[i].Name, want[i].Kind)
		}
	}
	return nil
}

// eachBatch calls fn with the source's rows: a parquet file one row group at
// a time, a csv file whole. The source is read from the store when the CLI
// uploaded it, else from its path.
func eachBatch(ctx context.Context, env *worker.Env, src proto.Source, s *recipes.IngestSettings, fn func(*frame.Frame) error) error {
	path, cleanup, err := openSource(ctx, env, src, true)
	if err != nil {
		return err
	}
	defer cleanup()
	if formatOf(path, s) != recipes.FormatParquet {
		f, err := readSource(path, s)
		if err != nil {
			return badInput("ingest: %s: %w", src.Name, err)
		}
		return fn(f)
	}
	r, err := frame.OpenParquetFile(path)
	if err != nil {
		return badInput("ingest: %s: %w", src.Name, err)
	}
	defer r.Close()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		f, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return badInput("ingest: %s: %w", src.Name, err)
		}
		if err := fn(f); err != nil {
			return err
		}
	}
}

// readSource loads one file as the settings say.
func readSource(path string, s *recipes.IngestSettings) (*frame.Frame, error) {
	switch using := formatOf(path, s); using {
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
	return nil, fmt.Errorf("%s: unsupported format %q (use parquet or csv)", path, formatOf(path, s))
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

// checkDigest makes sure a local source still has the bytes the run's key
// was derived from: a file edited after submission must not be cached under
// the old digest.
func checkDigest(path, want string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("the file changed since the run was submitted (sha256 %.12s…, the run has %.12s…); run again", got, want)
	}
	return nil
}
