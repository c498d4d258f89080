package coordinator

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/sous-ml/sous/artifacts"
	"github.com/sous-ml/sous/proto"
)

// ErrUnknownRun is returned for a run id the coordinator does not know.
var ErrUnknownRun = errors.New("coordinator: unknown run")

// Coordinator turns submitted recipes into jobs, skips cached steps, follows
// results and records runs. All run state is owned under mu; every change is
// written to the runs KV bucket so a restarted coordinator can pick runs up.
type Coordinator struct {
	cfg   Config
	nc    *nats.Conn
	js    jetstream.JetStream
	store artifacts.Store
	log   *zap.Logger

	runsKV     jetstream.KeyValue
	reserveKV  jetstream.KeyValue
	digests    *digestCache
	cancelCons func()
	advisory   func() // stops consuming advisories

	mu   sync.Mutex
	runs map[string]*run

	stats stats
}

// New returns a coordinator; Start connects it.
func New(cfg Config, nc *nats.Conn, js jetstream.JetStream, store artifacts.Store) (*Coordinator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &Coordinator{
		cfg:     cfg,
		nc:      nc,
		js:      js,
		store:   store,
		log:     cfg.Logger.Named("coordinator"),
		digests: newDigestCache(cfg.DigestCachePath),
		runs:    make(map[string]*run),
	}, nil
}

// EnsureStreams creates or updates the streams and buckets sous uses. It is
// idempotent, so every coordinator (and test) may call it.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, eventsMaxAge time.Duration) error {
	if eventsMaxAge <= 0 {
		eventsMaxAge = DefaultEventsMaxAge
	}
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:       proto.StreamJobs,
		Subjects:   []string{proto.JobSubjects},
		Retention:  jetstream.WorkQueuePolicy,
		Storage:    jetstream.FileStorage,
		Duplicates: 2 * time.Minute,
	}); err != nil {
		return fmt.Errorf("coordinator: stream %s: %w", proto.StreamJobs, err)
	}
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:      proto.StreamEvents,
		Subjects:  []string{proto.EventSubjects},
		Retention: jetstream.LimitsPolicy,
		Storage:   jetstream.FileStorage,
		MaxAge:    eventsMaxAge,
	}); err != nil {
		return fmt.Errorf("coordinator: stream %s: %w", proto.StreamEvents, err)
	}
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:      proto.StreamAdvisories,
		Subjects:  []string{proto.MaxDeliveriesSubjects},
		Retention: jetstream.LimitsPolicy,
		Storage:   jetstream.FileStorage,
		MaxAge:    eventsMaxAge,
	}); err != nil {
		return fmt.Errorf("coordinator: stream %s: %w", proto.StreamAdvisories, err)
	}
	for _, b := range []string{proto.BucketRuns, proto.BucketReservations} {
		if _, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: b, Storage: jetstream.FileStorage}); err != nil {
			return fmt.Errorf("coordinator: bucket %s: %w", b, err)
		}
	}
	return nil
}

// Start creates the streams, resumes unfinished runs and starts consuming results.
func (c *Coordinator) Start(ctx context.Context) error {
	if err := EnsureStreams(ctx, c.js, c.cfg.EventsMaxAge); err != nil {
		return err
	}
	var err error
	if c.runsKV, err = c.js.KeyValue(ctx, proto.BucketRuns); err != nil {
		return fmt.Errorf("coordinator: %w", err)
	}
	if c.reserveKV, err = c.js.KeyValue(ctx, proto.BucketReservations); err != nil {
		return fmt.Errorf("coordinator: %w", err)
	}
	cons, err := c.js.CreateOrUpdateConsumer(ctx, proto.StreamEvents, jetstream.ConsumerConfig{
		Durable:       proto.CoordinatorConsumer,
		FilterSubject: proto.ResultSubjects,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       30 * time.Second,
		DeliverPolicy: jetstream.DeliverNewPolicy,
	})
	if err != nil {
		return fmt.Errorf("coordinator: consumer: %w", err)
	}
	if err := c.resume(ctx); err != nil {
		return err
	}
	cc, err := cons.Consume(func(msg jetstream.Msg) {
		var ev proto.Event
		if err := proto.Decode(msg.Data(), &ev); err != nil {
			c.log.Error("refusing event", zap.Error(err))
			// A result from a worker of another version: fail its step
			// loudly rather than let the run wait for it forever.
			if ev.RunID != "" && ev.Step != "" && ev.CacheKey != "" {
				c.onResult(&proto.Event{Kind: proto.EventStepResult, RunID: ev.RunID, Step: ev.Step, CacheKey: ev.CacheKey,
					Result: &proto.Result{Code: proto.CodeBadMessage, Error: fmt.Sprintf("%s: result refused: %v", ev.Step, err)}})
			}
			_ = msg.Term()
			return
		}
		c.onResult(&ev)
		_ = msg.Ack()
	})
	if err != nil {
		return fmt.Errorf("coordinator: consume results: %w", err)
	}
	c.cancelCons = cc.Stop
	// A job delivered MaxDeliver times without a result (its last worker
	// died) would otherwise hang its run: the server's advisory, kept in a
	// stream so that none is missed while no coordinator runs, fails the step.
	adv, err := c.js.CreateOrUpdateConsumer(ctx, proto.StreamAdvisories, jetstream.ConsumerConfig{
		Durable:       proto.CoordinatorConsumer,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       30 * time.Second,
		DeliverPolicy: jetstream.DeliverNewPolicy,
	})
	if err != nil {
		return fmt.Errorf("coordinator: advisories consumer: %w", err)
	}
	ac, err := adv.Consume(func(msg jetstream.Msg) {
		c.onMaxDeliveries(msg.Data())
		_ = msg.Ack()
	})
	if err != nil {
		return fmt.Errorf("coordinator: consume advisories: %w", err)
	}
	c.advisory = ac.Stop
	c.log.Info("coordinator started")
	return nil
}

// Stop stops consuming. Runs in flight stay in KV and resume on the next Start.
func (c *Coordinator) Stop() {
	if c.cancelCons != nil {
		c.cancelCons()
		c.cancelCons = nil
	}
	if c.advisory != nil {
		c.advisory()
		c.advisory = nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.digests.save(); err != nil {
		c.log.Warn("save digest cache", zap.Error(err))
	}
}

// newRunID returns a sortable, subject-safe run id.
func newRunID(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b[:])
}

// Status returns the state of a run.
func (c *Coordinator) Status(ctx context.Context, runID string) (*proto.RunState, error) {
	c.mu.Lock()
	if r, ok := c.runs[runID]; ok {
		st := r.snapshot()
		c.mu.Unlock()
		return st, nil
	}
	c.mu.Unlock()
	e, err := c.runsKV.Get(ctx, runID)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, fmt.Errorf("%w: %s", ErrUnknownRun, runID)
	}
	if err != nil {
		return nil, fmt.Errorf("coordinator: %w", err)
	}
	var st proto.RunState
	if err := proto.Decode(e.Value(), &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// Cancel marks a run cancelled: queued jobs are purged, running ones stop at
// their next heartbeat (workers read the run's state).
func (c *Coordinator) Cancel(ctx context.Context, runID string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.runs[runID]
	if !ok {
		return fmt.Errorf("%w: %s", ErrUnknownRun, runID)
	}
	r.cancelled = true
	if err := c.persist(ctx, r); err != nil {
		return err
	}
	stream, err := c.js.Stream(ctx, proto.StreamJobs)
	if err == nil {
		err = stream.Purge(ctx, jetstream.WithPurgeSubject(proto.JobSubject(c.cfg.Pool, runID, ">")))
	}
	if err != nil {
		c.log.Warn("purge queued jobs", zap.String("run_id", runID), zap.Error(err))
	}
	for i := range r.state.Steps {
		s := &r.state.Steps[i]
		switch s.Status {
		case proto.StatusPending, proto.StatusQueued:
			s.Status = proto.StatusCancelled
			c.release(ctx, r, s)
		}
	}
	c.maybeFinish(ctx, r)
	// Runs that waited for a key this run held can go on.
	c.wakeWaiters(ctx, runID)
	return nil
}

// persist writes the run state to KV.
func (c *Coordinator) persist(ctx context.Context, r *run) error {
	st := r.snapshot()
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	// Every result re-examines the runs that wait on keys; most of them do
	// not change, and a KV write per unchanged run would serialise the
	// coordinator on the server's round trips.
	if bytes.Equal(data, r.persisted) {
		return nil
	}
	if _, err := c.runsKV.Put(ctx, r.state.RunID, data); err != nil {
		return fmt.Errorf("coordinator: save run %s: %w", r.state.RunID, err)
	}
	r.persisted = data
	return nil
}

// emit publishes an event of a run for whoever follows it.
func (c *Coordinator) emit(ctx context.Context, ev proto.Event) {
	ev.Schema = proto.SchemaVersion
	ev.Time = c.cfg.Now().UTC()
	data, err := json.Marshal(ev)
	if err != nil {
		return
	}
	if _, err := c.js.Publish(ctx, proto.EventSubject(ev.RunID, ev.Kind), data); err != nil {
		c.log.Warn("publish event", zap.String("run_id", ev.RunID), zap.String("kind", string(ev.Kind)), zap.Error(err))
	}
}

// writeRunRecord stores the finished run under runs/ in the artifact store.
func (c *Coordinator) writeRunRecord(ctx context.Context, r *run) {
	data, err := json.MarshalIndent(r.snapshot(), "", "  ")
	if err != nil {
		return
	}
	name := "runs/" + r.state.RunID + ".json"
	if err := c.store.Put(ctx, name, bytes.NewReader(data), int64(len(data))); err != nil {
		c.log.Warn("write run record", zap.String("run_id", r.state.RunID), zap.Error(err))
	}
}
