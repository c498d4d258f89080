package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/sous-ml/sous/artifacts"
	"github.com/sous-ml/sous/coordinator"
	"github.com/sous-ml/sous/proto"
	"github.com/sous-ml/sous/recipes/steps"
	"github.com/sous-ml/sous/worker"
)

func coordinatorCmd(g *globals) *cobra.Command {
	var metricsAddr string
	cmd := &cobra.Command{
		Use:   "coordinator",
		Short: "Run the coordinator server: plans runs, publishes jobs, records results",
		Long: `Run the coordinator of a sous cluster. It creates (or updates) the JetStream
streams, consumers and KV buckets it needs, resumes the runs a previous
coordinator left unfinished, and serves its API as the NATS micro service
"sous" (submit, status, cancel, runs). Stop it with SIGTERM or SIGINT.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.serveCoordinator(cmd.Context(), metricsAddr)
		},
	}
	g.nats.register(cmd.Flags())
	cmd.Flags().StringVar(&metricsAddr, "metrics-addr", "", metricsFlagUsage)
	return cmd
}

// serverLogger checks the settings every server needs and returns its logger.
func (g *globals) serverLogger() (*zap.Logger, error) {
	if g.nats.url == "" {
		return nil, withCode(exitBadInput, errors.New("--nats (or SOUS_NATS_URL) is required"))
	}
	if g.store == "" {
		return nil, withCode(exitBadInput, errors.New("--store (or SOUS_STORE) is required"))
	}
	return g.logger()
}

func (g *globals) serveCoordinator(ctx context.Context, metricsAddr string) error {
	log, err := g.serverLogger()
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }()
	store, nc, js, err := g.serverConn(ctx, "sous-coordinator")
	if err != nil {
		return err
	}
	defer nc.Close()
	coord, err := coordinator.New(coordinator.Config{StepVersions: steps.Versions(), ShardRows: g.shardRows, Logger: log}, nc, js, store)
	if err != nil {
		return withCode(exitBadInput, err)
	}
	stopMetrics, err := serveMetrics(metricsAddr, log, nc, coordinatorMetrics(coord, js))
	if err != nil {
		return withCode(exitBadInput, err)
	}
	defer stopMetrics()
	if err := startRetrying(ctx, log, "coordinator", coord.Start); err != nil {
		return err
	}
	defer coord.Stop()
	api, err := coord.Serve()
	if err != nil {
		return withCode(exitInfra, err)
	}
	defer func() { _ = api.Stop() }()
	log.Info("coordinator serving", zap.String("nats", redactURL(g.nats.url)), zap.Stringer("store", store.(fmt.Stringer)))
	<-ctx.Done()
	log.Info("coordinator stopping")
	return nil
}

// startRetrying calls start until it succeeds: a server started before
// NATS or JetStream is ready waits for them instead of exiting.
func startRetrying(ctx context.Context, log *zap.Logger, what string, start func(context.Context) error) error {
	for {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := start(sctx)
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return nil
		}
		log.Warn(what+" not started; retrying", zap.Error(err))
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

func workerCmd(g *globals) *cobra.Command {
	var cfg worker.Config
	var metricsAddr string
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run a worker: pulls step jobs from the queue and runs them",
		Long: `Run a stateless sous worker. It pulls jobs of its pool from SOUS_JOBS, never
more than it has free slots, runs them and reports results. On SIGTERM or
SIGINT it stops pulling, lets running steps finish for --shutdown-timeout,
hands back what is still running (another worker picks it up at once) and
exits 0.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return g.serveWorker(cmd.Context(), cfg, metricsAddr)
		},
	}
	g.nats.register(cmd.Flags())
	cmd.Flags().IntVar(&cfg.Slots, "slots", runtime.GOMAXPROCS(0), "steps run at once")
	cmd.Flags().StringVar(&cfg.Pool, "pool", proto.DefaultPool, "worker pool whose jobs this worker pulls")
	cmd.Flags().StringVar(&cfg.ID, "id", "", "worker id in logs and events (default hostname-pid)")
	cmd.Flags().DurationVar(&cfg.AckWait, "ack-wait", worker.DefaultAckWait, "how long a job may go without a heartbeat before it is redelivered")
	cmd.Flags().IntVar(&cfg.MaxDeliver, "max-deliver", worker.DefaultMaxDeliver, "deliveries of a job before its step fails")
	cmd.Flags().DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", worker.DefaultShutdownTimeout, "how long running steps may finish on shutdown")
	cmd.Flags().StringVar(&cfg.TempDir, "temp-dir", os.TempDir(), "scratch space for steps")
	cmd.Flags().StringVar(&metricsAddr, "metrics-addr", "", metricsFlagUsage)
	return cmd
}

func (g *globals) serveWorker(ctx context.Context, cfg worker.Config, metricsAddr string) error {
	log, err := g.serverLogger()
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }()
	if err := cfg.Validate(); err != nil {
		return withCode(exitBadInput, err)
	}
	store, nc, js, err := g.serverConn(ctx, "sous-worker")
	if err != nil {
		return err
	}
	defer nc.Close()
	cfg.Logger = log
	exec, err := withFaults(steps.NewExecutor(), os.Getenv(faultsEnv), log)
	if err != nil {
		return withCode(exitBadInput, err)
	}
	objects := newS3Objects()
	defer objects.close()
	cfg.Objects = objects
	w, err := worker.New(cfg, js, store, exec)
	if err != nil {
		return withCode(exitBadInput, err)
	}
	stopMetrics, err := serveMetrics(metricsAddr, log, nc, workerMetrics(w, cfg.Slots))
	if err != nil {
		return withCode(exitBadInput, err)
	}
	defer stopMetrics()
	if err := startRetrying(ctx, log, "worker", w.Start); err != nil {
		return err
	}
	<-ctx.Done()
	w.Stop(context.Background())
	return nil
}

// serverConn opens what every server needs: the store and a NATS connection.
func (g *globals) serverConn(ctx context.Context, name string) (artifacts.Store, *nats.Conn, jetstream.JetStream, error) {
	store, err := openStoreURL(ctx, "", g.store, g.createBucket)
	if err != nil {
		return nil, nil, nil, withCode(exitInfra, err)
	}
	nc, err := g.nats.connect(name)
	if err != nil {
		return nil, nil, nil, withCode(exitInfra, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, nil, withCode(exitInfra, err)
	}
	return store, nc, js, nil
}
