//go:build linux

package main

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// scrape reads /metrics at addr into name{labels} → value.
func scrape(t *testing.T, addr string) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	m := map[string]float64{}
	for line := range strings.SplitSeq(string(body), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if i < 0 || err != nil {
			t.Fatalf("/metrics: bad sample line %q", line)
		}
		m[line[:i]] = v
	}
	return m
}

func healthz(addr string) int {
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestProcessMetrics scrapes the coordinator and a worker before and after
// two runs of a recipe (the second one cached) and checks that /healthz
// follows the NATS connection.
func TestProcessMetrics(t *testing.T) {
	c := newCluster(t)
	caddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	waddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	c.startCoordinator("--metrics-addr", caddr)
	c.startWorker("w1", "train=sleep:5s", "--metrics-addr", waddr)

	want := func(m map[string]float64, name string, v float64) {
		t.Helper()
		got, ok := m[name]
		if !ok || got != v {
			t.Errorf("%s = %v (present %v), want %v", name, got, ok, v)
		}
	}
	cm, wm := scrape(t, caddr), scrape(t, waddr)
	want(cm, "sous_coordinator_runs_submitted_total", 0)
	want(cm, "sous_jobs_queue_depth", 0)
	want(cm, "sous_nats_connected", 1)
	want(wm, "sous_worker_jobs_started_total", 0)
	want(wm, "sous_worker_slots", 2)

	dir := copyExample(t)
	id := c.submit(dir)
	c.runningStep("train", time.Minute)
	// While train runs (5 s): its job is the one message of SOUS_JOBS
	// (unacknowledged), and ingest, split and transform are done.
	waitFor(t, 4*time.Second, "metrics while train runs", func() bool {
		cm, wm = scrape(t, caddr), scrape(t, waddr)
		return cm["sous_jobs_queue_depth"] == 1 && cm["sous_coordinator_runs_active"] == 1 &&
			wm["sous_worker_steps_running"] == 1 && wm["sous_worker_jobs_succeeded_total"] == 3
	})
	code, rep, stderr := c.watch(id, 2*time.Minute)
	wantSucceeded(t, code, rep, stderr)
	code, rep, stderr = c.watch(c.submit(dir), 2*time.Minute)
	wantSucceeded(t, code, rep, stderr)

	cm, wm = scrape(t, caddr), scrape(t, waddr)
	want(cm, "sous_coordinator_runs_submitted_total", 2)
	want(cm, `sous_coordinator_runs_finished_total{status="succeeded"}`, 2)
	want(cm, `sous_coordinator_runs_finished_total{status="failed"}`, 0)
	want(cm, "sous_coordinator_cache_misses_total", 6)
	want(cm, "sous_coordinator_cache_hits_total", 6)
	want(cm, "sous_coordinator_jobs_published_total", 6)
	want(cm, "sous_coordinator_runs_active", 0)
	want(cm, "sous_jobs_queue_depth", 0)
	want(wm, "sous_worker_jobs_started_total", 6)
	want(wm, "sous_worker_jobs_succeeded_total", 6)
	want(wm, "sous_worker_jobs_failed_total", 0)
	want(wm, "sous_worker_jobs_redelivered_total", 0)
	want(wm, "sous_worker_steps_running", 0)
	for _, step := range trainingSteps {
		want(wm, `sous_worker_step_duration_seconds_count{step="`+step+`"}`, 1)
		if wm[`sous_worker_step_duration_seconds_sum{step="`+step+`"}`] <= 0 {
			t.Errorf("step %s: duration sum not positive", step)
		}
	}

	for _, addr := range []string{caddr, waddr} {
		if code := healthz(addr); code != http.StatusOK {
			t.Errorf("%s/healthz: %d, want 200", addr, code)
		}
	}
	c.nats.term()
	for _, addr := range []string{caddr, waddr} {
		waitFor(t, 10*time.Second, addr+"/healthz 503 while NATS is down", func() bool { return healthz(addr) == http.StatusServiceUnavailable })
	}
	c.startNATS()
	for _, addr := range []string{caddr, waddr} {
		waitFor(t, 30*time.Second, addr+"/healthz 200 once NATS is back", func() bool { return healthz(addr) == http.StatusOK })
	}
}
