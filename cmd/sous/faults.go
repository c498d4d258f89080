package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/sous-ml/sous/proto"
	"github.com/sous-ml/sous/worker"
)

// faultsEnv names the fault-injection test hook read by `sous worker`.
//
// SOUS_FAULTS is a comma-separated list of step=action:
//
//	sleep:D  delay the step by the duration D before it runs (the delay
//	         honours cancellation: a cancelled run or a stopping worker ends it)
//	crash    fail the step with a plain error on every delivery, so it is
//	         retried with back-off until the consumer's MaxDeliver
//	exit     end the worker process with os.Exit(3) in the middle of the step
//	         (a crash that leaves the job unacknowledged)
//
// such as SOUS_FAULTS=train=sleep:4s or SOUS_FAULTS=train=crash,evaluate=sleep:1s.
// A shard of predict is named predict.N (N from 0): predict.2=exit.
// It exists for the process tests (process_test.go) and for trying failure
// handling on a real cluster; never set it in production. A worker with
// faults logs them at warn level when it starts.
const faultsEnv = "SOUS_FAULTS"

// fault is what to do to one step.
type fault struct {
	action string // sleep, crash or exit
	sleep  time.Duration
}

// parseFaults reads a SOUS_FAULTS value.
func parseFaults(spec string) (map[string]fault, error) {
	faults := map[string]fault{}
	for item := range strings.SplitSeq(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		step, action, ok := strings.Cut(item, "=")
		if !ok || step == "" {
			return nil, fmt.Errorf("%s: %q: want step=action (sleep:D, crash or exit)", faultsEnv, item)
		}
		var f fault
		switch {
		case strings.HasPrefix(action, "sleep:"):
			d, err := time.ParseDuration(strings.TrimPrefix(action, "sleep:"))
			if err != nil || d < 0 {
				return nil, fmt.Errorf("%s: %q: bad duration", faultsEnv, item)
			}
			f = fault{action: "sleep", sleep: d}
		case action == "crash", action == "exit":
			f = fault{action: action}
		default:
			return nil, fmt.Errorf("%s: %q: unknown action %q (want sleep:D, crash or exit)", faultsEnv, item, action)
		}
		faults[step] = f
	}
	return faults, nil
}

// withFaults wraps exec with the faults of spec; an empty spec returns exec.
func withFaults(exec worker.Executor, spec string, log *zap.Logger) (worker.Executor, error) {
	faults, err := parseFaults(spec)
	if err != nil || len(faults) == 0 {
		return exec, err
	}
	log.Warn("fault injection enabled (test hook)", zap.String(faultsEnv, spec))
	return worker.ExecutorFunc(func(ctx context.Context, job *proto.Job, env *worker.Env) (*worker.Output, error) {
		f, ok := faults[job.Step]
		if job.Shard != nil {
			f, ok = faults[fmt.Sprintf("%s.%d", job.Step, job.Shard.Index)]
		}
		if !ok {
			return exec.Execute(ctx, job, env)
		}
		switch f.action {
		case "sleep":
			t := time.NewTimer(f.sleep)
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
				return nil, fmt.Errorf("%s: %w", job.Step, context.Cause(ctx))
			}
		case "crash":
			return nil, fmt.Errorf("%s: injected crash (%s)", job.Step, faultsEnv)
		case "exit":
			env.Logger.Warn("injected exit: the worker process ends now", zap.String(faultsEnv, spec))
			_ = env.Logger.Sync()
			os.Exit(3)
		}
		return exec.Execute(ctx, job, env)
	}), nil
}
