// Package steps is the code of the regression/v1 template's steps, run by
// workers through the worker.Executor interface. cmd/sous hands it to the
// worker, so the worker stays a generic job runner.
//
// Every step reads its inputs from the artifact store by content digest and
// writes its outputs as new content-addressed blobs: running a step twice
// produces the same blobs, so redelivered jobs are harmless.
package steps

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sous-ml/sous/proto"
	"github.com/sous-ml/sous/recipes"
	"github.com/sous-ml/sous/recipes/cards"
	"github.com/sous-ml/sous/worker"
)

// Versions is the implementation version of each step. Bump a step's version
// when its code changes what it outputs: the version is part of the step's
// cache key, so outputs of older code are not reused.
func Versions() map[string]string {
	return map[string]string{
		"ingest":         "1",
		"split":          "1",
		"transform":      "1",
		"train":          "1",
		"evaluate":       "1",
		"register":       "1",
		"ingest_scoring": "2",
		"predict":        "2",
	}
}

type stepFunc func(ctx context.Context, job *proto.Job, cfg *recipes.JobConfig, env *worker.Env) (*worker.Output, error)

var stepFuncs = map[string]stepFunc{
	"ingest":         ingest,
	"split":          split,
	"transform":      transform,
	"train":          train,
	"evaluate":       evaluate,
	"register":       register,
	"ingest_scoring": ingestScoring,
	"predict":        predict,
}

// NewExecutor returns the executor of the built-in steps.
func NewExecutor() worker.Executor {
	return worker.ExecutorFunc(execute)
}

func execute(ctx context.Context, job *proto.Job, env *worker.Env) (*worker.Output, error) {
	fn, ok := stepFuncs[job.Step]
	if !ok {
		return nil, worker.Permanent(proto.CodeUnknownStep, fmt.Errorf("this worker has no step %q", job.Step))
	}
	// The key was derived with the coordinator's version of this step's code;
	// outputs of other code must not be committed under it.
	var doc struct {
		Impl string `json:"impl"`
	}
	if len(job.KeyDoc) > 0 && json.Unmarshal(job.KeyDoc, &doc) == nil && doc.Impl != Versions()[job.Step] {
		return nil, worker.RetryAfter(5*time.Second, fmt.Errorf("%s: the job is for version %q of the step's code, this worker has %q (a worker of the coordinator's version must run it)", job.Step, doc.Impl, Versions()[job.Step]))
	}
	var cfg recipes.JobConfig
	if err := json.Unmarshal(job.Config, &cfg); err != nil {
		return nil, worker.Permanent(proto.CodeBadMessage, fmt.Errorf("%s: job config: %w", job.Step, err))
	}
	return fn(ctx, job, &cfg, env)
}

// badInput marks an error caused by the user's data or settings: retrying cannot help.
func badInput(format string, args ...any) error {
	return worker.Permanent(proto.CodeBadInput, fmt.Errorf(format, args...))
}

// newCard starts a step's card with the job's identity.
func newCard(job *proto.Job, title string) *cards.Card {
	c := cards.New(job.Step, title)
	c.RunID = job.RunID
	c.CacheKey = job.CacheKey
	c.Status = cards.StatusSucceeded
	return c
}
