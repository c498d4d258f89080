package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/sous-ml/sous/artifacts"
	"github.com/sous-ml/sous/proto"
	"github.com/sous-ml/sous/recipes"
)

func runCmd(g *globals) *cobra.Command {
	var step string
	var detach bool
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the recipe up to a step (default: register); cached steps are skipped",
		Long: `Run the recipe's training graph (ingest → split → transform → train → evaluate →
register) or, with --step predict, its scoring graph (ingest_scoring → predict).
Steps whose inputs and settings are unchanged are not run again.

Without --nats the run happens on the embedded runtime in this process; with
--nats (or SOUS_NATS_URL) and --store it is submitted to a cluster's
coordinator: local data files are uploaded to the store (what it already
has is not sent again) and the run is followed until it ends.

Exit status: 0 success, 1 the run failed, 2 bad recipe/data/flags, 3 runtime
or store failure, 4 cancelled, 130 interrupted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.run(cmd.Context(), step, detach)
		},
	}
	cmd.Flags().StringVar(&step, "step", "", "run up to this step (ingest, split, transform, train, evaluate, register, ingest_scoring, predict)")
	cmd.Flags().BoolVar(&detach, "detach", false, "submit, print the run id and return (cluster mode)")
	g.nats.register(cmd.Flags())
	return cmd
}

func (g *globals) recipeDir() (string, error) {
	dir, err := filepath.Abs(g.dir)
	if err != nil {
		return "", withCode(exitBadInput, err)
	}
	return dir, nil
}

// session is what run and plan share: the recipe read and checked locally,
// the steps to run, and a connection to a runtime, embedded or remote.
type session struct {
	dir   string
	fsys  fs.FS // where recipe.yaml and the profile are read from
	rec   *recipes.Recipe
	plan  []recipes.StepName
	c     *conn
	store artifacts.Store
	close func()
}

// open reads the recipe and connects: to a cluster with --nats, else to an
// embedded runtime it starts. The recipe is read and checked here first, so a
// mistake is reported before anything starts.
//
// fsys holds recipe.yaml and the profile; nil means the recipe directory.
func (g *globals) open(ctx context.Context, step string, log *zap.Logger, fsys fs.FS) (*session, error) {
	if err := g.validate(); err != nil {
		return nil, err
	}
	dir, err := g.recipeDir()
	if err != nil {
		return nil, err
	}
	if fsys == nil {
		fsys = os.DirFS(dir)
	}
	rec, err := recipes.LoadWith(fsys, recipes.LoadOptions{Profile: g.profile, Env: os.LookupEnv})
	if err != nil {
		return nil, withCode(exitBadInput, err)
	}
	plan, err := rec.Plan(step)
	if err != nil {
		return nil, withCode(exitBadInput, err)
	}
	// A profile's execution block says where its runs go, unless a flag or
	// SOUS_NATS_URL / SOUS_STORE says otherwise.
	if g.nats.url == "" {
		g.nats.url = rec.Execution.NATS
	}
	if g.store == "" {
		g.store = rec.Execution.Store
	}
	s := &session{dir: dir, fsys: fsys, rec: rec, plan: plan, close: func() {}}
	if g.nats.url == "" {
		rt, err := startEmbedded(ctx, dir, g.store, g.createBucket, g.shardRows, log)
		if err != nil {
			return nil, withCode(exitInfra, err)
		}
		s.c, s.store, s.close = rt.conn(), rt.store, rt.close
		return s, nil
	}
	if g.store == "" {
		return nil, withCode(exitBadInput, errors.New("cluster mode needs --store (or SOUS_STORE): the store the coordinator and workers use"))
	}
	if s.store, err = openStoreURL(ctx, dir, g.store, g.createBucket); err != nil {
		return nil, withCode(exitInfra, err)
	}
	nc, err := g.nats.connect("sous-cli")
	if err != nil {
		return nil, withCode(exitInfra, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, withCode(exitInfra, err)
	}
	s.c, s.close = &conn{nc: nc, js: js}, nc.Close
	return s, nil
}

// callErr turns a failed API call into an exit code.
func callErr(ctx context.Context, err error) error {
	var ae *apiError
	if errors.As(err, &ae) && ae.code == proto.CodeBadInput {
		return withCode(exitBadInput, err)
	}
	if ctx.Err() != nil {
		return withCode(exitInterrupt, err)
	}
	return withCode(exitInfra, err)
}

func (g *globals) run(ctx context.Context, step string, detach bool) error {
	if detach && g.nats.url == "" {
		return withCode(exitBadInput, errors.New("--detach needs a cluster (--nats): the embedded runtime lives in this process"))
	}
	log, err := g.logger()
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }()
	started := time.Now()
	s, err := g.open(ctx, step, log, nil)
	if err != nil {
		return err
	}
	defer s.close()
	return g.submit(ctx, s, step, detach, started)
}

// submit sends a session's run to its coordinator and, unless detached,
// follows it and writes predict's output when it succeeds.
func (g *globals) submit(ctx context.Context, s *session, step string, detach bool, started time.Time) error {
	if err := checkOutput(ctx, s.rec, s.dir, s.plan); err != nil {
		return withCode(exitBadInput, err)
	}
	req, err := submission(ctx, s.dir, s.fsys, s.rec, s.plan, s.store, !s.c.embedded)
	if err != nil {
		return err
	}
	req.Target = step
	var st proto.RunState
	if err := call(ctx, s.c.nc, proto.APISubmit, req, &st); err != nil {
		return callErr(ctx, err)
	}
	if detach {
		if g.output == "json" {
			return writeJSON(g.stdout, map[string]string{"run_id": st.RunID})
		}
		fmt.Fprintln(g.stdout, st.RunID)
		return nil
	}
	return g.watch(ctx, s.c, &st, started, func(final *proto.RunState) error {
		return exportOutput(ctx, s.rec, s.dir, final, s.store)
	})
}

func planCmd(g *globals) *cobra.Command {
	var step string
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show what a run would do: per step cached, run (and why) or in flight",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			log, err := g.logger()
			if err != nil {
				return err
			}
			s, err := g.open(ctx, step, log, nil)
			if err != nil {
				return err
			}
			defer s.close()
			req, err := submission(ctx, s.dir, s.fsys, s.rec, s.plan, s.store, false)
			if err != nil {
				return err
			}
			req.Target = step
			var reply proto.PlanReply
			if err := call(ctx, s.c.nc, proto.APIPlan, req, &reply); err != nil {
				return callErr(ctx, err)
			}
			if g.output == "json" {
				return writeJSON(g.stdout, reply.Steps)
			}
			for _, p := range reply.Steps {
				fmt.Fprintf(g.stdout, "%-15s %-9s %-12s %s\n", p.Name, p.Status, short(p.CacheKey), p.Reason)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&step, "step", "", "plan up to this step")
	g.nats.register(cmd.Flags())
	return cmd
}

// watch follows a run to its end, prints it and turns its status into an exit code.
func (g *globals) watch(ctx context.Context, c *conn, st *proto.RunState, started time.Time, onSuccess func(*proto.RunState) error) error {
	p := newPrinter(g, st)
	final, err := st, error(nil)
	switch st.Status {
	case proto.StatusSucceeded, proto.StatusFailed, proto.StatusCancelled:
		if onSuccess == nil {
			// Watching a run that is over (its events may have expired):
			// report it as it ended.
			break
		}
		fallthrough
	default:
		final, err = follow(ctx, c.js, st.RunID, p.event)
	}
	if err != nil {
		if ctx.Err() == nil {
			return withCode(exitInfra, err)
		}
		if c.embedded {
			// The run lives in this process: stop it rather than leave it half done.
			cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var ignored proto.RunState
			_ = call(cctx, c.nc, proto.APICancel, proto.RunRequest{RunID: st.RunID}, &ignored)
			return withCode(exitInterrupt, fmt.Errorf("interrupted; run %s cancelled", st.RunID))
		}
		return withCode(exitInterrupt, fmt.Errorf("stopped following run %s; it goes on: sous runs watch %s", st.RunID, st.RunID))
	}
	if final.Status == proto.StatusSucceeded && onSuccess != nil {
		if err := onSuccess(final); err != nil {
			final.Status, final.Error = proto.StatusFailed, err.Error()
		}
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
	// Progress of a fanned-out step: when it was queued, the rows already
	// scored then (cached shards), and when a progress line was last printed.
	fanStart   time.Time
	fanCached  int64
	lastReport time.Time
	now        func() time.Time
}

func newPrinter(g *globals, st *proto.RunState) *printer {
	p := &printer{g: g, now: time.Now}
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
		if pr := ev.Progress; pr != nil {
			p.fanStart, p.fanCached, p.lastReport = p.now(), pr.RowsDone, time.Time{}
			shards := "shards"
			if pr.Shards == 1 {
				shards = "shard"
			}
			fmt.Fprintf(w, "  … %-15s queued: %d rows in %d %s", ev.Step, pr.Rows, pr.Shards, shards)
			if pr.ShardsDone > 0 {
				fmt.Fprintf(w, " (%d already scored)", pr.ShardsDone)
			}
			fmt.Fprintln(w)
			break
		}
		fmt.Fprintf(w, "  … %-15s queued\n", ev.Step)
	case proto.EventShardDone:
		if ev.Progress != nil {
			p.progress(ev.Step, ev.Progress)
		}
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

// progress prints how far a fanned-out step has got: rows of the total,
// rows per second since it was queued, and the time left at that rate. It
// prints at most a line a second, and the last shard's line.
func (p *printer) progress(step string, pr *proto.Progress) {
	now := p.now()
	if pr.ShardsDone < pr.Shards && now.Sub(p.lastReport) < time.Second {
		return
	}
	p.lastReport = now
	line := fmt.Sprintf("    %s: %d/%d shards, %s of %s rows", step, pr.ShardsDone, pr.Shards, humanCount(pr.RowsDone), humanCount(pr.Rows))
	if el := now.Sub(p.fanStart).Seconds(); el > 0 && pr.RowsDone > p.fanCached {
		rate := float64(pr.RowsDone-p.fanCached) / el
		line += fmt.Sprintf(", %s rows/s", humanCount(int64(rate)))
		if left := pr.Rows - pr.RowsDone; left > 0 {
			line += fmt.Sprintf(", ETA %s", time.Duration(float64(left)/rate*float64(time.Second)).Round(time.Second))
		}
	}
	fmt.Fprintln(p.g.stdout, line)
}

// humanCount shortens a row count: 950, 12.3k, 4.56M.
func humanCount(n int64) string {
	switch {
	case n >= 1e6:
		return strconv.FormatFloat(float64(n)/1e6, 'f', 2, 64) + "M"
	case n >= 1e4:
		return strconv.FormatFloat(float64(n)/1e3, 'f', 1, 64) + "k"
	}
	return strconv.FormatInt(n, 10)
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
