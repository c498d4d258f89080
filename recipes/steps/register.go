package steps

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/sous-ml/sous/artifacts/registry"
	"github.com/sous-ml/sous/proto"
	"github.com/sous-ml/sous/recipes"
	"github.com/sous-ml/sous/recipes/cards"
	"github.com/sous-ml/sous/worker"
)

// register adds the model to the registry as the next version of
// model_registry.model_name, if evaluation allows it. A redelivered job finds
// the version it registered before instead of adding another.
func register(ctx context.Context, job *proto.Job, cfg *recipes.JobConfig, env *worker.Env) (*worker.Output, error) {
	var s recipes.RegisterSettings
	if err := cfg.Decode(&s); err != nil {
		return nil, err
	}
	if cfg.ModelName == "" {
		return nil, badInput("register: no model name: set model_registry.model_name in the profile")
	}
	data, err := readBlob(ctx, job, env, "metrics")
	if err != nil {
		return nil, err
	}
	var ev evaluation
	if err := json.Unmarshal(data, &ev); err != nil {
		return nil, fmt.Errorf("register: metrics: %w", err)
	}
	switch ev.ValidationStatus {
	case Rejected:
		var failed []string
		for _, c := range ev.Criteria {
			if !c.Passed {
				failed = append(failed, fmt.Sprintf("test %s = %.6g (threshold %.6g)", c.Metric, c.Value, c.Threshold))
			}
		}
		return nil, worker.Permanent(proto.CodeRejected, fmt.Errorf("register: the model is REJECTED by validation_criteria: %s; it was not registered", strings.Join(failed, ", ")))
	case Unknown:
		if !s.AllowNonValidatedModel {
			return nil, worker.Permanent(proto.CodeRejected, fmt.Errorf("register: the model's validation status is UNKNOWN (evaluate has no validation_criteria); set register.allow_non_validated_model: true to register it anyway"))
		}
	}
	model, err := input(job, "model")
	if err != nil {
		return nil, err
	}
	v, err := registry.Register(ctx, env.Store, registry.Version{
		Name:             cfg.ModelName,
		ModelDigest:      model.Digest,
		ModelSize:        model.Size,
		RegisterKey:      job.CacheKey,
		RunID:            job.RunID,
		ValidationStatus: ev.ValidationStatus,
		Metrics:          ev.Metrics,
		Created:          time.Now().UTC(),
	})
	if err != nil {
		return nil, err
	}
	doc, _ := json.Marshal(v)
	ref, err := writeBlob(ctx, env, "registered_model_version", doc)
	if err != nil {
		return nil, err
	}
	card := newCard(job, "Model registration")
	card.AddSummary(
		cards.KV{Key: "model", Value: v.Name},
		cards.KV{Key: "version", Value: fmt.Sprint(v.Version)},
		cards.KV{Key: "validation status", Value: v.ValidationStatus},
		cards.KV{Key: "model uri", Value: fmt.Sprintf("models:/%s/%d", v.Name, v.Version)},
	)
	return &worker.Output{
		Outputs:          map[string]proto.ArtifactRef{"registered_model_version": ref},
		Summary:          card.Text(80),
		Card:             card.HTML(),
		ValidationStatus: ev.ValidationStatus,
		Registered:       &proto.ModelVersion{Name: v.Name, Version: v.Version},
	}, nil
}
