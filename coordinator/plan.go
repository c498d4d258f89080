package coordinator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sous-ml/sous/artifacts"
	"github.com/sous-ml/sous/proto"
	"github.com/sous-ml/sous/recipes"
)

// Plan says what a submission would do, step by step, without running or
// recording anything: which steps are cached, which would run and why, and
// which another run is computing now. A step downstream of one that would run
// would run too: its key depends on outputs that do not exist yet.
func (c *Coordinator) Plan(ctx context.Context, req proto.SubmitRequest) ([]proto.StepPlan, error) {
	rec, err := loadRecipe(req, c.cfg.Env)
	if err != nil {
		return nil, err
	}
	order, err := rec.Plan(req.Target)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	r := &run{req: req, recipe: rec, outputs: map[string]proto.ArtifactRef{}, lineage: map[string]string{}, started: map[string]time.Time{}}
	status := map[string]string{}
	var out []proto.StepPlan
	for _, name := range order {
		step := string(name)
		p := proto.StepPlan{Name: step, Status: "run"}
		for _, up := range recipes.Upstream(name) {
			if st, ok := status[string(up)]; ok && st != "cached" {
				p.Reason = fmt.Sprintf("upstream step %s runs first", up)
			}
		}
		if p.Reason == "" {
			inputs, err := c.stepInputs(ctx, r, step)
			if err != nil {
				p.Reason = err.Error()
			} else {
				doc := rec.KeyDoc(name, inputs, c.cfg.StepVersions[step])
				p.CacheKey = doc.Key()
				m, err := artifacts.CheckManifest(ctx, c.store, step, p.CacheKey)
				switch {
				case err == nil:
					p.Status = "cached"
					if res, rerr := resultFromManifest(m); rerr == nil {
						for k, v := range res.Outputs {
							r.outputs[k] = v
						}
					}
				case errors.Is(err, artifacts.ErrNotFound):
					p.Reason = c.missReason(ctx, r, step, doc, err)
					if e, kerr := c.reserveKV.Get(ctx, p.CacheKey); kerr == nil {
						if _, active := c.runs[string(e.Value())]; active {
							p.Status, p.Reason = "in_flight", "run "+string(e.Value())+" is computing it"
						}
					}
				default:
					return nil, fmt.Errorf("coordinator: plan %s: %w", step, err)
				}
			}
		}
		status[step] = p.Status
		out = append(out, p)
	}
	return out, nil
}
