package main

import (
	"bufio"
	"bytes"
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
	"github.com/sous-ml/sous/artifacts/s3"
	"github.com/sous-ml/sous/proto"
	"github.com/sous-ml/sous/recipes"
	"github.com/sous-ml/sous/recipes/frame"
)

// exportOutput writes the scored data of a finished run to output.location.
func exportOutput(ctx context.Context, rec *recipes.Recipe, dir string, final *proto.RunState, store artifacts.Store) error {
	var plan []recipes.StepName
	for _, s := range final.Steps {
		plan = append(plan, recipes.StepName(s.Name))
	}
	loc := outputLocation(rec, dir, plan)
	if loc == "" {
		return nil
	}
	ref, ok := final.Step(string(recipes.StepPredict)).Outputs["scored_data"]
	if !ok {
		return errors.New("predict: the run recorded no scored_data")
	}
	scored, err := readScored(ctx, store, ref)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Join(dir, stateDir), "export-")
	if err != nil {
		return fmt.Errorf("predict: output: %w", err)
	}
	defer os.RemoveAll(tmp)
	parts := make([]string, len(scored.Parts))
	for i, p := range scored.Parts {
		path, cleanup, err := artifacts.OpenBlobFile(ctx, store, p.Data.Digest, tmp)
		if err != nil {
			return fmt.Errorf("predict: scored part %d: %w", i, err)
		}
		defer cleanup()
		parts[i] = path
	}
	if strings.HasPrefix(loc, "s3://") {
		return exportS3(ctx, parts, loc, rec.Predict.Output.Using, rec.Predict.SaveMode, tmp)
	}
	return exportParts(parts, loc, rec.Predict.Output.Using, rec.Predict.SaveMode)
}

// s3Output is an s3:// output location: the store of its directory, and
// the object name of a single-file output ("" for a directory of parts).
type s3Output struct {
	store artifacts.Store
	name  string
}

// openS3Output opens an s3:// output location with the AWS_* environment.
// A location ending with a slash or without a .parquet or .csv extension
// is a directory of parts.
func openS3Output(ctx context.Context, loc string) (*s3Output, error) {
	dirURL, name := loc, ""
	if ext := strings.ToLower(path.Ext(loc)); !strings.HasSuffix(loc, "/") && (ext == ".parquet" || ext == ".csv") {
		dirURL, name = loc[:strings.LastIndex(loc, "/")+1], path.Base(loc)
	}
	cfg, err := s3.ConfigFromEnv(dirURL, os.Getenv)
	if err != nil {
		return nil, fmt.Errorf("predict: output %s: %w", loc, err)
	}
	st, err := s3.New(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("predict: output %s: %w", loc, err)
	}
	return &s3Output{store: st, name: name}, nil
}

// exists says whether the location holds an output already.
func (o *s3Output) exists(ctx context.Context) (bool, error) {
	if o.name != "" {
		_, err := o.store.Stat(ctx, o.name)
		if errors.Is(err, artifacts.ErrNotFound) {
			return false, nil
		}
		return err == nil, err
	}
	infos, err := o.store.List(ctx, "")
	return len(infos) > 0, err
}

// exportS3 writes the scored parts to an s3:// location: a single object
// (one PUT, which S3 makes visible whole or not at all), or a directory of
// part objects whose _SUCCESS marker is removed first and written last, with
// parts of an earlier output that the new one does not have deleted before
// it, so a reader that waits for _SUCCESS never sees a mix.
func exportS3(ctx context.Context, parts []string, loc, using, saveMode, tmp string) error {
	o, err := openS3Output(ctx, loc)
	if err != nil {
		return err
	}
	if exists, err := o.exists(ctx); err != nil {
		return fmt.Errorf("predict: output %s: %w", loc, err)
	} else if exists && saveMode == recipes.SaveError {
		return fmt.Errorf("predict: output %s exists and save_mode is error", loc)
	}
	if using == "" {
		using = recipes.FormatParquet
		if o.name != "" {
			using = strings.TrimPrefix(path.Ext(o.name), ".")
		}
	}
	if using != recipes.FormatParquet && using != recipes.FormatCSV {
		return fmt.Errorf("predict: output.using %q: use parquet or csv", using)
	}
	put := func(name string, srcs []string) error {
		file := filepath.Join(tmp, "upload")
		if err := writeOneFile(srcs, file, using); err != nil {
			return err
		}
		defer os.Remove(file)
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		return o.store.Put(ctx, name, f, fi.Size())
	}
	if o.name != "" {
		if err := put(o.name, parts); err != nil {
			return fmt.Errorf("predict: write %s: %w", loc, err)
		}
		return nil
	}
	old, err := o.store.List(ctx, "")
	if err != nil {
		return fmt.Errorf("predict: output %s: %w", loc, err)
	}
	if err := o.store.Delete(ctx, "_SUCCESS"); err != nil && !errors.Is(err, artifacts.ErrNotFound) {
		return fmt.Errorf("predict: output %s: %w", loc, err)
	}
	written := map[string]bool{}
	for i, p := range parts {
		name := fmt.Sprintf("part-%05d.%s", i, using)
		if err := put(name, []string{p}); err != nil {
			return fmt.Errorf("predict: write %s%s: %w", loc, name, err)
		}
		written[name] = true
	}
	for _, info := range old {
		if !written[info.Name] && info.Name != "_SUCCESS" {
			if err := o.store.Delete(ctx, info.Name); err != nil && !errors.Is(err, artifacts.ErrNotFound) {
				return fmt.Errorf("predict: output %s: remove %s: %w", loc, info.Name, err)
			}
		}
	}
	if err := o.store.Put(ctx, "_SUCCESS", strings.NewReader(""), 0); err != nil {
		return fmt.Errorf("predict: output %s: %w", loc, err)
	}
	return nil
}

// readScored reads predict's output document.
func readScored(ctx context.Context, store artifacts.Store, ref proto.ArtifactRef) (*proto.ScoredData, error) {
	rc, err := store.Get(ctx, artifacts.BlobName(ref.Digest))
	if err != nil {
		return nil, fmt.Errorf("predict: scored data: %w", err)
	}
	defer rc.Close()
	var doc proto.ScoredData
	if err := json.NewDecoder(rc).Decode(&doc); err != nil {
		return nil, fmt.Errorf("predict: scored data: %w", err)
	}
	if doc.Schema != proto.SchemaVersion {
		return nil, fmt.Errorf("predict: scored data: %w", proto.ErrUnsupportedSchema)
	}
	return &doc, nil
}

// isDirLocation says whether an output location names a directory: it ends
// with a slash, is a directory already, or has no .parquet or .csv extension.
func isDirLocation(location string) bool {
	if strings.HasSuffix(location, "/") {
		return true
	}
	if fi, err := os.Stat(location); err == nil {
		return fi.IsDir()
	}
	ext := strings.ToLower(filepath.Ext(location))
	return ext != ".parquet" && ext != ".csv"
}

// exportParts writes the scored parquet parts to location: one file (the
// parts concatenated, converted row group by row group) or a directory of
// part files and a _SUCCESS marker. Either is built beside the location and
// renamed into place, so the location never holds half an output, and
// memory does not grow with the data.
func exportParts(parts []string, location, using, saveMode string) error {
	location = strings.TrimSuffix(location, "/")
	dir := isDirLocation(location)
	if using == "" {
		using = strings.TrimPrefix(filepath.Ext(location), ".")
		if dir {
			using = recipes.FormatParquet
		}
	}
	if using != recipes.FormatParquet && using != recipes.FormatCSV {
		return fmt.Errorf("predict: output.using %q: use parquet or csv", using)
	}
	if _, err := os.Stat(location); err == nil && saveMode == recipes.SaveError {
		return fmt.Errorf("predict: output %s exists and save_mode is error", location)
	}
	if err := os.MkdirAll(filepath.Dir(location), 0o755); err != nil {
		return fmt.Errorf("predict: output: %w", err)
	}
	tmp := fmt.Sprintf("%s.tmp-%d", location, os.Getpid())
	var err error
	if dir {
		err = writePartDir(parts, tmp, using)
	} else {
		err = writeOneFile(parts, tmp, using)
	}
	if err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("predict: write %s: %w", location, err)
	}
	return replace(tmp, location)
}

// replace moves tmp to location, replacing what was there.
func replace(tmp, location string) error {
	old := ""
	if fi, err := os.Stat(location); err == nil && fi.IsDir() {
		// A directory cannot be renamed over: move it aside first.
		old = fmt.Sprintf("%s.old-%d", location, os.Getpid())
		if err := os.Rename(location, old); err != nil {
			os.RemoveAll(tmp)
			return fmt.Errorf("predict: output %s: %w", location, err)
		}
	}
	if err := os.Rename(tmp, location); err != nil {
		if old != "" {
			_ = os.Rename(old, location)
		}
		os.RemoveAll(tmp)
		return fmt.Errorf("predict: output %s: %w", location, err)
	}
	if old != "" {
		return os.RemoveAll(old)
	}
	if fi, err := os.Stat(location); err == nil && !fi.IsDir() {
		return os.Chmod(location, 0o644)
	}
	return nil
}

// writePartDir writes one file per part and, last, _SUCCESS.
func writePartDir(parts []string, dir, using string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i, p := range parts {
		if err := writeOneFile([]string{p}, filepath.Join(dir, fmt.Sprintf("part-%05d.%s", i, using)), using); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(dir, "_SUCCESS"), nil, 0o644)
}

// writeOneFile writes the parts, in order, as one parquet or csv file.
func writeOneFile(parts []string, path, using string) error {
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	defer out.Close()
	if using == recipes.FormatParquet && len(parts) == 1 {
		in, err := os.Open(parts[0])
		if err != nil {
			return err
		}
		defer in.Close()
		if _, err := io.Copy(out, in); err != nil {
			return err
		}
		return out.Close()
	}
	bw := bufio.NewWriterSize(out, 1<<20)
	var pw *frame.ParquetWriter
	first := true
	for _, part := range parts {
		err := eachRowGroup(part, func(f *frame.Frame) error {
			if using == recipes.FormatParquet {
				if pw == nil {
					var err error
					if pw, err = frame.NewParquetWriter(bw, f.Schema(), frame.WriterOptions{}); err != nil {
						return err
					}
				}
				return pw.Write(f)
			}
			var buf bytes.Buffer
			if err := frame.WriteCSV(&buf, f); err != nil {
				return err
			}
			data := buf.Bytes()
			if !first { // one header, for the first row group
				if i := bytes.IndexByte(data, '\n'); i >= 0 {
					data = data[i+1:]
				}
			}
			first = false
			_, err := bw.Write(data)
			return err
		})
		if err != nil {
			return err
		}
	}
	if pw != nil {
		if err := pw.Close(); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return out.Close()
}

func eachRowGroup(path string, fn func(*frame.Frame) error) error {
	r, err := frame.OpenParquetFile(path)
	if err != nil {
		return err
	}
	defer r.Close()
	for {
		f, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(f); err != nil {
			return err
		}
	}
}
