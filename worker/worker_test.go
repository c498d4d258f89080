package worker

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	natstest "github.com/nats-io/nats-server/v2/test"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"

	"github.com/sous-ml/sous/artifacts"
	"github.com/sous-ml/sous/artifacts/local"
	"github.com/sous-ml/sous/proto"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/nats-io/nats-server/v2/server.(*Server).startGoRoutine"),
		goleak.IgnoreTopFunction("github.com/nats-io/nats-server/v2/server.(*Server).Start.func1"),
		goleak.IgnoreAnyFunction("github.com/nats-io/nats-server/v2/server.(*stream).internalLoop"),
		goleak.IgnoreAnyFunction("github.com/nats-io/nats-server/v2/server.(*fileStore).flushLoop"),
		goleak.IgnoreAnyFunction("github.com/nats-io/nats-server/v2/server.(*fileStore).syncBlocks"),
		goleak.IgnoreAnyFunction("github.com/nats-io/nats-server/v2/server.(*msgBlock).spinUpFlushLoop"),
		goleak.IgnoreAnyFunction("github.com/nats-io/nats-server/v2/server.(*jetStream).monitorCluster"),
		goleak.IgnoreAnyFunction("github.com/nats-io/nats-server/v2/server.(*consumer).processInboundAcks"),
		goleak.IgnoreAnyFunction("github.com/nats-io/nats-server/v2/server.(*consumer).loopAndGatherMsgs"),
		goleak.IgnoreAnyFunction("github.com/nats-io/nats-server/v2/server.(*Server).ackWait"),
		goleak.IgnoreAnyFunction("internal/poll.runtime_pollWait"),
		goleak.IgnoreAnyFunction("time.Sleep"),
	)
}

type bundle struct {
	js     jetstream.JetStream
	store  artifacts.Store
	events jetstream.Consumer
}

// setup starts a JetStream server on a random port with the sous streams.
func setup(t *testing.T) *bundle {
	t.Helper()
	opts := natstest.DefaultTestOptions
	opts.Port = -1
	opts.JetStream = true
	opts.StoreDir = t.TempDir()
	ns := natstest.RunServer(&opts)
	t.Cleanup(ns.Shutdown)
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: proto.StreamJobs, Subjects: []string{proto.JobSubjects}, Retention: jetstream.WorkQueuePolicy}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: proto.StreamEvents, Subjects: []string{proto.EventSubjects}}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: proto.BucketRuns}); err != nil {
		t.Fatal(err)
	}
	store, err := local.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	events, err := js.CreateConsumer(ctx, proto.StreamEvents, jetstream.ConsumerConfig{FilterSubject: proto.ResultSubjects, AckPolicy: jetstream.AckNonePolicy})
	if err != nil {
		t.Fatal(err)
	}
	return &bundle{js: js, store: store, events: events}
}

func startWorker(t *testing.T, b *bundle, exec Executor, mod func(*Config)) *Worker {
	t.Helper()
	cfg := Config{ID: "w-test", Slots: 2, AckWait: 2 * time.Second, Heartbeat: 300 * time.Millisecond, MaxDeliver: 3, FetchWait: 200 * time.Millisecond, TempDir: t.TempDir(), ShutdownTimeout: 5 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	w, err := New(cfg, b.js, b.store, exec)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Stop(context.Background()) })
	return w
}

func publishJob(t *testing.T, b *bundle, run, step string) proto.Job {
	t.Helper()
	job := proto.Job{Schema: proto.SchemaVersion, RunID: run, Step: step, CacheKey: "key-" + run + "-" + step, Config: json.RawMessage(`{}`)}
	data, _ := json.Marshal(job)
	if _, err := b.js.Publish(context.Background(), proto.JobSubject(proto.DefaultPool, run, step), data); err != nil {
		t.Fatal(err)
	}
	return job
}

// nextResult waits for the next step result event.
func nextResult(t *testing.T, b *bundle) *proto.Event {
	t.Helper()
	msg, err := b.events.Next(jetstream.FetchMaxWait(20 * time.Second))
	if err != nil {
		t.Fatalf("no result: %v", err)
	}
	var ev proto.Event
	if err := proto.Decode(msg.Data(), &ev); err != nil {
		t.Fatal(err)
	}
	return &ev
}

func okExecutor(calls *atomic.Int32) Executor {
	return ExecutorFunc(func(ctx context.Context, job *proto.Job, env *Env) (*Output, error) {
		calls.Add(1)
		digest, size, err := artifacts.PutBlob(ctx, env.Store, strings.NewReader("output of "+job.Step))
		if err != nil {
			return nil, err
		}
		return &Output{Outputs: map[string]proto.ArtifactRef{"out": {Digest: digest, Size: size}}, Metrics: map[string]float64{"m": 1}, Summary: "did " + job.Step, Card: []byte("<html>card</html>")}, nil
	})
}

func TestWorkerRunsJobAndCommitsManifest(t *testing.T) {
	b := setup(t)
	var calls atomic.Int32
	startWorker(t, b, okExecutor(&calls), nil)
	job := publishJob(t, b, "r1", "ingest")
	ev := nextResult(t, b)
	if !ev.Result.OK || ev.Step != "ingest" || ev.RunID != "r1" || ev.Result.Duplicate {
		t.Fatalf("result %+v", ev.Result)
	}
	m, err := artifacts.CheckManifest(context.Background(), b.store, "ingest", job.CacheKey)
	if err != nil {
		t.Fatalf("manifest: %v", err)
	}
	if m.Outputs["out"].Digest != ev.Result.Outputs["out"].Digest || m.Card == "" || m.Summary != "did ingest" {
		t.Fatalf("manifest %+v does not match result %+v", m, ev.Result)
	}

	// The same job again (a redelivery): the executor is not called, the manifest is reported.
	publishJob(t, b, "r1", "ingest")
	ev = nextResult(t, b)
	if !ev.Result.OK || !ev.Result.Duplicate || calls.Load() != 1 {
		t.Fatalf("duplicate: result %+v, calls %d", ev.Result, calls.Load())
	}
}

func TestWorkerFailures(t *testing.T) {
	cases := []struct {
		name      string
		fail      func(attempt int) error
		wantOK    bool
		wantCode  proto.ErrorCode
		wantCalls int32
		wantErr   string
	}{
		{name: "permanent error is not retried", fail: func(int) error { return Permanent(proto.CodeBadInput, errors.New("bad column x")) },
			wantCode: proto.CodeBadInput, wantCalls: 1, wantErr: "bad column x"},
		{name: "transient error is retried", fail: func(a int) error {
			if a == 1 {
				return errors.New("store hiccup")
			}
			return nil
		}, wantOK: true, wantCalls: 2},
		{name: "last delivery fails the step", fail: func(int) error { return RetryAfter(10*time.Millisecond, errors.New("always down")) },
			wantCode: proto.CodeInternal, wantCalls: 3, wantErr: "always down"},
		{name: "panic becomes an internal error with a stack", fail: func(int) error { panic("boom") },
			wantCode: proto.CodeInternal, wantCalls: 1, wantErr: "panic: boom"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			var calls atomic.Int32
			exec := ExecutorFunc(func(ctx context.Context, job *proto.Job, env *Env) (*Output, error) {
				calls.Add(1)
				if err := tc.fail(env.Attempt); err != nil {
					return nil, err
				}
				return &Output{Summary: "ok"}, nil
			})
			startWorker(t, b, exec, nil)
			publishJob(t, b, "r1", "train")
			ev := nextResult(t, b)
			if ev.Result.OK != tc.wantOK || ev.Result.Code != tc.wantCode {
				t.Fatalf("result ok=%v code=%v (%s), want ok=%v code=%v", ev.Result.OK, ev.Result.Code, ev.Result.Error, tc.wantOK, tc.wantCode)
			}
			if !strings.Contains(ev.Result.Error, tc.wantErr) {
				t.Fatalf("error %q does not contain %q", ev.Result.Error, tc.wantErr)
			}
			if calls.Load() != tc.wantCalls {
				t.Fatalf("executor called %d times, want %d", calls.Load(), tc.wantCalls)
			}
			info, err := b.js.Stream(context.Background(), proto.StreamJobs)
			if err != nil {
				t.Fatal(err)
			}
			checkFor(t, 5*time.Second, func() bool {
				si, _ := info.Info(context.Background())
				return si.State.Msgs == 0
			}, "the job is still in the queue")
		})
	}
}

func TestWorkerStopHandsJobBack(t *testing.T) {
	b := setup(t)
	started := make(chan struct{}, 1)
	blocking := ExecutorFunc(func(ctx context.Context, job *proto.Job, env *Env) (*Output, error) {
		started <- struct{}{}
		<-ctx.Done()
		return nil, context.Cause(ctx)
	})
	w := startWorker(t, b, blocking, func(c *Config) { c.ShutdownTimeout = 100 * time.Millisecond })
	publishJob(t, b, "r1", "train")
	<-started
	w.Stop(context.Background())

	// Another worker gets the job at once (nak, not an ack-wait timeout) and finishes it.
	var calls atomic.Int32
	startWorker(t, b, okExecutor(&calls), func(c *Config) { c.ID = "w2" })
	ev := nextResult(t, b)
	if !ev.Result.OK || ev.WorkerID != "w2" || ev.Attempt != 2 {
		t.Fatalf("after hand-back: %+v attempt %d by %s", ev.Result, ev.Attempt, ev.WorkerID)
	}
}

func TestWorkerCancelledRun(t *testing.T) {
	b := setup(t)
	started := make(chan struct{}, 1)
	blocking := ExecutorFunc(func(ctx context.Context, job *proto.Job, env *Env) (*Output, error) {
		started <- struct{}{}
		<-ctx.Done()
		return nil, context.Cause(ctx)
	})
	startWorker(t, b, blocking, nil)
	publishJob(t, b, "r9", "train")
	<-started
	kv, _ := b.js.KeyValue(context.Background(), proto.BucketRuns)
	st, _ := json.Marshal(proto.RunState{Schema: proto.SchemaVersion, RunID: "r9", Status: proto.StatusCancelled})
	if _, err := kv.Put(context.Background(), "r9", st); err != nil {
		t.Fatal(err)
	}
	ev := nextResult(t, b)
	if ev.Result.OK || ev.Result.Code != proto.CodeCancelled {
		t.Fatalf("result %+v, want cancelled", ev.Result)
	}
}

func TestRefusesOtherSchemaVersion(t *testing.T) {
	var job proto.Job
	err := proto.Decode([]byte(`{"schema": 99, "run_id": "r", "step": "s", "cache_key": "k"}`), &job)
	if !errors.Is(err, proto.ErrUnsupportedSchema) {
		t.Fatalf("err %v, want ErrUnsupportedSchema", err)
	}
}

// checkFor polls cond until it holds or the timeout passes.
func checkFor(t *testing.T, timeout time.Duration, cond func() bool, msg string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
