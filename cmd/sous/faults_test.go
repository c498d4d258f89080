package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/sous-ml/sous/proto"
	"github.com/sous-ml/sous/worker"
)

func TestParseFaults(t *testing.T) {
	f, err := parseFaults(" train=sleep:1.5s, evaluate=crash,register=exit,")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]fault{"train": {action: "sleep", sleep: 1500 * time.Millisecond}, "evaluate": {action: "crash"}, "register": {action: "exit"}}
	if len(f) != len(want) {
		t.Fatalf("got %v, want %v", f, want)
	}
	for k, v := range want {
		if f[k] != v {
			t.Errorf("%s: %+v, want %+v", k, f[k], v)
		}
	}
	for _, bad := range []string{"train", "=crash", "train=explode", "train=sleep:soon", "train=sleep:-1s"} {
		if _, err := parseFaults(bad); err == nil || !strings.Contains(err.Error(), faultsEnv) {
			t.Errorf("%q: error %v, want one naming %s", bad, err, faultsEnv)
		}
	}
}

func TestWithFaults(t *testing.T) {
	calls := 0
	inner := worker.ExecutorFunc(func(context.Context, *proto.Job, *worker.Env) (*worker.Output, error) {
		calls++
		return &worker.Output{}, nil
	})
	same, err := withFaults(inner, "", zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := same.Execute(context.Background(), &proto.Job{Step: "train"}, &worker.Env{Logger: zap.NewNop()}); err != nil || calls != 1 {
		t.Fatalf("no faults: err %v, calls %d", err, calls)
	}
	exec, err := withFaults(inner, "train=crash,split=sleep:50ms,evaluate=sleep:1h", zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	env := &worker.Env{Logger: zap.NewNop()}
	if _, err := exec.Execute(context.Background(), &proto.Job{Step: "train"}, env); err == nil || !strings.Contains(err.Error(), "injected crash") {
		t.Errorf("crash: %v", err)
	}
	start := time.Now()
	if _, err := exec.Execute(context.Background(), &proto.Job{Step: "split"}, env); err != nil || time.Since(start) < 50*time.Millisecond {
		t.Errorf("sleep: err %v after %s", err, time.Since(start))
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(worker.ErrCancelled)
	if _, err := exec.Execute(ctx, &proto.Job{Step: "evaluate"}, env); !errors.Is(err, worker.ErrCancelled) {
		t.Errorf("a cancelled sleep returned %v", err)
	}
	if _, err := exec.Execute(context.Background(), &proto.Job{Step: "ingest"}, env); err != nil {
		t.Errorf("a step without fault: %v", err)
	}
	if calls != 3 {
		t.Errorf("inner executor called %d times, want 3 (no fault, split after its sleep, ingest)", calls)
	}
}
