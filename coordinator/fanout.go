package coordinator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/sous-ml/sous/artifacts"
	"github.com/sous-ml/sous/proto"
)

// datasetInput is the input under which predict receives ingest_scoring's Dataset.
const datasetInput = "scoring_dataset"

// fanout is the coordinator's view of a step scored shard by shard.
type fanout struct {
	// base is the step's job; shard jobs and the commit job are copies of it.
	base    proto.Job
	shards  []proto.Shard
	keys    []string
	results []*proto.Result // nil until the shard's part exists
	done    int
	rows    int64 // rows of the shards done
	total   int64
}

func (f *fanout) progress() *proto.Progress {
	return &proto.Progress{Shards: len(f.shards), ShardsDone: f.done, Rows: f.total, RowsDone: f.rows}
}

// fanOut schedules predict as one job per shard of its data. Shards whose
// part is already in the store (same file bytes, row groups, model and
// settings) are not scored again. Once every part exists, commit publishes
// the job that commits the output. Caller holds c.mu; it reports whether the
// step reached a final state.
func (c *Coordinator) fanOut(ctx context.Context, r *run, s *proto.StepState, base proto.Job) bool {
	log := c.log.With(zap.String("run_id", r.state.RunID), zap.String("step", s.Name))
	ds, err := readDataset(ctx, c.store, base.Inputs[datasetInput])
	if err != nil {
		c.release(ctx, r, s)
		c.failStep(ctx, r, s, proto.CodeStore, fmt.Errorf("%s: %w", s.Name, err))
		return true
	}
	shards := cutShards(ds, c.cfg.ShardRows)
	if len(shards) == 0 {
		c.release(ctx, r, s)
		c.failStep(ctx, r, s, proto.CodeBadInput, fmt.Errorf("%s: the scoring data has no rows", s.Name))
		return true
	}
	f := &fanout{base: base, shards: shards, keys: make([]string, len(shards)), results: make([]*proto.Result, len(shards))}
	r.fanout = f
	impl := c.cfg.StepVersions[s.Name]
	published := 0
	for i, sh := range shards {
		f.total += sh.Rows
		file := ds.Files[sh.File].Source
		doc := r.recipe.ShardKeyDoc(map[string]string{
			modelInput:            base.Inputs[modelInput].Digest,
			"source:" + file.Name: file.Digest,
		}, []int{sh.FirstRowGroup, sh.RowGroups}, impl)
		f.keys[i] = doc.Key()
		if m, err := artifacts.CheckManifest(ctx, c.store, s.Name, f.keys[i]); err == nil {
			if res, err := resultFromManifest(m); err == nil {
				f.results[i] = res
				f.done++
				f.rows += sh.Rows
				continue
			}
		}
		job := base
		job.CacheKey = f.keys[i]
		job.KeyDoc, _ = json.Marshal(doc)
		job.Shard = &sh
		if err := c.publishJob(ctx, &job, fmt.Sprintf("%s.%d", s.Name, i)); err != nil {
			c.release(ctx, r, s)
			c.failStep(ctx, r, s, proto.CodeInternal, fmt.Errorf("%s: publish shard %d: %w", s.Name, i, err))
			return true
		}
		published++
		c.stats.published.Add(1)
	}
	s.Status = proto.StatusQueued
	s.Progress = f.progress()
	r.started[s.Name] = c.cfg.Now()
	c.stats.misses.Add(1)
	c.emit(ctx, proto.Event{Kind: proto.EventStepQueued, RunID: r.state.RunID, Step: s.Name, CacheKey: s.CacheKey, Progress: s.Progress})
	log.Info("step fanned out", zap.String("cache_key", s.CacheKey), zap.Int("shards", len(shards)),
		zap.Int("cached_shards", len(shards)-published), zap.Int64("rows", f.total), zap.String("reason", s.Reason))
	if f.done == len(shards) {
		return c.commit(ctx, r, s)
	}
	return false
}

// onShardResult records the result of one shard job. A failed shard fails
// the step (the worker has already retried it alone); the last part to
// arrive publishes the commit job. Caller holds c.mu.
func (c *Coordinator) onShardResult(ctx context.Context, r *run, s *proto.StepState, ev *proto.Event) {
	f := r.fanout
	i := ev.Shard.Index
	if f == nil || i < 0 || i >= len(f.shards) || f.keys[i] != ev.CacheKey || f.results[i] != nil ||
		(s.Status != proto.StatusQueued && s.Status != proto.StatusRunning) {
		return // late or duplicate
	}
	s.Attempts = max(s.Attempts, ev.Attempt)
	if !ev.Result.OK {
		code := ev.Result.Code
		if code == proto.CodeNone {
			code = proto.CodeInternal
		}
		c.failStep(ctx, r, s, code, fmt.Errorf("shard %d (of %d): %s", i, len(f.shards), ev.Result.Error))
		c.release(ctx, r, s)
		c.advance(ctx, r)
		c.wakeWaiters(ctx, r.state.RunID)
		return
	}
	if _, ok := ev.Result.Outputs[proto.PartOutput]; !ok {
		c.failStep(ctx, r, s, proto.CodeInternal, fmt.Errorf("shard %d (of %d): the result has no %s", i, len(f.shards), proto.PartOutput))
		c.release(ctx, r, s)
		c.advance(ctx, r)
		return
	}
	f.results[i] = ev.Result
	f.done++
	f.rows += f.shards[i].Rows
	s.Progress = f.progress()
	c.emit(ctx, proto.Event{Kind: proto.EventShardDone, RunID: r.state.RunID, Step: s.Name, CacheKey: ev.CacheKey,
		WorkerID: ev.WorkerID, Shard: ev.Shard, Progress: s.Progress})
	if f.done == len(f.shards) {
		if c.commit(ctx, r, s) {
			c.advance(ctx, r)
		}
		return
	}
	if err := c.persist(ctx, r); err != nil {
		c.log.Warn("persist run", zap.Error(err))
	}
}

// commit publishes the job that commits the scored parts as the step's
// output. It runs only once every part exists, so the output is never
// partial. It reports whether the step reached a final state.
func (c *Coordinator) commit(ctx context.Context, r *run, s *proto.StepState) bool {
	f := r.fanout
	job := f.base
	job.Parts = make([]proto.Part, len(f.shards))
	for i, res := range f.results {
		job.Parts[i] = proto.Part{Index: i, Rows: f.shards[i].Rows,
			Data: res.Outputs[proto.PartOutput], Summary: res.Outputs[proto.SummaryOutput]}
		if n, ok := res.Metrics["rows_scored"]; ok {
			job.Parts[i].Rows = int64(n)
		}
	}
	if err := c.publishJob(ctx, &job, s.Name); err != nil {
		c.release(ctx, r, s)
		c.failStep(ctx, r, s, proto.CodeInternal, fmt.Errorf("%s: publish commit: %w", s.Name, err))
		return true
	}
	c.stats.published.Add(1)
	return false
}

// publishJob publishes a job on the subject of its run and step (plus a
// suffix naming the shard), deduplicated by the server on run, step and key.
func (c *Coordinator) publishJob(ctx context.Context, job *proto.Job, subjectStep string) error {
	data, err := json.Marshal(job)
	if err != nil {
		return err
	}
	msg := &nats.Msg{Subject: proto.JobSubject(c.cfg.Pool, job.RunID, subjectStep), Data: data, Header: nats.Header{}}
	msg.Header.Set(jetstream.MsgIDHeader, job.RunID+"."+subjectStep+"."+job.CacheKey)
	_, err = c.js.PublishMsg(ctx, msg)
	return err
}

// readDataset reads ingest_scoring's description of the scoring data.
func readDataset(ctx context.Context, store artifacts.Store, ref proto.ArtifactRef) (*proto.Dataset, error) {
	if ref.Digest == "" {
		return nil, errors.New("no scoring_dataset input")
	}
	rc, err := store.Get(ctx, artifacts.BlobName(ref.Digest))
	if err != nil {
		return nil, fmt.Errorf("read scoring_dataset: %w", err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, 256<<20))
	if err != nil {
		return nil, fmt.Errorf("read scoring_dataset: %w", err)
	}
	var ds proto.Dataset
	if err := json.Unmarshal(data, &ds); err != nil {
		return nil, fmt.Errorf("read scoring_dataset: %w", err)
	}
	if ds.Schema != proto.SchemaVersion {
		return nil, fmt.Errorf("read scoring_dataset: %w", proto.ErrUnsupportedSchema)
	}
	return &ds, nil
}
