//go:build linux

package main

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestProcessWorkerKilled: of three workers, the one running train is killed
// with SIGKILL; the job is redelivered to another after the ack wait, the run
// succeeds, and the store holds one train manifest and one model version.
func TestProcessWorkerKilled(t *testing.T) {
	c := newCluster(t)
	c.startCoordinator()
	for _, id := range []string{"w1", "w2", "w3"} {
		c.startWorker(id, "train=sleep:3s")
	}
	dir := copyExample(t)
	id := c.submit(dir)

	victim := c.runningStep("train", time.Minute)
	victim.kill()
	killed := time.Now()

	code, rep, stderr := c.watch(id, 2*time.Minute)
	wantSucceeded(t, code, rep, stderr)
	for _, s := range rep.Steps {
		if s.Status != "ran" {
			t.Errorf("step %s: %s, want ran", s.Name, s.Status)
		}
	}
	if d := time.Since(killed); d > time.Minute {
		t.Errorf("the run took %s after the kill", d)
	}
	if n := c.started()["train"]; n != 2 {
		t.Errorf("train started %d times, want 2 (killed, then redelivered)", n)
	}
	var redelivered int
	for _, w := range c.workers {
		if w == victim {
			continue
		}
		for _, e := range w.entries("step started") {
			if e["step"] == "train" && e["attempt"] == float64(2) {
				redelivered++
			}
		}
	}
	if redelivered != 1 {
		t.Errorf("train's second delivery seen on %d surviving workers, want 1", redelivered)
	}
	st := c.store()
	if n := count(t, st, "steps/train/", "/manifest.json"); n != 1 {
		t.Errorf("%d train manifests, want 1", n)
	}
	if n := count(t, st, "registry/taxi_fare_regressor/versions/", ".json"); n != 1 {
		t.Errorf("%d registered versions, want 1", n)
	}
	if rep.RegisteredModel == nil || rep.RegisteredModel.Version != 1 {
		t.Errorf("registered %+v, want version 1", rep.RegisteredModel)
	}
}

// TestProcessCoordinatorKilled: the coordinator is killed with SIGKILL while
// train runs and started again; the run resumes from its state in KV and the
// result published meanwhile, and finishes with no step run twice.
func TestProcessCoordinatorKilled(t *testing.T) {
	c := newCluster(t)
	coord := c.startCoordinator()
	c.startWorker("w1", "train=sleep:4s")
	c.startWorker("w2", "train=sleep:4s")
	dir := copyExample(t)
	id := c.submit(dir)

	c.runningStep("train", time.Minute)
	coord.kill()
	// The train result is published while no coordinator runs.
	waitFor(t, time.Minute, "train done", func() bool {
		for _, w := range c.workers {
			for _, e := range w.entries("step done") {
				if e["step"] == "train" {
					return true
				}
			}
		}
		return false
	})
	c.startCoordinator()
	if !strings.Contains(coord.log(), `"run resumed"`) {
		t.Errorf("the restarted coordinator did not log that it resumed run %s", id)
	}

	code, rep, stderr := c.watch(id, 2*time.Minute)
	wantSucceeded(t, code, rep, stderr)
	for step, n := range c.started() {
		if n != 1 {
			t.Errorf("step %s started %d times, want 1", step, n)
		}
	}
	if n := len(c.started()); n != 6 {
		t.Errorf("%d steps started, want 6: %v", n, c.started())
	}
	if n := count(t, c.store(), "registry/taxi_fare_regressor/versions/", ".json"); n != 1 {
		t.Errorf("%d registered versions, want 1", n)
	}
}

// TestProcessNATSRestart: nats-server is stopped while train runs and started
// again on the same port and store directory; the coordinator and workers
// reconnect (they retry forever) and the run finishes.
func TestProcessNATSRestart(t *testing.T) {
	c := newCluster(t)
	c.startCoordinator()
	c.startWorker("w1", "train=sleep:4s")
	c.startWorker("w2", "train=sleep:4s")
	dir := copyExample(t)
	id := c.submit(dir)

	// A CLI following the run goes on through the restart.
	follower := startProc(t, c.dir, "runs-watch", c.env, c.bin, "runs", "watch", id)
	c.runningStep("train", time.Minute)
	c.nats.term()
	c.startNATS()

	code, rep, stderr := c.watch(id, 2*time.Minute)
	wantSucceeded(t, code, rep, stderr)
	waitFor(t, time.Minute, "the follower ends", func() bool { return !follower.running() })
	if code := follower.exitCode(); code != 0 || !strings.Contains(follower.log(), "succeeded") {
		t.Errorf("sous runs watch across the restart: exit %d\n%s", code, follower.log())
	}
	if !c.coord.running() {
		t.Error("the coordinator exited")
	}
	for _, w := range c.workers {
		if !w.running() {
			t.Errorf("%s exited", w.name)
		}
	}
	// The servers are still usable: a second run is all cached.
	code, rep, stderr = c.watch(c.submit(dir), time.Minute)
	wantSucceeded(t, code, rep, stderr)
	for _, s := range rep.Steps {
		if s.Status != "cached" {
			t.Errorf("second run: step %s %s, want cached", s.Name, s.Status)
		}
	}
}

// TestProcessStoreOutage: MinIO is down for about 10 s while train runs; the
// step fails against the store, is retried with back-off (default
// --max-deliver) and the run succeeds once MinIO is back on the same address
// and data directory.
func TestProcessStoreOutage(t *testing.T) {
	c := newCluster(t)
	c.startCoordinator()
	c.startWorker("w1", "train=sleep:2s")
	dir := copyExample(t)
	id := c.submit(dir)

	c.runningStep("train", time.Minute)
	c.minio.kill()
	down := time.Now()
	waitFor(t, time.Minute, "train fails against the stopped store", func() bool {
		return len(c.workers[0].entries("step will be retried")) > 0
	})
	time.Sleep(time.Until(down.Add(10 * time.Second))) // the outage itself, not a wait for a condition
	c.startMinio()

	code, rep, stderr := c.watch(id, 3*time.Minute)
	wantSucceeded(t, code, rep, stderr)
	if n := c.started()["train"]; n < 2 {
		t.Errorf("train started %d times, want a retry", n)
	}
	if n := count(t, c.store(), "steps/train/", "/manifest.json"); n != 1 {
		t.Errorf("%d train manifests, want 1", n)
	}
}

// TestProcessStoreGone: MinIO stops for good while train runs; the step fails
// after its last delivery and the run fails within a bounded time with an
// error naming the store.
func TestProcessStoreGone(t *testing.T) {
	c := newCluster(t)
	c.startCoordinator()
	c.startWorker("w1", "train=sleep:1s", "--max-deliver", "3")
	dir := copyExample(t)
	id := c.submit(dir)

	c.runningStep("train", time.Minute)
	c.minio.kill()
	down := time.Now()
	code, rep, stderr := c.watch(id, 3*time.Minute)
	took := time.Since(down)
	t.Logf("the run failed %s after the store went away", took.Round(time.Second))
	if code != exitFailed || rep.Status != "failed" {
		t.Fatalf("exit %d, status %s, want 1 and failed\n%s", code, rep.Status, stderr)
	}
	if !strings.Contains(rep.Error, "s3://sous-test/proc/") {
		t.Errorf("the run's error does not name the store s3://sous-test/proc/: %q", rep.Error)
	}
	// 3 deliveries: back-off 1 s + 2 s, each attempt bounded by the S3
	// client's own retries, then the run record write that fails too.
	if took > 2*time.Minute {
		t.Errorf("the run took %s to fail, want under 2m", took)
	}
	if n := c.started()["train"]; n != 3 {
		t.Errorf("train started %d times, want 3 (--max-deliver)", n)
	}
}

// TestProcessSingleFlight: two runs of the same recipe submitted together run
// each step once; both succeed with the same keys and the same model version.
func TestProcessSingleFlight(t *testing.T) {
	c := newCluster(t)
	c.startCoordinator()
	c.startWorker("w1", "ingest=sleep:3s")
	c.startWorker("w2", "ingest=sleep:3s")
	dir := copyExample(t)
	id1 := c.submit(dir)
	id2 := c.submit(dir)

	code, rep1, stderr := c.watch(id1, 2*time.Minute)
	wantSucceeded(t, code, rep1, stderr)
	code, rep2, stderr := c.watch(id2, 2*time.Minute)
	wantSucceeded(t, code, rep2, stderr)
	for i, s := range rep1.Steps {
		if s.CacheKey == "" || rep2.Steps[i].CacheKey != s.CacheKey {
			t.Errorf("step %s: keys %q and %q", s.Name, s.CacheKey, rep2.Steps[i].CacheKey)
		}
		if s.Status != "ran" || rep2.Steps[i].Status != "cached" {
			t.Errorf("step %s: %s in the first run, %s in the second; want ran, cached", s.Name, s.Status, rep2.Steps[i].Status)
		}
	}
	started := c.started()
	for _, step := range trainingSteps {
		if started[step] != 1 {
			t.Errorf("step %s started %d times, want 1", step, started[step])
		}
	}
	if rep1.RegisteredModel == nil || rep2.RegisteredModel == nil || rep1.RegisteredModel.Version != 1 || rep2.RegisteredModel.Version != 1 {
		t.Errorf("registered %+v and %+v, want version 1 twice", rep1.RegisteredModel, rep2.RegisteredModel)
	}
	if n := count(t, c.store(), "registry/taxi_fare_regressor/versions/", ".json"); n != 1 {
		t.Errorf("%d registered versions, want 1", n)
	}
}

// TestProcessCrashingStep: a step that always fails is retried until its
// last delivery, then fails its run with its error; a run of another recipe
// goes through meanwhile, and nothing stays in SOUS_JOBS.
func TestProcessCrashingStep(t *testing.T) {
	c := newCluster(t)
	c.startCoordinator()
	c.startWorker("w1", "train=crash", "--max-deliver", "3")
	c.startWorker("w2", "train=crash", "--max-deliver", "3")
	dirA := copyExample(t)
	dirB := copyExample(t)
	profile := dirB + "/profiles/local.yaml"
	orig, err := os.ReadFile(profile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(profile, append(orig, "\nSPLIT_RATIOS: [0.7, 0.15, 0.15]\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	idA := c.submit(dirA)
	idB := c.submit(dirB, "--step", "transform")

	code, out, errOut := c.sous(2*time.Minute, "runs", "watch", idA)
	if code != exitFailed {
		t.Fatalf("runs watch %s: exit %d, want 1\n%s%s", idA, code, out, errOut)
	}
	if !strings.Contains(errOut, "injected crash") || !strings.Contains(out, "train") {
		t.Errorf("runs watch does not show the step's error:\n%s%s", out, errOut)
	}
	codeB, repB, stderrB := c.watch(idB, 2*time.Minute)
	wantSucceeded(t, codeB, repB, stderrB)
	_, repA, _ := c.watch(idA, time.Minute)
	if !strings.Contains(repA.Error, "injected crash") {
		t.Errorf("run record error %q does not carry the step's error", repA.Error)
	}
	if n := c.started()["train"]; n != 3 {
		t.Errorf("train started %d times, want 3 (--max-deliver)", n)
	}
	js := c.js()
	waitFor(t, 10*time.Second, "SOUS_JOBS empty", func() bool { return c.queued(js) == 0 })
}

// TestProcessCancel: a run cancelled while train runs is marked cancelled,
// train stops at its worker's next heartbeat, and nothing of the run stays queued.
func TestProcessCancel(t *testing.T) {
	c := newCluster(t)
	c.startCoordinator()
	w := c.startWorker("w1", "train=sleep:60s")
	dir := copyExample(t)
	id := c.submit(dir)

	c.runningStep("train", time.Minute)
	code, out, errOut := c.sous(time.Minute, "runs", "cancel", id)
	cancelled := time.Now()
	if code != 0 || !strings.Contains(out, "cancelled") {
		t.Fatalf("runs cancel: exit %d\n%s%s", code, out, errOut)
	}
	var stopped time.Time
	waitFor(t, 10*time.Second, "train stops", func() bool {
		for _, e := range w.entries("step cancelled") {
			if e["step"] == "train" {
				stopped = time.Now()
				return true
			}
		}
		return false
	})
	t.Logf("train stopped %s after the cancel returned", stopped.Sub(cancelled).Round(time.Millisecond))
	// One heartbeat is procAckWait/3; allow scheduling slack up to the ack wait.
	if d := stopped.Sub(cancelled); d > procAckWait {
		t.Errorf("train stopped %s after the cancel, want within a heartbeat (%s)", d, procAckWait/3)
	}
	code, rep, stderr := c.watch(id, time.Minute)
	if code != exitCancelled || rep.Status != "cancelled" {
		t.Fatalf("runs watch: exit %d, status %s, want 4 and cancelled\n%s", code, rep.Status, stderr)
	}
	js := c.js()
	waitFor(t, 10*time.Second, "SOUS_JOBS empty", func() bool { return c.queued(js) == 0 })
	if n := count(t, c.store(), "steps/train/", "/manifest.json"); n != 0 {
		t.Errorf("%d train manifests after the cancel, want 0", n)
	}
}

// TestProcessWorkersDieOnLastDelivery: every worker that takes train dies
// mid-step (SOUS_FAULTS=train=exit), up to the last delivery. The server
// notices that the deliveries ran out when a worker next pulls (it emits its
// MAX_DELIVERIES advisory then), so a healthy worker is started: the
// coordinator fails the step from the advisory instead of waiting forever,
// and the job is not delivered a third time.
func TestProcessWorkersDieOnLastDelivery(t *testing.T) {
	c := newCluster(t)
	c.startCoordinator()
	w1 := c.startWorker("w1", "train=exit", "--max-deliver", "2")
	w2 := c.startWorker("w2", "train=exit", "--max-deliver", "2")
	id := c.submit(copyExample(t))

	waitFor(t, 2*time.Minute, "both workers die in train", func() bool { return !w1.running() && !w2.running() })
	for _, w := range []*proc{w1, w2} {
		if w.exitCode() != 3 {
			t.Errorf("%s: exit code %d, want 3 (injected exit)", w.name, w.exitCode())
		}
	}
	w3 := c.startWorker("w3", "", "--max-deliver", "2")

	code, rep, stderr := c.watch(id, 2*time.Minute)
	if code != exitFailed || rep.Status != "failed" {
		t.Fatalf("exit %d, status %s, want 1 and failed\n%s", code, rep.Status, stderr)
	}
	if !strings.Contains(rep.Error, "after 2 deliveries") {
		t.Errorf("run error %q does not say the deliveries ran out", rep.Error)
	}
	for _, e := range w3.entries("step started") {
		if e["step"] == "train" {
			t.Errorf("train was delivered a third time, to w3: %v", e)
		}
	}
	js := c.js()
	waitFor(t, 10*time.Second, "SOUS_JOBS empty", func() bool { return c.queued(js) == 0 })
}
