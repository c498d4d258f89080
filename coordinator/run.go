package coordinator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/sous-ml/sous/artifacts"
	"github.com/sous-ml/sous/proto"
	"github.com/sous-ml/sous/recipes"
)

// run is the coordinator's in-memory view of one run.
type run struct {
	state     proto.RunState
	req       proto.SubmitRequest
	recipe    *recipes.Recipe
	cancelled bool
	// outputs holds every artifact produced so far by name ("training_data", ...).
	outputs map[string]proto.ArtifactRef
	// lineage maps step → cache key and source → digest, for the registry.
	lineage map[string]string
	// started is when each queued step was published.
	started map[string]time.Time
	// persisted is the state last written to KV.
	persisted []byte
	// fanout tracks predict's shards while it runs.
	fanout *fanout
}

func (r *run) snapshot() *proto.RunState {
	st := r.state
	st.Steps = slices.Clone(r.state.Steps)
	return &st
}

// Submit validates the recipe, records the run and schedules its first steps.
// Recipe errors (file, line, key) are returned as they are, before anything is
// stored.
func (c *Coordinator) Submit(ctx context.Context, req proto.SubmitRequest) (*proto.RunState, error) {
	req.Schema = proto.SchemaVersion
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
	r := &run{
		req:     req,
		recipe:  rec,
		outputs: map[string]proto.ArtifactRef{},
		lineage: map[string]string{},
		started: map[string]time.Time{},
		state: proto.RunState{
			Schema:  proto.SchemaVersion,
			RunID:   newRunID(c.cfg.Now()),
			Status:  proto.StatusRunning,
			Recipe:  req.RecipeDir,
			Target:  req.Target,
			Created: c.cfg.Now().UTC(),
		},
	}
	for _, s := range order {
		r.state.Steps = append(r.state.Steps, proto.StepState{Name: string(s), Status: proto.StatusPending})
	}
	// Resolve the sources of ingest steps up front: a missing data file is an
	// input error of the submission, not a failed run.
	for _, s := range order {
		if _, err := c.sourceDigests(r, string(s)); err != nil {
			return nil, err
		}
	}
	if err := c.digests.save(); err != nil {
		c.log.Warn("save digest cache", zap.Error(err))
	}
	reqJSON, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	if _, err := c.runsKV.Put(ctx, requestKey(r.state.RunID), reqJSON); err != nil {
		return nil, fmt.Errorf("coordinator: save run %s: %w", r.state.RunID, err)
	}
	if err := c.persist(ctx, r); err != nil {
		return nil, err
	}
	c.runs[r.state.RunID] = r
	c.stats.submitted.Add(1)
	c.emit(ctx, proto.Event{Kind: proto.EventRunStarted, RunID: r.state.RunID, Run: r.snapshot()})
	c.log.Info("run submitted", zap.String("run_id", r.state.RunID), zap.String("recipe", req.RecipeDir), zap.String("target", req.Target))
	c.advance(ctx, r)
	return r.snapshot(), nil
}

// loadRecipe reads the recipe from the request's files or its directory.
func loadRecipe(req proto.SubmitRequest, env func(string) (string, bool)) (*recipes.Recipe, error) {
	if req.Env != nil {
		env = func(k string) (string, bool) { v, ok := req.Env[k]; return v, ok }
	}
	var fsys fs.FS
	if len(req.Files) > 0 {
		fsys = mapFS(req.Files)
	} else {
		if req.RecipeDir == "" {
			return nil, errors.New("coordinator: submit: no recipe directory or files")
		}
		fsys = os.DirFS(req.RecipeDir)
	}
	return recipes.LoadWith(fsys, recipes.LoadOptions{Profile: req.Profile, Env: env})
}

// advance schedules every step whose upstream steps are done, and skips the
// ones whose upstream failed. Caller holds c.mu.
func (c *Coordinator) advance(ctx context.Context, r *run) {
	for progress := true; progress; {
		progress = false
		for i := range r.state.Steps {
			s := &r.state.Steps[i]
			if s.Status != proto.StatusPending {
				continue
			}
			switch upstreamState(r, s.Name) {
			case upstreamFailed:
				s.Status = proto.StatusSkipped
				s.Code = proto.CodeUpstream
				c.emit(ctx, proto.Event{Kind: proto.EventStepSkipped, RunID: r.state.RunID, Step: s.Name})
				progress = true
				continue
			case upstreamWaiting:
				continue
			}
			if r.cancelled {
				s.Status = proto.StatusCancelled
				progress = true
				continue
			}
			if c.schedule(ctx, r, s) {
				progress = true
			}
		}
	}
	if err := c.persist(ctx, r); err != nil {
		c.log.Warn("persist run", zap.Error(err))
	}
	c.maybeFinish(ctx, r)
}

type upstream int

const (
	upstreamDone upstream = iota
	upstreamWaiting
	upstreamFailed
)

// upstreamState is the pure part of planning: can step run, wait, or never run?
func upstreamState(r *run, step string) upstream {
	for _, up := range recipes.Upstream(recipes.StepName(step)) {
		u := r.state.Step(string(up))
		if u == nil {
			continue // not part of this run's plan
		}
		switch u.Status {
		case proto.StatusRan, proto.StatusCached:
		case proto.StatusFailed, proto.StatusSkipped, proto.StatusCancelled:
			return upstreamFailed
		default:
			return upstreamWaiting
		}
	}
	return upstreamDone
}

// schedule computes a ready step's key and either takes its cached output or
// publishes its job. It reports whether the step reached a final state (so
// downstream steps may be ready).
func (c *Coordinator) schedule(ctx context.Context, r *run, s *proto.StepState) bool {
	log := c.log.With(zap.String("run_id", r.state.RunID), zap.String("step", s.Name))
	inputs, err := c.stepInputs(ctx, r, s.Name)
	if err != nil {
		c.failStep(ctx, r, s, codeFor(err), err)
		return true
	}
	doc := r.recipe.KeyDoc(recipes.StepName(s.Name), inputs, c.cfg.StepVersions[s.Name])
	key := doc.Key()
	s.CacheKey = key

	m, err := artifacts.CheckManifest(ctx, c.store, s.Name, key)
	if err == nil {
		res, rerr := resultFromManifest(m)
		if rerr == nil {
			c.completeStep(ctx, r, s, res, proto.StatusCached)
			c.stats.hits.Add(1)
			log.Info("step cached", zap.String("cache_key", key))
			return true
		}
		log.Warn("unreadable manifest; running the step again", zap.Error(rerr))
	} else if !errors.Is(err, artifacts.ErrNotFound) {
		c.failStep(ctx, r, s, proto.CodeStore, fmt.Errorf("%s: check cache: %w", s.Name, err))
		return true
	}
	s.Reason = c.missReason(ctx, r, s.Name, doc, err)

	// Single flight: one run computes a key at a time; the others wait for its manifest.
	holder, err := c.reserve(ctx, key, r.state.RunID)
	if err != nil {
		c.failStep(ctx, r, s, proto.CodeStore, fmt.Errorf("%s: reserve cache key: %w", s.Name, err))
		return true
	}
	if holder != r.state.RunID {
		if _, active := c.runs[holder]; active {
			log.Info("waiting for another run computing the same step", zap.String("holder", holder))
			return false // stays pending; re-examined when the holder's step ends
		}
		// A stale reservation (its run is gone): take it over.
		if _, err := c.reserveKV.Put(ctx, key, []byte(r.state.RunID)); err != nil {
			c.failStep(ctx, r, s, proto.CodeStore, err)
			return true
		}
	}

	docJSON, _ := json.Marshal(doc)
	jobCfg, err := r.recipe.JobConfig(recipes.StepName(s.Name))
	if err != nil {
		c.failStep(ctx, r, s, proto.CodeInternal, err)
		return true
	}
	cfgJSON, err := json.Marshal(jobCfg)
	if err != nil {
		c.failStep(ctx, r, s, proto.CodeInternal, err)
		return true
	}
	job := proto.Job{
		Schema:   proto.SchemaVersion,
		RunID:    r.state.RunID,
		Step:     s.Name,
		Template: r.recipe.Template,
		CacheKey: key,
		Config:   cfgJSON,
		Inputs:   map[string]proto.ArtifactRef{},
		KeyDoc:   docJSON,
		Timeout:  c.cfg.StepTimeout,
	}
	for name := range inputs {
		if ref, ok := r.outputs[name]; ok {
			job.Inputs[name] = ref
		}
	}
	job.Sources, _ = c.sourceDigests(r, s.Name)
	if ref, ok := r.outputs[modelInput]; ok && (s.Name == string(recipes.StepPredict) || s.Name == string(recipes.StepIngestScoring)) {
		job.Inputs[modelInput] = ref
	}
	if s.Name == string(recipes.StepPredict) {
		return c.fanOut(ctx, r, s, job)
	}
	if err := c.publishJob(ctx, &job, s.Name); err != nil {
		c.release(ctx, r, s)
		c.failStep(ctx, r, s, proto.CodeInternal, fmt.Errorf("%s: publish job: %w", s.Name, err))
		return true
	}
	s.Status = proto.StatusQueued
	c.stats.misses.Add(1)
	c.stats.published.Add(1)
	r.started[s.Name] = c.cfg.Now()
	c.emit(ctx, proto.Event{Kind: proto.EventStepQueued, RunID: r.state.RunID, Step: s.Name, CacheKey: key})
	log.Info("step queued", zap.String("cache_key", key), zap.String("reason", s.Reason))
	return false
}

// reserve takes the single-flight reservation of key for runID, or returns the run holding it.
func (c *Coordinator) reserve(ctx context.Context, key, runID string) (string, error) {
	_, err := c.reserveKV.Create(ctx, key, []byte(runID))
	if err == nil {
		return runID, nil
	}
	if !errors.Is(err, jetstream.ErrKeyExists) {
		return "", err
	}
	e, err := c.reserveKV.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return c.reserve(ctx, key, runID)
	}
	if err != nil {
		return "", err
	}
	return string(e.Value()), nil
}

// release drops the reservation of a step's key if this run holds it.
func (c *Coordinator) release(ctx context.Context, r *run, s *proto.StepState) {
	if s.CacheKey == "" {
		return
	}
	e, err := c.reserveKV.Get(ctx, s.CacheKey)
	if err != nil || string(e.Value()) != r.state.RunID {
		return
	}
	_ = c.reserveKV.Delete(ctx, s.CacheKey, jetstream.LastRevision(e.Revision()))
}

// resultTimeout bounds the handling of one step result.
const resultTimeout = 2 * time.Minute

// onResult handles a worker's step result.
func (c *Coordinator) onResult(ev *proto.Event) {
	// Bounded: a hung store or KV call must not hold the coordinator forever.
	ctx, cancel := context.WithTimeout(context.Background(), resultTimeout)
	defer cancel()
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.runs[ev.RunID]
	if !ok || ev.Result == nil {
		return
	}
	s := r.state.Step(ev.Step)
	if s != nil && ev.Shard != nil {
		c.onShardResult(ctx, r, s, ev)
		return
	}
	if s == nil || s.CacheKey != ev.CacheKey || (s.Status != proto.StatusQueued && s.Status != proto.StatusRunning) {
		return // a late duplicate, or a result of a step already settled
	}
	s.Attempts = max(s.Attempts, ev.Attempt)
	if ev.Result.OK {
		res := ev.Result
		if st, ok := r.started[s.Name]; ok && r.fanout != nil && s.Progress != nil {
			// A fanned-out step took from its first shard to its commit.
			cp := *res
			cp.Duration = c.cfg.Now().Sub(st)
			res = &cp
		}
		c.completeStep(ctx, r, s, res, proto.StatusRan)
		if st, ok := r.started[s.Name]; ok && ev.Result.Duration == 0 {
			s.Duration = c.cfg.Now().Sub(st)
		}
	} else {
		code := ev.Result.Code
		if code == proto.CodeNone {
			code = proto.CodeInternal
		}
		c.failStep(ctx, r, s, code, errors.New(ev.Result.Error))
	}
	c.release(ctx, r, s)
	c.advance(ctx, r)
	c.wakeWaiters(ctx, r.state.RunID)
}

// wakeWaiters re-examines runs that wait for a key another run was computing.
func (c *Coordinator) wakeWaiters(ctx context.Context, except string) {
	for _, id := range slices.Sorted(maps.Keys(c.runs)) {
		if id == except {
			continue
		}
		other := c.runs[id]
		for _, s := range other.state.Steps {
			if s.Status == proto.StatusPending {
				c.advance(ctx, other)
				break
			}
		}
	}
}

// onMaxDeliveries fails the step of a job whose deliveries ran out without a result.
func (c *Coordinator) onMaxDeliveries(data []byte) {
	var adv struct {
		StreamSeq  uint64 `json:"stream_seq"`
		Deliveries int    `json:"deliveries"`
	}
	if json.Unmarshal(data, &adv) != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := c.js.Stream(ctx, proto.StreamJobs)
	if err != nil {
		return
	}
	raw, err := stream.GetMsg(ctx, adv.StreamSeq)
	if err != nil {
		return
	}
	var job proto.Job
	if json.Unmarshal(raw.Data, &job) != nil {
		return
	}
	_ = stream.DeleteMsg(ctx, adv.StreamSeq) // nothing of a dead job stays in the queue
	if m, err := artifacts.CheckManifest(ctx, c.store, job.Step, job.CacheKey); err == nil {
		// The last attempt committed its output but its result was lost.
		if res, err := resultFromManifest(m); err == nil {
			c.onResult(&proto.Event{Kind: proto.EventStepResult, RunID: job.RunID, Step: job.Step, CacheKey: job.CacheKey, Shard: job.Shard, Result: res})
			return
		}
	}
	c.onResult(&proto.Event{Kind: proto.EventStepResult, RunID: job.RunID, Step: job.Step, CacheKey: job.CacheKey, Shard: job.Shard,
		Result: &proto.Result{Code: proto.CodeMaxDeliveries, Error: fmt.Sprintf("%s: no worker finished the job after %d deliveries (workers died or hung)", job.Step, adv.Deliveries)}})
}

// completeStep records a successful (or cached) step.
func (c *Coordinator) completeStep(ctx context.Context, r *run, s *proto.StepState, res *proto.Result, status string) {
	s.Status = status
	s.Metrics = res.Metrics
	s.Outputs = res.Outputs
	s.Summary = res.Summary
	s.Card = res.Card
	s.Duration = res.Duration
	s.Code, s.Error = proto.CodeNone, ""
	maps.Copy(r.outputs, res.Outputs)
	r.lineage["step:"+s.Name] = s.CacheKey
	if res.ValidationStatus != "" {
		r.state.ValidationStatus = res.ValidationStatus
	}
	if res.Registered != nil {
		r.state.Registered = res.Registered
	}
	if status == proto.StatusCached {
		s.Duration = 0
	}
	kind := proto.EventStepDone
	if status == proto.StatusCached {
		kind = proto.EventStepCached
	}
	c.rememberKeyDoc(ctx, r, s)
	c.emit(ctx, proto.Event{Kind: kind, RunID: r.state.RunID, Step: s.Name, CacheKey: s.CacheKey, Result: res})
}

// failStep records a failed step.
func (c *Coordinator) failStep(ctx context.Context, r *run, s *proto.StepState, code proto.ErrorCode, err error) {
	s.Status = proto.StatusFailed
	s.Code = code
	s.Error = err.Error()
	if r.state.Error == "" {
		r.state.Error = err.Error()
	}
	c.log.Warn("step failed", zap.String("run_id", r.state.RunID), zap.String("step", s.Name), zap.Stringer("code", code), zap.Error(err))
	c.emit(ctx, proto.Event{Kind: proto.EventStepFailed, RunID: r.state.RunID, Step: s.Name, CacheKey: s.CacheKey,
		Result: &proto.Result{Code: code, Error: err.Error()}})
}

// maybeFinish ends the run once no step can make progress.
func (c *Coordinator) maybeFinish(ctx context.Context, r *run) {
	status := proto.StatusSucceeded
	for _, s := range r.state.Steps {
		switch s.Status {
		case proto.StatusPending, proto.StatusQueued, proto.StatusRunning:
			return
		case proto.StatusFailed, proto.StatusSkipped:
			if status != proto.StatusCancelled {
				status = proto.StatusFailed
			}
		case proto.StatusCancelled:
			status = proto.StatusCancelled
		}
	}
	if r.cancelled {
		status = proto.StatusCancelled
	}
	r.state.Status = status
	r.state.Finished = c.cfg.Now().UTC()
	if err := c.persist(ctx, r); err != nil {
		c.log.Warn("persist run", zap.Error(err))
	}
	c.writeRunRecord(ctx, r)
	// The submission (recipe files, the profile's environment) is kept only
	// while the run may need resuming.
	_ = c.runsKV.Delete(ctx, requestKey(r.state.RunID))
	if err := c.digests.save(); err != nil {
		c.log.Warn("save digest cache", zap.Error(err))
	}
	delete(c.runs, r.state.RunID)
	c.stats.finish(status)
	c.emit(ctx, proto.Event{Kind: proto.EventRunFinished, RunID: r.state.RunID, Run: r.snapshot()})
	c.log.Info("run finished", zap.String("run_id", r.state.RunID), zap.String("status", status))
}

// resultFromManifest returns the result a committed manifest recorded.
func resultFromManifest(m *artifacts.Manifest) (*proto.Result, error) {
	var res proto.Result
	if err := json.Unmarshal(m.Result, &res); err != nil {
		return nil, fmt.Errorf("manifest %s/%s: %w", m.Step, m.Key, err)
	}
	return &res, nil
}

// requestKey is the KV key under which a run's submission is kept, so that
// a restarted coordinator can load its recipe again.
func requestKey(runID string) string { return runID + ".request" }

// resume reloads the runs a previous coordinator left unfinished and
// schedules them again. Results that arrived meanwhile wait in the durable
// results consumer; steps already recorded as done are not run again.
func (c *Coordinator) resume(ctx context.Context) error {
	keys, err := c.runsKV.ListKeys(ctx)
	if err != nil {
		return fmt.Errorf("coordinator: list runs: %w", err)
	}
	var ids []string
	for k := range keys.Keys() {
		if !strings.HasSuffix(k, ".request") {
			ids = append(ids, k)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range ids {
		e, err := c.runsKV.Get(ctx, id)
		if err != nil {
			continue
		}
		var st proto.RunState
		if err := proto.Decode(e.Value(), &st); err != nil || st.Status != proto.StatusRunning {
			continue
		}
		r, err := c.reload(ctx, &st)
		if err != nil {
			st.Status, st.Error, st.Finished = proto.StatusFailed, "coordinator restart: "+err.Error(), c.cfg.Now().UTC()
			r = &run{state: st}
			_ = c.persist(ctx, r)
			c.emit(ctx, proto.Event{Kind: proto.EventRunFinished, RunID: st.RunID, Run: r.snapshot()})
			c.log.Warn("cannot resume run", zap.String("run_id", st.RunID), zap.Error(err))
			continue
		}
		c.runs[id] = r
		c.log.Info("run resumed", zap.String("run_id", id))
	}
	// Scheduling is not bounded by the caller's start-up deadline.
	for _, id := range slices.Sorted(maps.Keys(c.runs)) {
		c.advance(context.WithoutCancel(ctx), c.runs[id])
	}
	return nil
}

// reload rebuilds a run's in-memory state from its KV record.
func (c *Coordinator) reload(ctx context.Context, st *proto.RunState) (*run, error) {
	e, err := c.runsKV.Get(ctx, requestKey(st.RunID))
	if err != nil {
		return nil, fmt.Errorf("submission: %w", err)
	}
	var req proto.SubmitRequest
	if err := proto.Decode(e.Value(), &req); err != nil {
		return nil, err
	}
	rec, err := loadRecipe(req, c.cfg.Env)
	if err != nil {
		return nil, err
	}
	r := &run{state: *st, req: req, recipe: rec, outputs: map[string]proto.ArtifactRef{},
		lineage: map[string]string{}, started: map[string]time.Time{}}
	for _, s := range st.Steps {
		switch s.Status {
		case proto.StatusRan, proto.StatusCached:
			maps.Copy(r.outputs, s.Outputs)
			r.lineage["step:"+s.Name] = s.CacheKey
		case proto.StatusQueued, proto.StatusRunning:
			r.started[s.Name] = c.cfg.Now()
		}
	}
	// A queued step whose output was committed while no coordinator listened
	// (its result lost) is complete.
	for i := range r.state.Steps {
		s := &r.state.Steps[i]
		if s.Status != proto.StatusQueued || s.CacheKey == "" {
			continue
		}
		if m, err := artifacts.CheckManifest(ctx, c.store, s.Name, s.CacheKey); err == nil {
			if res, err := resultFromManifest(m); err == nil {
				c.completeStep(ctx, r, s, res, proto.StatusRan)
				continue
			}
		}
		// A fanned-out step's shards were tracked in memory: schedule it
		// again, which takes the parts already scored and re-publishes the
		// rest (the server drops a job still queued as a duplicate; a
		// worker reports a shard already committed without scoring it).
		if s.Progress != nil {
			s.Status = proto.StatusPending
		}
	}
	return r, nil
}
