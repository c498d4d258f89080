package coordinator

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing/fstest"

	"github.com/sous-ml/sous/artifacts"
	"github.com/sous-ml/sous/artifacts/registry"
	"github.com/sous-ml/sous/proto"
	"github.com/sous-ml/sous/recipes"
)

// modelInput is the input name under which predict receives its model.
const modelInput = "model"

// stepInputs returns the content digests a step's key is made of: upstream
// outputs by name, source files for ingest steps, the model for predict.
func (c *Coordinator) stepInputs(ctx context.Context, r *run, step string) (map[string]string, error) {
	inputs := map[string]string{}
	spec, _ := recipes.Spec(recipes.StepName(step))
	for _, name := range spec.Inputs {
		ref, ok := r.outputs[name]
		if !ok {
			return nil, fmt.Errorf("%s: input %s was not produced by an upstream step", step, name)
		}
		inputs[name] = ref.Digest
	}
	srcs, err := c.sourceDigests(r, step)
	if err != nil {
		return nil, err
	}
	for _, s := range srcs {
		inputs["source:"+s.Name] = s.Digest
	}
	// ingest_scoring checks the data against the model's schema; predict
	// scores with the same model (resolved once per run).
	if step == string(recipes.StepIngestScoring) || step == string(recipes.StepPredict) {
		ref, ok := r.outputs[modelInput]
		if !ok {
			var err error
			if ref, err = c.resolveModel(ctx, r); err != nil {
				return nil, err
			}
			r.outputs[modelInput] = ref
		}
		inputs[modelInput] = ref.Digest
	}
	return inputs, nil
}

// sourceDigests resolves and hashes the files an ingest step reads. Digests
// are remembered by path, size and modification time, so an unchanged file is
// not read again.
func (c *Coordinator) sourceDigests(r *run, step string) ([]proto.Source, error) {
	if step != "ingest" && step != "ingest_scoring" {
		return nil, nil
	}
	if r.req.Sources != nil {
		srcs, ok := r.req.Sources[step]
		if !ok || len(srcs) == 0 {
			return nil, &inputError{fmt.Errorf("%s: the submission carries no source files", step)}
		}
		for _, s := range srcs {
			// s3:// objects are read where they are, by every worker.
			if !s.Uploaded && !c.cfg.LocalFiles && !strings.HasPrefix(s.URI, "s3://") {
				return nil, &inputError{fmt.Errorf("%s: source %s was not uploaded to the store; this coordinator reads no local files", step, s.Name)}
			}
		}
		return srcs, nil
	}
	if !c.cfg.LocalFiles {
		return nil, &inputError{fmt.Errorf("%s: the submission carries no uploaded sources; this coordinator reads no local files (submit with sous run --nats)", step)}
	}
	paths, err := r.recipe.Sources(recipes.StepName(step), r.req.RecipeDir)
	if err != nil {
		return nil, err
	}
	out := make([]proto.Source, 0, len(paths))
	for _, p := range paths {
		if strings.HasPrefix(p, "s3://") {
			return nil, &inputError{fmt.Errorf("%s: location %s: s3:// sources are listed by the submitting CLI (sous run); this submission carries none", step, p)}
		}
		digest, size, err := c.digests.digest(p)
		if err != nil {
			return nil, &inputError{fmt.Errorf("%s: read %s: %w", step, p, err)}
		}
		out = append(out, proto.Source{Name: SourceName(r.req.RecipeDir, p), URI: p, Digest: digest, Size: size})
	}
	return out, nil
}

// resolveModel finds the model predict scores with: model_uri when set,
// else the version this run registered, else the latest registered version.
func (c *Coordinator) resolveModel(ctx context.Context, r *run) (proto.ArtifactRef, error) {
	uri := r.recipe.PredictModelURI()
	if uri == "" {
		if r.state.Registered != nil {
			uri = fmt.Sprintf("models:/%s/%d", r.state.Registered.Name, r.state.Registered.Version)
		} else {
			name := r.recipe.ModelRegistry.ModelName
			if name == "" {
				return proto.ArtifactRef{}, &inputError{errors.New("predict: no model_uri and no model_registry.model_name in the profile: nothing to score with")}
			}
			uri = "models:/" + name + "/latest"
		}
	}
	if strings.HasPrefix(uri, "models:/") {
		v, err := registry.Resolve(ctx, c.store, uri)
		if err != nil {
			if errors.Is(err, registry.ErrNotFound) {
				return proto.ArtifactRef{}, &inputError{fmt.Errorf("predict: model %s: %w (run the training recipe first: sous run)", uri, err)}
			}
			return proto.ArtifactRef{}, err
		}
		return proto.ArtifactRef{Digest: v.ModelDigest, Size: v.ModelSize}, nil
	}
	if !c.cfg.LocalFiles {
		return proto.ArtifactRef{}, &inputError{fmt.Errorf("predict: model_uri %s: a cluster takes models:/ URIs only", uri)}
	}
	p := uri
	if !filepath.IsAbs(p) {
		p = filepath.Join(r.req.RecipeDir, p)
	}
	digest, size, err := artifacts.PutBlobFile(ctx, c.store, p)
	if err != nil {
		return proto.ArtifactRef{}, &inputError{fmt.Errorf("predict: model_uri %s: %w", uri, err)}
	}
	return proto.ArtifactRef{Digest: digest, Size: size}, nil
}

// inputError marks an error caused by the user's recipe or data.
type inputError struct{ err error }

func (e *inputError) Error() string { return e.err.Error() }
func (e *inputError) Unwrap() error { return e.err }

func codeFor(err error) proto.ErrorCode {
	var ie *inputError
	if errors.As(err, &ie) {
		return proto.CodeBadInput
	}
	return proto.CodeInternal
}

// lastKeyDocName is where the key document of a step's last output for a
// recipe is kept, so a miss can be explained against it.
func lastKeyDocName(r *run, step string) string {
	id := r.recipe.Identity(r.req.RecipeDir)
	return "index/" + id + "/" + step + ".json"
}

// missReason says why a step has no cached output, comparing its key with the
// one its last output for this recipe had.
func (c *Coordinator) missReason(ctx context.Context, r *run, step string, doc recipes.KeyDoc, missErr error) string {
	prev, err := readKeyDoc(ctx, c.store, lastKeyDocName(r, step))
	if err != nil {
		if missErr != nil && !errors.Is(missErr, artifacts.ErrNotFound) {
			return missErr.Error()
		}
		return "never ran"
	}
	if prev.Key() == doc.Key() {
		return "output missing from the store"
	}
	if reasons := recipes.DiffKeyDocs(*prev, doc); len(reasons) > 0 {
		return strings.Join(reasons, "; ")
	}
	return "key changed"
}

func (c *Coordinator) rememberKeyDoc(ctx context.Context, r *run, s *proto.StepState) {
	m, err := artifacts.ReadManifest(ctx, c.store, s.Name, s.CacheKey)
	if err != nil || len(m.KeyDoc) == 0 {
		return
	}
	_ = writeBytes(ctx, c.store, lastKeyDocName(r, s.Name), m.KeyDoc)
}

// mapFS serves submitted recipe files.
func mapFS(files map[string][]byte) fs.FS {
	m := fstest.MapFS{}
	for name, data := range files {
		m[name] = &fstest.MapFile{Data: data, Mode: 0o644}
	}
	return m
}

// SourceName is how a source file is named in cache keys: relative to the
// recipe directory when inside it, so moving the recipe keeps its cache.
func SourceName(recipeDir, path string) string {
	if rel, err := filepath.Rel(recipeDir, path); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.ToSlash(rel)
	}
	return path
}
