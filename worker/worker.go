package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/sous-ml/sous/artifacts"
	"github.com/sous-ml/sous/proto"
)

// Defaults for Config.
const (
	DefaultAckWait = 30 * time.Second
	// DefaultMaxDeliver is 6: with the retry back-off of 1, 2, 4, 8 and 16 s a
	// step survives a store or network outage of about half a minute.
	DefaultMaxDeliver      = 6
	DefaultStepTimeout     = 2 * time.Hour
	DefaultShutdownTimeout = 30 * time.Second
	DefaultFetchWait       = 2 * time.Second
)

// Executor runs the code of one step. It is handed to the worker by cmd/sous,
// so the worker knows nothing of recipes.
type Executor interface {
	// Execute runs job and returns its outputs, already stored as blobs in
	// env.Store. It must honour ctx: when ctx is cancelled it returns promptly
	// with an error (the cause is available through context.Cause). It may be
	// called more than once for the same job (at-least-once delivery), so it
	// must not have side effects other than writing content-addressed blobs and
	// create-only documents.
	Execute(ctx context.Context, job *proto.Job, env *Env) (*Output, error)
}

// ExecutorFunc adapts a function to Executor.
type ExecutorFunc func(ctx context.Context, job *proto.Job, env *Env) (*Output, error)

// Execute calls f.
func (f ExecutorFunc) Execute(ctx context.Context, job *proto.Job, env *Env) (*Output, error) {
	return f(ctx, job, env)
}

// Env is what a step may use besides its job.
type Env struct {
	Store artifacts.Store
	// TempDir is a scratch directory private to this attempt, removed afterwards.
	TempDir string
	Logger  *zap.Logger
	// Attempt counts deliveries of this job, starting at 1.
	Attempt int
	// Objects opens source files that live outside the store (s3:// URIs);
	// nil when the worker was given none.
	Objects Objects
}

// Objects opens data steps read where it lives rather than from the
// artifact store, such as s3:// scoring files. cmd/sous provides it, so
// neither the worker nor the steps choose a storage backend.
type Objects interface {
	Open(ctx context.Context, uri string) (Object, error)
}

// Object is an opened object: random access, and its size and entity tag.
type Object interface {
	io.ReaderAt
	io.Closer
	Info() artifacts.Info
}

// Output is what a step produced.
type Output struct {
	Outputs map[string]proto.ArtifactRef
	Metrics map[string]float64
	// Summary is the step's short text summary for the terminal.
	Summary string
	// Card is the step's HTML card.
	Card             []byte
	ValidationStatus string
	Registered       *proto.ModelVersion
}

// Config configures a Worker.
type Config struct {
	// ID names this worker in logs and events; default hostname-pid.
	ID string
	// Pool is the worker pool whose jobs this worker pulls.
	Pool string
	// Slots is how many steps run at once.
	Slots int
	// AckWait is how long JetStream waits for a heartbeat before redelivering.
	AckWait time.Duration
	// Heartbeat is the InProgress period; default AckWait/3.
	Heartbeat time.Duration
	// MaxDeliver is how many times a job is delivered before it fails for good.
	MaxDeliver int
	// StepTimeout bounds an attempt when the job does not say.
	StepTimeout time.Duration
	// ShutdownTimeout is how long Stop lets running steps finish.
	ShutdownTimeout time.Duration
	// FetchWait bounds one pull request.
	FetchWait time.Duration
	// TempDir is where attempts get scratch directories; default os.TempDir().
	TempDir string
	// Objects opens s3:// source files for steps; nil refuses them.
	Objects Objects
	Logger  *zap.Logger
}

func (c Config) withDefaults() Config {
	if c.ID == "" {
		host, _ := os.Hostname()
		c.ID = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	if c.Pool == "" {
		c.Pool = proto.DefaultPool
	}
	if c.Slots <= 0 {
		c.Slots = 1
	}
	if c.AckWait <= 0 {
		c.AckWait = DefaultAckWait
	}
	if c.Heartbeat <= 0 {
		c.Heartbeat = c.AckWait / 3
	}
	if c.MaxDeliver <= 0 {
		c.MaxDeliver = DefaultMaxDeliver
	}
	if c.StepTimeout <= 0 {
		c.StepTimeout = DefaultStepTimeout
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	if c.FetchWait <= 0 {
		c.FetchWait = DefaultFetchWait
	}
	if c.TempDir == "" {
		c.TempDir = os.TempDir()
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	return c
}

// Validate reports settings that cannot work.
func (c Config) Validate() error {
	c = c.withDefaults()
	if c.Heartbeat >= c.AckWait {
		return fmt.Errorf("worker: heartbeat %s must be shorter than ack wait %s", c.Heartbeat, c.AckWait)
	}
	return nil
}

// ConsumerConfig is the durable pull consumer of a pool: explicit acks,
// redelivery after AckWait without a heartbeat, at most MaxDeliver deliveries
// and enough pending acks for every slot of every worker.
func ConsumerConfig(pool string, ackWait time.Duration, maxDeliver int) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       proto.ConsumerName(pool),
		FilterSubject: proto.PoolSubjects(pool),
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       ackWait,
		MaxDeliver:    maxDeliver,
		MaxAckPending: 4096,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	}
}

// Worker pulls and runs jobs. Start it once; Stop it once (a second Stop is a no-op).
type Worker struct {
	cfg   Config
	js    jetstream.JetStream
	store artifacts.Store
	exec  Executor
	log   *zap.Logger

	slots chan struct{} // a token per free slot

	fetchCancel context.CancelFunc
	workCancel  context.CancelCauseFunc
	workCtx     context.Context
	fetchWG     sync.WaitGroup // the fetch loop
	jobsWG      sync.WaitGroup // running jobs
	stopOnce    sync.Once

	// maxDeliver is the consumer's MaxDeliver as the server has it (another
	// worker may have set it), so the last delivery is recognised.
	maxDeliver atomic.Int64

	runsMu sync.Mutex
	runs   jetstream.KeyValue // run states, for cancellation; nil until found

	stats stats
}

// New returns a worker; it does not touch the network until Start.
func New(cfg Config, js jetstream.JetStream, store artifacts.Store, exec Executor) (*Worker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	w := &Worker{
		cfg:   cfg,
		js:    js,
		store: store,
		exec:  exec,
		log:   cfg.Logger.Named("worker").With(zap.String("worker_id", cfg.ID)),
		slots: make(chan struct{}, cfg.Slots),
	}
	for range cfg.Slots {
		w.slots <- struct{}{}
	}
	return w, nil
}

// Start creates (or updates) the pool's consumer and starts pulling.
func (w *Worker) Start(ctx context.Context) error {
	cons, err := w.js.CreateOrUpdateConsumer(ctx, proto.StreamJobs, ConsumerConfig(w.cfg.Pool, w.cfg.AckWait, w.cfg.MaxDeliver))
	if err != nil {
		return fmt.Errorf("worker: consumer %s: %w", proto.ConsumerName(w.cfg.Pool), err)
	}
	w.maxDeliver.Store(int64(w.cfg.MaxDeliver))
	if info := cons.CachedInfo(); info != nil && info.Config.MaxDeliver > 0 {
		w.maxDeliver.Store(int64(info.Config.MaxDeliver))
	}
	fetchCtx, fetchCancel := context.WithCancel(context.Background())
	w.workCtx, w.workCancel = context.WithCancelCause(context.Background())
	w.fetchCancel = fetchCancel
	w.fetchWG.Add(1)
	go func() {
		defer w.fetchWG.Done()
		w.fetchLoop(fetchCtx, cons)
	}()
	w.log.Info("worker started", zap.String("pool", w.cfg.Pool), zap.Int("slots", w.cfg.Slots))
	return nil
}

// Stop stops pulling, lets running steps finish for up to ShutdownTimeout (or
// until ctx ends), then cancels the rest and hands their jobs back.
func (w *Worker) Stop(ctx context.Context) {
	w.stopOnce.Do(func() {
		if w.fetchCancel == nil {
			return
		}
		// Stop pulling first, so no job arrives once running ones are handed back.
		w.fetchCancel()
		w.fetchWG.Wait()
		done := make(chan struct{})
		go func() { w.jobsWG.Wait(); close(done) }()
		timer := time.NewTimer(w.cfg.ShutdownTimeout)
		defer timer.Stop()
		select {
		case <-done:
		case <-timer.C:
			w.workCancel(ErrStop)
			<-done
		case <-ctx.Done():
			w.workCancel(ErrStop)
			<-done
		}
		w.workCancel(ErrStop)
		w.log.Info("worker stopped")
	})
}

// fetchLoop never asks for more jobs than it has free slots.
func (w *Worker) fetchLoop(ctx context.Context, cons jetstream.Consumer) {
	backoff := 100 * time.Millisecond
	for {
		n := w.acquire(ctx)
		if n == 0 {
			return
		}
		batch, err := cons.Fetch(n, jetstream.FetchMaxWait(w.cfg.FetchWait))
		if err != nil {
			w.release(n)
			if ctx.Err() != nil {
				return
			}
			w.log.Warn("fetch", zap.Error(err))
			if !sleepCtx(ctx, backoff) {
				return
			}
			backoff = min(backoff*2, 5*time.Second)
			continue
		}
		got := 0
		for msg := range batch.Messages() {
			got++
			if ctx.Err() != nil {
				// Arrived while stopping: hand it back at once.
				_ = msg.Nak()
				w.release(1)
				continue
			}
			w.jobsWG.Add(1)
			go func(d Delivery) {
				defer w.jobsWG.Done()
				defer w.release(1)
				w.handle(d)
			}(jsDelivery{msg})
		}
		w.release(n - got)
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			w.log.Warn("fetch batch", zap.Error(err))
			if !sleepCtx(ctx, backoff) {
				return
			}
			backoff = min(backoff*2, 5*time.Second)
			continue
		}
		backoff = 100 * time.Millisecond
		if ctx.Err() != nil {
			return
		}
	}
}

// acquire blocks for one free slot, then takes every other free slot; it
// returns 0 when ctx ends.
func (w *Worker) acquire(ctx context.Context) int {
	select {
	case <-w.slots:
	case <-ctx.Done():
		return 0
	}
	n := 1
	for {
		select {
		case <-w.slots:
			n++
		default:
			return n
		}
	}
}

func (w *Worker) release(n int) {
	for range n {
		w.slots <- struct{}{}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// retryDelay is the back-off before the next attempt of a failed job.
func retryDelay(attempt uint64) time.Duration {
	d := time.Second << min(attempt-1, 5)
	return min(d, 30*time.Second)
}

// runCancelled reports whether the run was cancelled (looked up at each heartbeat).
func (w *Worker) runCancelled(ctx context.Context, runID string) bool {
	w.runsMu.Lock()
	if w.runs == nil {
		kv, err := w.js.KeyValue(ctx, proto.BucketRuns)
		if err != nil {
			w.runsMu.Unlock()
			return false
		}
		w.runs = kv
	}
	runs := w.runs
	w.runsMu.Unlock()
	e, err := runs.Get(ctx, runID)
	if err != nil {
		return false
	}
	var st proto.RunState
	if json.Unmarshal(e.Value(), &st) != nil {
		return false
	}
	return st.Status == proto.StatusCancelled
}

// Stats are a worker's counters since it started, for metrics.
type Stats struct {
	// Started counts attempts begun, Redelivered those of jobs delivered
	// more than once (a worker died, a step was retried or handed back).
	Started, Redelivered uint64
	// Succeeded counts acknowledged jobs, Failed jobs terminated with a
	// failure (permanent or out of deliveries), Retried attempts handed back
	// for a later delivery.
	Succeeded, Failed, Retried uint64
	// Running is the number of steps running now.
	Running int64
	// Steps holds the time spent in finished attempts, per step.
	Steps map[string]StepStats
}

// StepStats is the time spent in one step's attempts.
type StepStats struct {
	Count   uint64
	Seconds float64
}

// stats holds the counters behind Stats.
type stats struct {
	started, redelivered, succeeded, failed, retried atomic.Uint64
	running                                          atomic.Int64
	mu                                               sync.Mutex
	steps                                            map[string]StepStats
}

func (s *stats) observe(step string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.steps == nil {
		s.steps = map[string]StepStats{}
	}
	st := s.steps[step]
	st.Count++
	st.Seconds += d.Seconds()
	s.steps[step] = st
}

// Stats returns the worker's counters.
func (w *Worker) Stats() Stats {
	s := &w.stats
	out := Stats{
		Started: s.started.Load(), Redelivered: s.redelivered.Load(),
		Succeeded: s.succeeded.Load(), Failed: s.failed.Load(), Retried: s.retried.Load(),
		Running: s.running.Load(), Steps: map[string]StepStats{},
	}
	s.mu.Lock()
	maps.Copy(out.Steps, s.steps)
	s.mu.Unlock()
	return out
}
