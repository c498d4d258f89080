package steps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/sous-ml/sous/artifacts"
	"github.com/sous-ml/sous/proto"
	"github.com/sous-ml/sous/recipes"
	"github.com/sous-ml/sous/recipes/cards"
	"github.com/sous-ml/sous/recipes/frame"
	"github.com/sous-ml/sous/worker"
)

// Batch scoring runs in three kinds of jobs. ingest_scoring reads only the
// footers of the scoring files and describes them (proto.Dataset), checking
// every file against the model's input schema before any row is scored. The
// coordinator cuts the data set into shards; one predict job per shard
// streams its row groups through the model into one parquet part. The last
// predict job, published once every part exists, commits them as the
// step's output (proto.ScoredData) with the scored-data card.

// ingestScoring describes the scoring data without copying it.
func ingestScoring(ctx context.Context, job *proto.Job, cfg *recipes.JobConfig, env *worker.Env) (*worker.Output, error) {
	var s recipes.IngestSettings
	if err := cfg.Decode(&s); err != nil {
		return nil, err
	}
	if len(job.Sources) == 0 {
		return nil, badInput("%s: no source files", job.Step)
	}
	b, err := readModel(ctx, job, env)
	if err != nil {
		return nil, err
	}
	ds := proto.Dataset{Schema: proto.SchemaVersion, Reading: cfg.Settings}
	var (
		schema  []frame.Field
		first   string
		preview *frame.Frame
		groups  int
	)
	for _, src := range job.Sources {
		file, fields, head, err := scanSource(ctx, env, src, &s)
		if err != nil {
			return nil, err
		}
		if schema == nil {
			schema, first = fields, src.Name
		} else if err := sameSchema(schema, fields); err != nil {
			return nil, badInput("%s: %s does not have the columns of %s: %w", job.Step, src.Name, first, err)
		}
		if preview == nil && head != nil && head.Len() > 0 {
			preview = head
		}
		ds.Files = append(ds.Files, file)
		ds.Rows += file.Rows
		groups += len(file.RowGroups)
	}
	if err := checkSchema(b, schema); err != nil {
		return nil, err
	}
	if ds.Rows == 0 {
		return nil, badInput("%s: the source files hold no rows", job.Step)
	}
	ds.Columns = columnsOf(schema)
	data, err := json.Marshal(ds)
	if err != nil {
		return nil, err
	}
	ref, err := writeBlob(ctx, env, "scoring_dataset", data)
	if err != nil {
		return nil, err
	}
	card := newCard(job, "Scoring data")
	card.AddSummary(
		cards.KV{Key: "rows", Value: fmt.Sprint(ds.Rows)},
		cards.KV{Key: "columns", Value: fmt.Sprint(len(schema))},
		cards.KV{Key: "files", Value: fmt.Sprint(len(ds.Files))},
		cards.KV{Key: "row groups", Value: fmt.Sprint(groups)},
		cards.KV{Key: "model input", Value: fmt.Sprintf("%d columns, all present", len(b.InputSchema))},
	)
	if preview != nil {
		card.AddSchema(preview)
		card.AddPreview(preview, 20)
	}
	return &worker.Output{
		Outputs: map[string]proto.ArtifactRef{"scoring_dataset": ref},
		Summary: card.Text(80),
		Card:    card.HTML(),
		Metrics: map[string]float64{"rows": float64(ds.Rows), "columns": float64(len(schema)), "files": float64(len(ds.Files))},
	}, nil
}

// scanSource describes one file: its row groups (parquet, from the footer)
// or its rows (csv, read whole), its schema after the columns setting, and
// its first rows for the card.
func scanSource(ctx context.Context, env *worker.Env, src proto.Source, s *recipes.IngestSettings) (proto.DatasetFile, []frame.Field, *frame.Frame, error) {
	file := proto.DatasetFile{Source: src}
	if formatOf(src.URI, s) != recipes.FormatParquet {
		path, cleanup, err := openSource(ctx, env, src, true)
		if err != nil {
			return file, nil, nil, err
		}
		defer cleanup()
		f, err := readSourceColumns(path, s, src.Name)
		if err != nil {
			return file, nil, nil, err
		}
		file.Rows = int64(f.Len())
		return file, f.Schema(), f.Head(20), nil
	}
	r, cleanup, err := openParquetSource(ctx, env, src, true)
	if err != nil {
		return file, nil, nil, err
	}
	defer cleanup()
	for i := range r.NumRowGroups() {
		file.RowGroups = append(file.RowGroups, r.RowGroupRows(i))
	}
	file.Rows = r.NumRows()
	fields := r.Schema()
	if len(s.Columns) > 0 {
		if fields, err = selectFields(fields, s.Columns); err != nil {
			return file, nil, nil, badInput("ingest_scoring: %s: columns: %w", src.Name, err)
		}
	}
	var head *frame.Frame
	if r.NumRowGroups() > 0 && r.RowGroupRows(0) > 0 {
		f, err := r.ReadRowGroup(0, s.Columns)
		if err != nil {
			return file, nil, nil, badInput("ingest_scoring: %s: %w", src.Name, err)
		}
		head = f.Head(20)
	}
	return file, fields, head, nil
}

// selectFields is the schema of Frame.Select(names...).
func selectFields(fields []frame.Field, names []string) ([]frame.Field, error) {
	out := make([]frame.Field, 0, len(names))
	for _, n := range names {
		i := -1
		for k, f := range fields {
			if f.Name == n {
				i = k
			}
		}
		if i < 0 {
			return nil, fmt.Errorf("no column %q", n)
		}
		out = append(out, fields[i])
	}
	return out, nil
}

// openSource returns a path to read a source file from: the store's copy
// when the CLI uploaded it, a downloaded copy of an s3:// object, else the
// file itself, whose bytes are checked against the digest the run was
// submitted with when verify is set (else only its size).
func openSource(ctx context.Context, env *worker.Env, src proto.Source, verify bool) (string, func(), error) {
	if src.Uploaded {
		p, cleanup, err := artifacts.OpenBlobFile(ctx, env.Store, src.Digest, env.TempDir)
		if err != nil {
			return "", nil, fmt.Errorf("source %s: %w", src.Name, err)
		}
		return p, cleanup, nil
	}
	if strings.HasPrefix(src.URI, "s3://") {
		obj, err := openObject(ctx, env, src)
		if err != nil {
			return "", nil, err
		}
		defer obj.Close()
		f, err := os.CreateTemp(env.TempDir, "source-*"+path.Ext(src.URI))
		if err != nil {
			return "", nil, err
		}
		cleanup := func() { os.Remove(f.Name()) }
		_, err = io.Copy(f, io.NewSectionReader(obj, 0, obj.Info().Size))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			cleanup()
			return "", nil, fmt.Errorf("source %s: download: %w", src.Name, err)
		}
		return f.Name(), cleanup, nil
	}
	if verify {
		if err := checkDigest(src.URI, src.Digest); err != nil {
			return "", nil, badInput("%s: %w", src.Name, err)
		}
	} else if fi, err := os.Stat(src.URI); err != nil {
		return "", nil, badInput("%s: %w", src.Name, err)
	} else if fi.Size() != src.Size {
		return "", nil, badInput("%s: the file changed since the run was submitted (%d bytes, the run has %d); run again", src.Name, fi.Size(), src.Size)
	}
	return src.URI, func() {}, nil
}

// openObject opens an s3:// source for random access and checks that it is
// the version the run was submitted with (its entity tag).
func openObject(ctx context.Context, env *worker.Env, src proto.Source) (worker.Object, error) {
	if env.Objects == nil {
		return nil, badInput("%s: this worker cannot read s3:// sources", src.Name)
	}
	obj, err := env.Objects.Open(ctx, src.URI)
	if err != nil {
		if errors.Is(err, artifacts.ErrNotFound) {
			return nil, badInput("%s: %w", src.Name, err)
		}
		return nil, fmt.Errorf("source %s: %w", src.Name, err)
	}
	if got := ObjectDigest(obj.Info()); got != src.Digest {
		obj.Close()
		return nil, badInput("%s: the object changed since the run was submitted (%s, the run has %s); run again", src.Name, got, src.Digest)
	}
	return obj, nil
}

// ObjectDigest identifies a version of an s3:// object in cache keys: its
// entity tag and size (hashing the bytes would mean reading them all).
func ObjectDigest(info artifacts.Info) string {
	return fmt.Sprintf("etag:%s:%d", strings.Trim(info.ETag, `"`), info.Size)
}

// openParquetSource opens a parquet source. An s3:// object is read by
// range, so a shard fetches only the footer and its own row groups.
func openParquetSource(ctx context.Context, env *worker.Env, src proto.Source, verify bool) (*frame.ParquetReader, func(), error) {
	if !src.Uploaded && strings.HasPrefix(src.URI, "s3://") {
		obj, err := openObject(ctx, env, src)
		if err != nil {
			return nil, nil, err
		}
		r, err := frame.OpenParquet(obj, obj.Info().Size, src.Name)
		if err != nil {
			obj.Close()
			return nil, nil, badInput("%s: %w", src.Name, err)
		}
		return r, func() { r.Close(); obj.Close() }, nil
	}
	p, cleanup, err := openSource(ctx, env, src, verify)
	if err != nil {
		return nil, nil, err
	}
	r, err := frame.OpenParquetFile(p)
	if err != nil {
		cleanup()
		return nil, nil, badInput("%s: %w", src.Name, err)
	}
	return r, func() { r.Close(); cleanup() }, nil
}

func formatOf(path string, s *recipes.IngestSettings) string {
	if s.Using != "" {
		return s.Using
	}
	return strings.TrimPrefix(filepath.Ext(path), ".")
}

// readSourceColumns reads a whole (csv) file and keeps the configured columns.
func readSourceColumns(path string, s *recipes.IngestSettings, name string) (*frame.Frame, error) {
	f, err := readSource(path, s)
	if err != nil {
		return nil, badInput("ingest_scoring: %s: %w", name, err)
	}
	if len(s.Columns) > 0 {
		if f, err = f.Select(s.Columns...); err != nil {
			return nil, badInput("ingest_scoring: %s: columns: %w", name, err)
		}
	}
	return f, nil
}

func columnsOf(fields []frame.Field) []proto.Column {
	out := make([]proto.Column, len(fields))
	for i, f := range fields {
		out[i] = proto.Column{Name: f.Name, Kind: f.Kind.String()}
	}
	return out
}

// predict runs either one shard of the scoring data or the commit of all of them.
func predict(ctx context.Context, job *proto.Job, cfg *recipes.JobConfig, env *worker.Env) (*worker.Output, error) {
	var s recipes.PredictSettings
	if err := cfg.Decode(&s); err != nil {
		return nil, err
	}
	switch {
	case job.Shard != nil:
		return scoreShard(ctx, job, &s, env)
	case len(job.Parts) > 0:
		return commitScored(ctx, job, &s, env)
	}
	return nil, worker.Permanent(proto.CodeBadMessage, errors.New("predict: the job names neither a shard nor the parts to commit"))
}

// shardSummary is what a shard tells the commit job for the scored-data card.
type shardSummary struct {
	Rows      int64          `json:"rows"`
	Columns   []proto.Column `json:"columns"`
	Estimator string         `json:"estimator"`
	Classes   []string       `json:"classes,omitempty"`
	// Sample holds predictions (for classification, the predicted class's
	// score) of rows spread evenly over the shard.
	Sample []float64 `json:"sample"`
	// Head is the first rows of shard 0, as text, for the card's preview.
	Header []string   `json:"header,omitempty"`
	Head   [][]string `json:"head,omitempty"`
}

// sampleEvery is the stride of shardSummary.Sample: a 500k-row shard sends
// about 1000 values.
const sampleEvery = 500

// scoreShard streams the shard's row groups through the model into one part.
func scoreShard(ctx context.Context, job *proto.Job, s *recipes.PredictSettings, env *worker.Env) (*worker.Output, error) {
	sh := job.Shard
	data, err := readBlob(ctx, job, env, "scoring_dataset")
	if err != nil {
		return nil, err
	}
	var ds proto.Dataset
	if err := json.Unmarshal(data, &ds); err != nil {
		return nil, worker.Permanent(proto.CodeBadMessage, fmt.Errorf("predict: scoring_dataset: %w", err))
	}
	if sh.File < 0 || sh.File >= len(ds.Files) {
		return nil, worker.Permanent(proto.CodeBadMessage, fmt.Errorf("predict: shard %d names file %d of %d", sh.Index, sh.File, len(ds.Files)))
	}
	var reading recipes.IngestSettings
	if err := json.Unmarshal(ds.Reading, &reading); err != nil {
		return nil, worker.Permanent(proto.CodeBadMessage, fmt.Errorf("predict: scoring_dataset reading settings: %w", err))
	}
	file := ds.Files[sh.File]
	b, err := readModel(ctx, job, env)
	if err != nil {
		return nil, err
	}
	est, err := b.Model() // decoded once, used for every batch
	if err != nil {
		return nil, badInput("predict: model: %w", err)
	}
	outPath := filepath.Join(env.TempDir, "part.parquet")
	out, err := os.Create(outPath)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	sum := shardSummary{Estimator: b.EstimatorName, Classes: b.ClassLabels}
	var w *frame.ParquetWriter
	score := func(batch *frame.Frame) error {
		if err := sameSchema(fieldsOf(ds.Columns), batch.Schema()); err != nil {
			return badInput("predict: %s: %w", file.Source.Name, err)
		}
		scored, pred, err := scoreBatch(b, est, batch, s.ResultType)
		if err != nil {
			return err
		}
		if w == nil {
			if w, err = frame.NewParquetWriter(out, scored.Schema(), frame.WriterOptions{}); err != nil {
				return err
			}
			sum.Columns = columnsOf(scored.Schema())
			if sh.Index == 0 {
				sum.Header, sum.Head = textRows(scored.Head(20))
			}
		}
		if err := w.Write(scored); err != nil {
			return fmt.Errorf("predict: write part: %w", err)
		}
		for i := int(-sum.Rows % sampleEvery); i < len(pred); i += sampleEvery {
			if i >= 0 {
				sum.Sample = append(sum.Sample, pred[i])
			}
		}
		sum.Rows += int64(scored.Len())
		return nil
	}
	if err := eachShardBatch(ctx, env, file, sh, &reading, score); err != nil {
		return nil, err
	}
	if w == nil {
		return nil, badInput("predict: shard %d (%s) has no rows", sh.Index, file.Source.Name)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("predict: write part: %w", err)
	}
	if err := out.Close(); err != nil {
		return nil, err
	}
	digest, size, err := artifacts.PutBlobFile(ctx, env.Store, outPath)
	if err != nil {
		return nil, fmt.Errorf("store scored part: %w", err)
	}
	sumJSON, err := json.Marshal(sum)
	if err != nil {
		return nil, err
	}
	sumRef, err := writeBlob(ctx, env, "summary", sumJSON)
	if err != nil {
		return nil, err
	}
	return &worker.Output{
		Outputs: map[string]proto.ArtifactRef{proto.PartOutput: {Digest: digest, Size: size}, proto.SummaryOutput: sumRef},
		Metrics: map[string]float64{"rows_scored": float64(sum.Rows)},
		Summary: fmt.Sprintf("shard %d of %d: %d rows of %s scored", sh.Index+1, sh.Count, sum.Rows, file.Source.Name),
	}, nil
}

// eachShardBatch calls fn with the shard's rows, one row group at a time (a
// csv file whole). A parquet file whose row groups are not those
// ingest_scoring saw has changed since: it is refused.
func eachShardBatch(ctx context.Context, env *worker.Env, file proto.DatasetFile, sh *proto.Shard, s *recipes.IngestSettings, fn func(*frame.Frame) error) error {
	if len(file.RowGroups) == 0 {
		path, cleanup, err := openSource(ctx, env, file.Source, false)
		if err != nil {
			return err
		}
		defer cleanup()
		f, err := readSourceColumns(path, s, file.Source.Name)
		if err != nil {
			return err
		}
		for i := 0; i < f.Len(); i += writeBatchRows {
			if err := fn(f.Slice(i, min(i+writeBatchRows, f.Len()))); err != nil {
				return err
			}
		}
		return nil
	}
	r, cleanup, err := openParquetSource(ctx, env, file.Source, false)
	if err != nil {
		return err
	}
	defer cleanup()
	if r.NumRowGroups() != len(file.RowGroups) {
		return badInput("predict: %s changed since ingest_scoring read it (%d row groups, then %d); run again", file.Source.Name, r.NumRowGroups(), len(file.RowGroups))
	}
	for g := sh.FirstRowGroup; g < sh.FirstRowGroup+sh.RowGroups; g++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if r.RowGroupRows(g) != file.RowGroups[g] {
			return badInput("predict: %s changed since ingest_scoring read it (row group %d has %d rows, then %d); run again", file.Source.Name, g, r.RowGroupRows(g), file.RowGroups[g])
		}
		if file.RowGroups[g] == 0 {
			continue
		}
		f, err := r.ReadRowGroup(g, s.Columns)
		if err != nil {
			return badInput("predict: %s: %w", file.Source.Name, err)
		}
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

// writeBatchRows is how many csv rows are scored and written at a time.
const writeBatchRows = 65536

func fieldsOf(cols []proto.Column) []frame.Field {
	out := make([]frame.Field, len(cols))
	for i, c := range cols {
		k, _ := kindOf(c.Kind)
		out[i] = frame.Field{Name: c.Name, Kind: k}
	}
	return out
}

// textRows renders a few rows as text for a card.
func textRows(f *frame.Frame) ([]string, [][]string) {
	rows := make([][]string, f.Len())
	for i := range rows {
		rows[i] = make([]string, len(f.Cols))
		for j, c := range f.Cols {
			if c.IsNull(i) {
				rows[i][j] = ""
				continue
			}
			rows[i][j] = fmt.Sprint(c.Value(i))
		}
	}
	return f.Names(), rows
}

// commitScored checks that every part exists and commits them, in order, as
// predict's output; the worker's manifest commit that follows is what makes
// the output visible.
func commitScored(ctx context.Context, job *proto.Job, s *recipes.PredictSettings, env *worker.Env) (*worker.Output, error) {
	out := proto.ScoredData{Schema: proto.SchemaVersion, Parts: job.Parts}
	outputs := map[string]proto.ArtifactRef{}
	var sample []float64
	var first shardSummary
	for i, p := range job.Parts {
		if p.Index != i {
			return nil, worker.Permanent(proto.CodeBadMessage, fmt.Errorf("predict: part %d is listed at position %d", p.Index, i))
		}
		if _, err := env.Store.Stat(ctx, artifacts.BlobName(p.Data.Digest)); err != nil {
			return nil, fmt.Errorf("predict: part %d: %w", i, err)
		}
		data, err := readRef(ctx, env, p.Summary)
		if err != nil {
			return nil, fmt.Errorf("predict: part %d summary: %w", i, err)
		}
		var sum shardSummary
		if err := json.Unmarshal(data, &sum); err != nil {
			return nil, fmt.Errorf("predict: part %d summary: %w", i, err)
		}
		if i == 0 {
			first = sum
		}
		sample = append(sample, sum.Sample...)
		out.Rows += sum.Rows
		outputs[proto.PartName(i)] = p.Data
	}
	out.Columns = first.Columns
	data, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	ref, err := writeBlob(ctx, env, "scored_data", data)
	if err != nil {
		return nil, err
	}
	outputs["scored_data"] = ref

	card := newCard(job, "Batch scoring")
	card.AddSummary(
		cards.KV{Key: "rows scored", Value: fmt.Sprint(out.Rows)},
		cards.KV{Key: "shards", Value: fmt.Sprint(len(job.Parts))},
		cards.KV{Key: "model", Value: first.Estimator},
		cards.KV{Key: "output", Value: s.Output.Location},
	)
	title := "Prediction distribution"
	if len(first.Classes) > 0 {
		title = "Score of the predicted class"
	}
	card.AddHistogram(fmt.Sprintf("%s (%d rows sampled evenly)", title, len(sample)), sample, 40)
	card.AddTable("Scored data (first rows)", first.Header, first.Head)
	return &worker.Output{
		Outputs: outputs,
		Metrics: map[string]float64{"rows_scored": float64(out.Rows), "shards": float64(len(job.Parts))},
		Summary: card.Text(80),
		Card:    card.HTML(),
	}, nil
}

// readRef reads a small blob by reference.
func readRef(ctx context.Context, env *worker.Env, ref proto.ArtifactRef) ([]byte, error) {
	rc, err := env.Store.Get(ctx, artifacts.BlobName(ref.Digest))
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, 64<<20))
}
