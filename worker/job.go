package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"time"

	"go.uber.org/zap"

	"github.com/sous-ml/sous/artifacts"
	"github.com/sous-ml/sous/proto"
)

// handle runs one delivery to its end: ack, nak or term.
func (w *Worker) handle(d Delivery) {
	var job proto.Job
	if err := proto.Decode(d.Data(), &job); err != nil {
		w.log.Error("refusing job message", zap.Error(err))
		if job.RunID != "" && job.Step != "" {
			w.publish(&job, int(d.NumDelivered()), &proto.Result{Code: proto.CodeBadMessage, Error: err.Error()})
		}
		_ = d.Term()
		return
	}
	if err := job.Validate(); err != nil {
		w.log.Error("refusing job", zap.Error(err))
		_ = d.Term()
		return
	}
	attempt := d.NumDelivered()
	log := w.log.With(zap.String("run_id", job.RunID), zap.String("step", job.Step),
		zap.String("cache_key", job.CacheKey), zap.Uint64("attempt", attempt))
	if job.Shard != nil {
		log = log.With(zap.Int("shard", job.Shard.Index))
	} else if len(job.Parts) > 0 {
		log = log.With(zap.Int("parts", len(job.Parts)))
	}

	timeout := job.Timeout
	if timeout <= 0 {
		timeout = w.cfg.StepTimeout
	}
	ctx, cancel := context.WithCancelCause(w.workCtx)
	defer cancel(nil)
	ctx, cancelTimeout := context.WithTimeoutCause(ctx, timeout, errTimeout)
	defer cancelTimeout()

	if w.runCancelled(ctx, job.RunID) {
		w.publish(&job, int(attempt), &proto.Result{Code: proto.CodeCancelled, Error: "run cancelled"})
		_ = d.Term()
		return
	}

	hbDone := make(chan struct{})
	go func() {
		defer close(hbDone)
		t := time.NewTicker(w.cfg.Heartbeat)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := d.InProgress(); err != nil {
					log.Warn("heartbeat", zap.Error(err))
				}
				if w.runCancelled(ctx, job.RunID) {
					cancel(ErrCancelled)
					return
				}
			}
		}
	}()

	log.Info("step started")
	start := time.Now()
	w.stats.started.Add(1)
	if attempt > 1 {
		w.stats.redelivered.Add(1)
	}
	w.stats.running.Add(1)
	res, err := w.attempt(ctx, &job, int(attempt), log)
	cancel(nil)
	<-hbDone
	w.stats.running.Add(-1)
	w.stats.observe(job.Step, time.Since(start))
	if err == nil {
		res.Duration = time.Since(start)
		if perr := w.publish(&job, int(attempt), res); perr != nil {
			// The manifest is committed; a redelivery will find it and report it.
			log.Warn("publish result", zap.Error(perr))
			w.stats.retried.Add(1)
			_ = d.NakWithDelay(time.Second)
			return
		}
		w.stats.succeeded.Add(1)
		_ = d.Ack()
		log.Info("step done", zap.Duration("duration", res.Duration), zap.Bool("duplicate", res.Duplicate))
		return
	}

	cause := context.Cause(ctx)
	var retry *RetryError
	var perm *PermanentError
	switch {
	case errors.Is(cause, ErrStop):
		log.Info("step handed back on shutdown")
		w.stats.retried.Add(1)
		_ = d.Nak()
	case errors.Is(cause, ErrCancelled) || errors.Is(err, ErrCancelled):
		log.Info("step cancelled")
		w.publish(&job, int(attempt), &proto.Result{Code: proto.CodeCancelled, Error: "run cancelled", Duration: time.Since(start)})
		_ = d.Term()
	case errors.As(err, &perm) || attempt >= uint64(w.maxDeliver.Load()):
		code := codeOf(err)
		if errors.Is(cause, errTimeout) {
			code = proto.CodeTimeout
			err = fmt.Errorf("%s: timed out after %s: %w", job.Step, timeout, err)
		}
		log.Warn("step failed", zap.Error(err), zap.Stringer("code", code))
		if perr := w.publish(&job, int(attempt), &proto.Result{Code: code, Error: err.Error(), Duration: time.Since(start)}); perr != nil {
			// Without the result the run would wait forever: let JetStream
			// deliver again (after the last delivery its advisory tells the coordinator).
			log.Warn("publish failure result", zap.Error(perr))
			w.stats.retried.Add(1)
			_ = d.NakWithDelay(time.Second)
			return
		}
		w.stats.failed.Add(1)
		_ = d.Term()
	case errors.As(err, &retry):
		log.Warn("step will be retried", zap.Error(err), zap.Duration("after", retry.After))
		w.stats.retried.Add(1)
		_ = d.NakWithDelay(retry.After)
	default:
		delay := retryDelay(attempt)
		log.Warn("step will be retried", zap.Error(err), zap.Duration("after", delay))
		w.stats.retried.Add(1)
		_ = d.NakWithDelay(delay)
	}
}

// attempt runs the step unless an earlier attempt already committed its
// manifest, then commits the manifest create-only.
func (w *Worker) attempt(ctx context.Context, job *proto.Job, attempt int, log *zap.Logger) (*proto.Result, error) {
	if m, err := artifacts.CheckManifest(ctx, w.store, job.Step, job.CacheKey); err == nil {
		if res, err := ResultFromManifest(m); err == nil {
			res.Duplicate = true
			return res, nil
		}
	}
	dir, err := os.MkdirTemp(w.cfg.TempDir, "sous-"+job.Step+"-")
	if err != nil {
		return nil, fmt.Errorf("scratch dir: %w", err)
	}
	defer os.RemoveAll(dir)

	out, err := w.execute(ctx, job, &Env{Store: w.store, TempDir: dir, Logger: log, Attempt: attempt, Objects: w.cfg.Objects})
	if err != nil {
		return nil, err
	}
	metrics := finiteMetrics(out.Metrics, log)
	res := &proto.Result{
		OK:               true,
		Outputs:          out.Outputs,
		Metrics:          metrics,
		Summary:          out.Summary,
		ValidationStatus: out.ValidationStatus,
		Registered:       out.Registered,
	}
	if len(out.Card) > 0 {
		digest, _, err := artifacts.PutBlob(ctx, w.store, bytes.NewReader(out.Card))
		if err != nil {
			return nil, fmt.Errorf("store card: %w", err)
		}
		res.Card = digest
	}
	resJSON, err := json.Marshal(res)
	if err != nil {
		return nil, err
	}
	m := &artifacts.Manifest{
		Schema:  artifacts.ManifestSchema,
		Step:    job.Step,
		Key:     job.CacheKey,
		Outputs: make(map[string]artifacts.Ref, len(out.Outputs)),
		Metrics: metrics,
		Summary: out.Summary,
		Card:    res.Card,
		KeyDoc:  job.KeyDoc,
		Result:  resJSON,
		RunID:   job.RunID,
		Created: time.Now().UTC(),
	}
	for name, ref := range out.Outputs {
		m.Outputs[name] = artifacts.Ref{Digest: ref.Digest, Size: ref.Size}
	}
	duplicate := false
	if err := artifacts.CommitManifest(ctx, w.store, m); err != nil {
		if !errors.Is(err, artifacts.ErrExists) {
			return nil, fmt.Errorf("commit manifest: %w", err)
		}
		// Another attempt won the race; its outputs are the step's outputs,
		// unless that manifest is damaged (this attempt ran because
		// CheckManifest rejected it): then this complete one replaces it.
		first, rerr := artifacts.CheckManifest(ctx, w.store, job.Step, job.CacheKey)
		if rerr == nil {
			if _, perr := ResultFromManifest(first); perr != nil {
				rerr = perr
			}
		}
		switch {
		case rerr == nil:
			m, duplicate = first, true
		case ctx.Err() != nil:
			return nil, fmt.Errorf("read manifest committed by another attempt: %w", rerr)
		default:
			if err := artifacts.RepairManifest(ctx, w.store, m); err != nil {
				return nil, fmt.Errorf("repair manifest: %w", err)
			}
			log.Warn("replaced a damaged manifest", zap.Error(rerr))
		}
	}
	if !duplicate {
		return res, nil
	}
	res, err = ResultFromManifest(m)
	if err != nil {
		return nil, err
	}
	res.Duplicate = true
	return res, nil
}

// execute calls the executor, turning a panic into a permanent internal error with its stack.
func (w *Worker) execute(ctx context.Context, job *proto.Job, env *Env) (out *Output, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = Permanent(proto.CodeInternal, fmt.Errorf("%s: panic: %v\n%s", job.Step, r, debug.Stack()))
		}
	}()
	out, err = w.exec.Execute(ctx, job, env)
	if err == nil && out == nil {
		err = Permanent(proto.CodeInternal, fmt.Errorf("%s: executor returned no output", job.Step))
	}
	return out, err
}

// ResultFromManifest returns the result a committed manifest recorded.
func ResultFromManifest(m *artifacts.Manifest) (*proto.Result, error) {
	var res proto.Result
	if err := json.Unmarshal(m.Result, &res); err != nil {
		return nil, fmt.Errorf("manifest %s/%s: result: %w", m.Step, m.Key, err)
	}
	return &res, nil
}

// publish sends a step result to the coordinator through the events stream.
func (w *Worker) publish(job *proto.Job, attempt int, res *proto.Result) error {
	ev := proto.Event{
		Schema:   proto.SchemaVersion,
		Kind:     proto.EventStepResult,
		RunID:    job.RunID,
		Step:     job.Step,
		CacheKey: job.CacheKey,
		Time:     time.Now().UTC(),
		WorkerID: w.cfg.ID,
		Attempt:  attempt,
		Result:   res,
		Shard:    job.Shard,
	}
	data, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = w.js.Publish(ctx, proto.EventSubject(job.RunID, proto.EventStepResult), data)
	return err
}

// finiteMetrics drops NaN and infinite metrics (an r2_score of a constant
// target, say): JSON cannot carry them, and a missing metric is clearer
// than a wrong one. The step's card still shows them.
func finiteMetrics(m map[string]float64, log *zap.Logger) map[string]float64 {
	out := make(map[string]float64, len(m))
	for k, v := range m {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			log.Info("dropping non-finite metric", zap.String("metric", k), zap.Float64("value", v))
			continue
		}
		out[k] = v
	}
	return out
}
