package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/sous-ml/sous/coordinator"
	"github.com/sous-ml/sous/proto"
	"github.com/sous-ml/sous/worker"
)

// metricsFlagUsage documents --metrics-addr on the servers.
const metricsFlagUsage = "serve /metrics (Prometheus text format) and /healthz on this address, such as :9090; empty: off"

// serveMetrics serves /metrics, written by write, and /healthz (200 while the
// NATS connection is up, 503 otherwise) on addr until the returned stop is
// called. The address is bound before it returns, so a taken port is an error.
func serveMetrics(addr string, log *zap.Logger, nc *nats.Conn, write func(context.Context, *promWriter)) (stop func(), err error) {
	if addr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		p := &promWriter{}
		up := 0.0
		if nc.Status() == nats.CONNECTED {
			up = 1
		}
		p.gauge("sous_nats_connected", "1 while the NATS connection is up", up)
		write(ctx, p)
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_, _ = w.Write(p.buf.Bytes())
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if st := nc.Status(); st != nats.CONNECTED {
			http.Error(w, "nats: "+st.String(), http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ok\n")
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("metrics server", zap.Error(err))
		}
	}()
	log.Info("serving metrics", zap.String("addr", ln.Addr().String()))
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}

// coordinatorMetrics writes the coordinator's counters and the depth of the job queue.
func coordinatorMetrics(c *coordinator.Coordinator, js jetstream.JetStream) func(context.Context, *promWriter) {
	return func(ctx context.Context, p *promWriter) {
		st := c.Stats()
		p.counter("sous_coordinator_runs_submitted_total", "runs submitted", float64(st.Submitted))
		p.help("sous_coordinator_runs_finished_total", "counter", "runs finished, by final status")
		finished := map[string]uint64{proto.StatusSucceeded: 0, proto.StatusFailed: 0, proto.StatusCancelled: 0}
		maps.Copy(finished, st.Finished)
		for _, status := range slices.Sorted(maps.Keys(finished)) {
			p.sample("sous_coordinator_runs_finished_total", float64(finished[status]), "status", status)
		}
		p.gauge("sous_coordinator_runs_active", "runs in flight", float64(st.ActiveRuns))
		p.counter("sous_coordinator_cache_hits_total", "steps whose outputs were found in the cache", float64(st.CacheHits))
		p.counter("sous_coordinator_cache_misses_total", "steps that had to run", float64(st.CacheMisses))
		p.counter("sous_coordinator_jobs_published_total", "jobs published on "+proto.StreamJobs, float64(st.JobsPublished))
		if s, err := js.Stream(ctx, proto.StreamJobs); err == nil {
			if info, err := s.Info(ctx); err == nil {
				p.gauge("sous_jobs_queue_depth", "messages in "+proto.StreamJobs+" (queued or running jobs)", float64(info.State.Msgs))
			}
		}
	}
}

// workerMetrics writes a worker's counters.
func workerMetrics(w *worker.Worker, slots int) func(context.Context, *promWriter) {
	return func(_ context.Context, p *promWriter) {
		st := w.Stats()
		p.counter("sous_worker_jobs_started_total", "step attempts started", float64(st.Started))
		p.counter("sous_worker_jobs_succeeded_total", "jobs done and acknowledged", float64(st.Succeeded))
		p.counter("sous_worker_jobs_failed_total", "jobs failed for good (permanent error or last delivery)", float64(st.Failed))
		p.counter("sous_worker_jobs_redelivered_total", "attempts of jobs delivered more than once", float64(st.Redelivered))
		p.counter("sous_worker_jobs_retried_total", "attempts handed back for a later delivery", float64(st.Retried))
		p.gauge("sous_worker_steps_running", "steps running now", float64(st.Running))
		p.gauge("sous_worker_slots", "steps this worker runs at once", float64(slots))
		name := "sous_worker_step_duration_seconds"
		p.help(name, "summary", "time spent in step attempts, by step")
		for _, step := range slices.Sorted(maps.Keys(st.Steps)) {
			s := st.Steps[step]
			p.sample(name+"_sum", s.Seconds, "step", step)
			p.sample(name+"_count", float64(s.Count), "step", step)
		}
	}
}

// promWriter writes the Prometheus text exposition format.
type promWriter struct{ buf bytes.Buffer }

func (p *promWriter) help(name, typ, help string) {
	fmt.Fprintf(&p.buf, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
}

func (p *promWriter) counter(name, help string, v float64) {
	p.help(name, "counter", help)
	p.sample(name, v)
}

func (p *promWriter) gauge(name, help string, v float64) {
	p.help(name, "gauge", help)
	p.sample(name, v)
}

// sample writes one sample; labels are name, value pairs.
func (p *promWriter) sample(name string, v float64, labels ...string) {
	p.buf.WriteString(name)
	if len(labels) > 0 {
		p.buf.WriteByte('{')
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				p.buf.WriteByte(',')
			}
			p.buf.WriteString(labels[i])
			p.buf.WriteString(`="`)
			p.buf.WriteString(labelEscaper.Replace(labels[i+1]))
			p.buf.WriteByte('"')
		}
		p.buf.WriteByte('}')
	}
	p.buf.WriteByte(' ')
	p.buf.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
	p.buf.WriteByte('\n')
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
