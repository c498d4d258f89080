package main

import (
	"context"
	"errors"
	"fmt"
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
	"github.com/sous-ml/sous/recipes/steps"
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
	objects := newS3Objects()
	defer objects.close()
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
				// Read in place by the workers; identified by entity tag and size.
				settings := rec.Ingest
				if step == recipes.StepIngestScoring {
					settings = rec.IngestScoring
				}
				srcs, err := s3Sources(ctx, objects, p, settings.Using)
				if err != nil {
					return req, err
				}
				req.Sources[string(step)] = append(req.Sources[string(step)], srcs...)
				continue
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

// s3Sources lists the objects of an s3:// location.
func s3Sources(ctx context.Context, objects *s3Objects, location, using string) ([]proto.Source, error) {
	infos, err := objects.list(ctx, location, "."+using)
	if errors.Is(err, artifacts.ErrNotFound) {
		return nil, withCode(exitBadInput, err)
	}
	if err != nil {
		return nil, withCode(exitInfra, err)
	}
	srcs := make([]proto.Source, len(infos))
	for i, info := range infos {
		srcs[i] = proto.Source{Name: info.Name, URI: info.Name, Digest: steps.ObjectDigest(info), Size: info.Size}
	}
	return srcs, nil
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
	if !filepath.IsAbs(loc) && !strings.HasPrefix(loc, "s3://") {
		loc = filepath.Join(dir, loc)
	}
	return loc
}

// checkOutput refuses a run whose output exists when save_mode is error,
// before anything runs.
func checkOutput(ctx context.Context, rec *recipes.Recipe, dir string, plan []recipes.StepName) error {
	loc := outputLocation(rec, dir, plan)
	if loc == "" || rec.Predict.SaveMode != recipes.SaveError {
		return nil
	}
	if strings.HasPrefix(loc, "s3://") {
		o, err := openS3Output(ctx, loc)
		if err != nil {
			return err
		}
		if exists, err := o.exists(ctx); err != nil {
			return fmt.Errorf("predict: output %s: %w", loc, err)
		} else if exists {
			return fmt.Errorf("predict: output %s exists and save_mode is error", loc)
		}
		return nil
	}
	if _, err := os.Stat(loc); err == nil {
		return fmt.Errorf("predict: output %s exists and save_mode is error", loc)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("predict: output %s: %w", loc, err)
	}
	return nil
}
