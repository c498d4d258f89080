package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/sous-ml/sous/proto"
)

func runCmd(g *globals) *cobra.Command {
	var step string
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the recipe up to a step (default: register); cached steps are skipped",
		Long: `Run the recipe's training graph (ingest → split → transform → train → evaluate →
register) or, with --step predict, its scoring graph (ingest_scoring → predict).
Steps whose inputs and settings are unchanged are not run again.

Exit status: 0 success, 1 the run failed, 2 bad recipe/data/flags, 3 runtime
or store failure, 4 cancelled, 130 interrupted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.run(cmd.Context(), step)
		},
	}
	cmd.Flags().StringVar(&step, "step", "", "run up to this step (ingest, split, transform, train, evaluate, register, ingest_scoring, predict)")
	return cmd
}

func (g *globals) recipeDir() (string, error) {
	dir, err := filepath.Abs(g.dir)
	if err != nil {
		return "", withCode(exitBadInput, err)
	}
	return dir, nil
}

func (g *globals) run(ctx context.Context, step string) error {
	if err := g.validate(); err != nil {
		return err
	}
	dir, err := g.recipeDir()
	if err != nil {
		return err
	}
	log, err := g.logger()
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }()
	started := time.Now()

	rt, err := startEmbedded(ctx, dir, g.store, log)
	if err != nil {
		return withCode(exitInfra, err)
	}
	defer rt.close()

	st, err := rt.coord.Submit(ctx, proto.SubmitRequest{RecipeDir: dir, Profile: g.profile, Target: step})
	if err != nil {
		if ctx.Err() != nil {
			return withCode(exitInterrupt, err)
		}
		return withCode(exitBadInput, err)
	}
	p := newPrinter(g, st)
	final, err := follow(ctx, rt.js, st.RunID, p.event)
	if err != nil {
		if ctx.Err() != nil {
			return withCode(exitInterrupt, fmt.Errorf("interrupted; run %s stopped", st.RunID))
		}
		return withCode(exitInfra, err)
	}
	p.finish(final, time.Since(started))
	switch final.Status {
	case proto.StatusSucceeded:
		return nil
	case proto.StatusCancelled:
		return withCode(exitCancelled, fmt.Errorf("run %s was cancelled", final.RunID))
	default:
		return withCode(exitFailed, fmt.Errorf("run %s failed: %s", final.RunID, final.Error))
	}
}

// follow reads a run's events from the start until it finishes.
func follow(ctx context.Context, js jetstream.JetStream, runID string, fn func(*proto.Event)) (*proto.RunState, error) {
	cons, err := js.OrderedConsumer(ctx, proto.StreamEvents, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{proto.RunEventSubjects(runID)},
		DeliverPolicy:  jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return nil, fmt.Errorf("follow run %s: %w", runID, err)
	}
	it, err := cons.Messages()
	if err != nil {
		return nil, fmt.Errorf("follow run %s: %w", runID, err)
	}
	defer it.Stop()
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			it.Stop()
		case <-done:
		}
	}()
	for {
		msg, err := it.Next()
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("follow run %s: %w", runID, err)
		}
		var ev proto.Event
		if err := proto.Decode(msg.Data(), &ev); err != nil {
			continue
		}
		if ev.Kind == proto.EventStepResult {
			continue // raw worker results; the coordinator's step events follow
		}
		fn(&ev)
		if ev.Kind == proto.EventRunFinished && ev.Run != nil {
			return ev.Run, nil
		}
	}
}

// printer shows a run as it happens: a line per step, then its summary.
type printer struct {
	g     *globals
	steps []string
}

func newPrinter(g *globals, st *proto.RunState) *printer {
	p := &printer{g: g}
	for _, s := range st.Steps {
		p.steps = append(p.steps, s.Name)
	}
	if g.output == "text" {
		fmt.Fprintf(g.stdout, "run %s: %s\n", st.RunID, strings.Join(p.steps, " → "))
	}
	return p
}

func (p *printer) event(ev *proto.Event) {
	if p.g.output != "text" {
		return
	}
	w := p.g.stdout
	switch ev.Kind {
	case proto.EventStepCached:
		fmt.Fprintf(w, "  ✓ %-15s cached (key %s)\n", ev.Step, short(ev.CacheKey))
	case proto.EventStepQueued:
		fmt.Fprintf(w, "  … %-15s queued\n", ev.Step)
	case proto.EventStepDone:
		d := time.Duration(0)
		if ev.Result != nil {
			d = ev.Result.Duration
		}
		fmt.Fprintf(w, "  ✓ %-15s ran in %s (key %s)\n", ev.Step, d.Round(time.Millisecond), short(ev.CacheKey))
		if ev.Result != nil && ev.Result.Summary != "" {
			fmt.Fprintln(w, indent(ev.Result.Summary, "      "))
		}
	case proto.EventStepFailed:
		msg := ""
		if ev.Result != nil {
			msg = ev.Result.Error
		}
		fmt.Fprintf(w, "  ✗ %-15s failed: %s\n", ev.Step, msg)
	case proto.EventStepSkipped:
		fmt.Fprintf(w, "  - %-15s skipped (an upstream step failed)\n", ev.Step)
	}
}

// runReport is the document `sous run -o json` prints.
type runReport struct {
	RunID            string          `json:"run_id"`
	Status           string          `json:"status"`
	Steps            []stepReport    `json:"steps"`
	ValidationStatus string          `json:"validation_status,omitempty"`
	RegisteredModel  *registeredJSON `json:"registered_model"`
	Error            string          `json:"error,omitempty"`
	DurationMS       int64           `json:"duration_ms"`
}

type stepReport struct {
	Name       string             `json:"name"`
	Status     string             `json:"status"`
	CacheKey   string             `json:"cache_key,omitempty"`
	DurationMS int64              `json:"duration_ms"`
	Metrics    map[string]float64 `json:"metrics,omitempty"`
	Reason     string             `json:"reason,omitempty"`
	Error      string             `json:"error,omitempty"`
}

type registeredJSON struct {
	Name    string `json:"name"`
	Version int    `json:"version"`
}

func report(st *proto.RunState, total time.Duration) runReport {
	r := runReport{RunID: st.RunID, Status: st.Status, ValidationStatus: st.ValidationStatus, Error: st.Error, DurationMS: total.Milliseconds()}
	for _, s := range st.Steps {
		status := s.Status
		if status == proto.StatusCancelled {
			status = proto.StatusSkipped
		}
		r.Steps = append(r.Steps, stepReport{Name: s.Name, Status: status, CacheKey: s.CacheKey,
			DurationMS: s.Duration.Milliseconds(), Metrics: s.Metrics, Reason: s.Reason, Error: s.Error})
	}
	if st.Registered != nil {
		r.RegisteredModel = &registeredJSON{Name: st.Registered.Name, Version: st.Registered.Version}
	}
	return r
}

func (p *printer) finish(st *proto.RunState, total time.Duration) {
	w := p.g.stdout
	if p.g.output == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(report(st, total))
		return
	}
	ran, cached := 0, 0
	for _, s := range st.Steps {
		switch s.Status {
		case proto.StatusRan:
			ran++
		case proto.StatusCached:
			cached++
		}
	}
	switch {
	case ran == 0 && cached == len(st.Steps) && st.Status == proto.StatusSucceeded:
		fmt.Fprintf(w, "all %d steps cached; nothing ran\n", cached)
	default:
		fmt.Fprintf(w, "%d ran, %d cached\n", ran, cached)
	}
	if st.ValidationStatus != "" {
		fmt.Fprintf(w, "model validation: %s\n", st.ValidationStatus)
	}
	if st.Registered != nil {
		fmt.Fprintf(w, "registered model: %s version %d\n", st.Registered.Name, st.Registered.Version)
	}
	fmt.Fprintf(w, "run %s %s in %s\n", st.RunID, st.Status, total.Round(time.Millisecond))
}

func short(key string) string {
	if len(key) > 12 {
		return key[:12]
	}
	return key
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n")
}
