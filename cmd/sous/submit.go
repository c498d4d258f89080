package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/sous-ml/sous/artifacts"
	"github.com/sous-ml/sous/coordinator"
	"github.com/sous-ml/sous/proto"
	"github.com/sous-ml/sous/recipes"
	"github.com/sous-ml/sous/recipes/frame"
)

// submission builds the request for a run: the recipe files, the profile's
// environment variables and the hashed source files, uploaded to the store
// when the coordinator is elsewhere.
func submission(ctx context.Context, dir string, fsys fs.FS, rec *recipes.Recipe, plan []recipes.StepName, store artifacts.Store, upload bool) (proto.SubmitRequest, error) {
	req := proto.SubmitRequest{
		Schema:    proto.SchemaVersion,
		RecipeDir: dir,
		Profile:   rec.Profile,
		Files:     map[string][]byte{},
		Sources:   map[string][]proto.Source{},
		Env:       map[string]string{},
	}
	for _, name := range []string{recipes.RecipeFile, rec.ProfileFile()} {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return req, withCode(exitBadInput, err)
		}
		req.Files[name] = data
	}
	for _, m := range profileVar.FindAllSubmatch(req.Files[rec.ProfileFile()], -1) {
		if v, ok := os.LookupEnv(string(m[1])); ok {
			req.Env[string(m[1])] = v
		}
	}
	digests, err := recipes.NewDigestCache(filepath.Join(dir, stateDir, "digests.json"))
	if err != nil {
		return req, withCode(exitInfra, err)
	}
	for _, step := range plan {
		if step != recipes.StepIngest && step != recipes.StepIngestScoring {
			continue
		}
		paths, err := rec.Sources(step, dir)
		if err != nil {
			return req, withCode(exitBadInput, err)
		}
		for _, p := range paths {
			if strings.HasPrefix(p, "s3://") {
				return req, withCode(exitBadInput, fmt.Errorf("%s: location %s: s3:// sources are not supported yet; use a local path", step, p))
			}
			digest, size, err := digests.Digest(p)
			if err != nil {
				return req, withCode(exitBadInput, fmt.Errorf("%s: %w", step, err))
			}
			if upload {
				if err := artifacts.UploadFile(ctx, store, p, digest, size); err != nil {
					return req, withCode(exitInfra, fmt.Errorf("%s: upload %s: %w", step, p, err))
				}
			}
			req.Sources[string(step)] = append(req.Sources[string(step)], proto.Source{
				Name: coordinator.SourceName(dir, p), URI: p, Uploaded: upload, Digest: digest, Size: size,
			})
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, stateDir), 0o755); err == nil {
		_ = digests.Save()
	}
	return req, nil
}

// profileVar finds the {{ VAR }} references of a profile, so that only the
// environment variables it uses travel with a run (never the whole environment).
var profileVar = regexp.MustCompile(`\{\{\s*([A-Za-z_][A-Za-z0-9_]*)`)

// outputLocation is predict's output file, resolved against the recipe directory.
func outputLocation(rec *recipes.Recipe, dir string, plan []recipes.StepName) string {
	if !slices.Contains(plan, recipes.StepPredict) || rec.Predict == nil || rec.Predict.Output.Location == "" {
		return ""
	}
	loc := rec.Predict.Output.Location
	if !filepath.IsAbs(loc) {
		loc = filepath.Join(dir, loc)
	}
	return loc
}

// checkOutput refuses a run whose output exists when save_mode is error,
// before anything runs.
func checkOutput(rec *recipes.Recipe, dir string, plan []recipes.StepName) error {
	loc := outputLocation(rec, dir, plan)
	if loc == "" || rec.Predict.SaveMode != recipes.SaveError {
		return nil
	}
	if _, err := os.Stat(loc); err == nil {
		return fmt.Errorf("predict: output %s exists and save_mode is error", loc)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("predict: output %s: %w", loc, err)
	}
	return nil
}

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
	tmp, err := os.MkdirTemp(filepath.Join(dir, stateDir), "export-")
	if err != nil {
		return fmt.Errorf("predict: output: %w", err)
	}
	defer os.RemoveAll(tmp)
	path, cleanup, err := artifacts.OpenBlobFile(ctx, store, ref.Digest, tmp)
	if err != nil {
		return fmt.Errorf("predict: scored data: %w", err)
	}
	defer cleanup()
	return exportFile(path, loc, rec.Predict.Output.Using, rec.Predict.SaveMode)
}

// exportFile writes the scored parquet file at path to location, as parquet
// (a copy) or csv (converted row group by row group), through a temporary file
// and a rename, so the location never holds half an output and memory does
// not grow with the data.
func exportFile(path, location, using, saveMode string) error {
	if using == "" {
		using = strings.TrimPrefix(filepath.Ext(location), ".")
	}
	if saveMode == recipes.SaveError {
		if _, err := os.Stat(location); err == nil {
			return fmt.Errorf("predict: output %s exists and save_mode is error", location)
		}
	}
	if using != recipes.FormatParquet && using != recipes.FormatCSV {
		return fmt.Errorf("predict: output.using %q: use parquet or csv", using)
	}
	if err := os.MkdirAll(filepath.Dir(location), 0o755); err != nil {
		return fmt.Errorf("predict: output: %w", err)
	}
	tmp := location + ".tmp"
	err := writeExport(path, tmp, using)
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("predict: write %s: %w", location, err)
	}
	if err := os.Rename(tmp, location); err != nil {
		return fmt.Errorf("predict: output %s: %w", location, err)
	}
	return os.Chmod(location, 0o644)
}

func writeExport(path, tmp, using string) error {
	out, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer out.Close()
	if using == recipes.FormatParquet {
		in, err := os.Open(path)
		if err != nil {
			return err
		}
		defer in.Close()
		if _, err := io.Copy(out, in); err != nil {
			return err
		}
		return out.Close()
	}
	r, err := frame.OpenParquetFile(path)
	if err != nil {
		return err
	}
	defer r.Close()
	bw := bufio.NewWriterSize(out, 1<<20)
	for first := true; ; first = false {
		f, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
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
		if _, err := bw.Write(data); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return out.Close()
}
