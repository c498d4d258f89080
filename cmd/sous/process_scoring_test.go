//go:build linux

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sous-ml/sous/recipes/frame"
)

// TestProcessBatchScoring: predict fans out over seven shards on a cluster
// of processes.
//   - A worker dies (os.Exit, its jobs unacknowledged) while scoring shards
//     0 and 1; a worker started afterwards scores them again, and the output,
//     read back, is every input row exactly once, in order, with the
//     in-process prediction.
//   - A shard that fails on every delivery fails the step: the output
//     location is not written and predict commits nothing; once the fault is
//     gone, a re-run scores that one shard and commits.
func TestProcessBatchScoring(t *testing.T) {
	c := newCluster(t)
	c.startCoordinator("--shard-rows", "100")
	dir := copyExample(t)
	healthy := c.startWorker("w1", "")
	code, rep, stderr := c.watch(c.submit(dir), 2*time.Minute)
	wantSucceeded(t, code, rep, stderr)
	healthy.term()

	in := writeScoringFiles(t, dir, 50, 300, 180, 120) // shards 0-2 | 3-4 | 5-6
	writeBatchProfile(t, dir, "parquet", "out/scored.parquet", "overwrite")
	predict := func() (int, runReport, string) {
		code, out, errOut := c.sous(3*time.Minute, "run", "-C", dir, "--profile", "batch", "--step", "predict", "-o", "json")
		var rep runReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("sous run -o json: exit %d, %v\n%s\n%s", code, err, out, errOut)
		}
		return code, rep, errOut
	}

	t.Run("a killed worker's shards are scored again, once", func(t *testing.T) {
		victim := c.startWorker("w-dies", "predict.1=exit")
		type result struct {
			code   int
			rep    runReport
			stderr string
		}
		done := make(chan result, 1)
		go func() { code, rep, stderr := predict(); done <- result{code, rep, stderr} }()
		waitFor(t, 2*time.Minute, "the worker dies on shard 1", func() bool { return !victim.running() })
		if code := victim.exitCode(); code != 3 {
			t.Fatalf("the worker exited with %d, want 3 (the injected exit)", code)
		}
		c.startWorker("w2", "")
		r := <-done
		wantSucceeded(t, r.code, r.rep, r.stderr)
		got, _ := readScoredOutput(t, filepath.Join(dir, "out", "scored.parquet"), "parquet")
		compareScored(t, got, in, expectedPredictions(t, c.store(), in), false)
		var redone bool
		for _, e := range c.workers[len(c.workers)-1].entries("step started") {
			if e["step"] == "predict" && e["shard"] == float64(1) {
				redone = true
			}
		}
		if !redone {
			t.Fatal("shard 1 was not scored by the worker started after the kill")
		}
		if n := count(t, c.store(), "steps/predict/", "/manifest.json"); n != 7+1 {
			t.Fatalf("%d predict manifests, want 7 shards + 1 commit", n)
		}
	})

	t.Run("a failing shard commits nothing; a re-run scores only it", func(t *testing.T) {
		for _, w := range c.workers {
			if w.running() {
				w.term()
			}
		}
		all, err := frame.ReadParquetFile(filepath.Join(dir, "data", "sample.parquet"))
		if err != nil {
			t.Fatal(err)
		}
		writeParquet(t, filepath.Join(dir, "score", "a.parquet"), all.Slice(700, 1000), 50) // shards 0-2 change
		writeBatchProfile(t, dir, "parquet", "out/second.parquet", "overwrite")
		st := c.store()
		before := count(t, st, "steps/predict/", "/manifest.json")
		c.startWorker("w-fails", "predict.2=crash", "--max-deliver", "2")
		code, rep, stderr := predict()
		if code != exitFailed || rep.Status != "failed" {
			t.Fatalf("exit %d, status %s, want a failed run\n%s", code, rep.Status, stderr)
		}
		if _, err := os.Stat(filepath.Join(dir, "out", "second.parquet")); !os.IsNotExist(err) {
			t.Fatalf("a failed run wrote its output: %v", err)
		}
		// Shards 0 and 1 of the changed file committed their parts; no commit.
		if n := count(t, st, "steps/predict/", "/manifest.json") - before; n != 2 {
			t.Fatalf("%d new predict manifests after the failure, want 2 (shards 0 and 1)", n)
		}
		c.workers[len(c.workers)-1].term()
		w := c.startWorker("w3", "")
		code, rep, stderr = predict()
		wantSucceeded(t, code, rep, stderr)
		var shards []any
		commits := 0
		for _, e := range w.entries("step started") {
			if e["step"] != "predict" {
				continue
			}
			if s, ok := e["shard"]; ok {
				shards = append(shards, s)
			} else {
				commits++
			}
		}
		if len(shards) != 1 || shards[0] != float64(2) || commits != 1 {
			t.Fatalf("the re-run scored shards %v and committed %d times, want shard 2 and one commit", shards, commits)
		}
		in2, err := frame.Concat(all.Slice(700, 1000), in.Slice(300, 600))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := readScoredOutput(t, filepath.Join(dir, "out", "second.parquet"), "parquet")
		compareScored(t, got, in2, expectedPredictions(t, c.store(), in2), false)
	})
}
