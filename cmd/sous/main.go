// Command sous runs machine-learning recipes: locally on an embedded runtime
// (an in-process NATS JetStream server, coordinator and workers) or, with
// cluster settings, on coordinator and worker servers.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Exit codes, so scripts can tell failures apart.
const (
	exitOK        = 0
	exitFailed    = 1 // the run ran and failed (a step failed, the model was rejected)
	exitBadInput  = 2 // bad flags, recipe or data: nothing ran
	exitInfra     = 3 // the runtime or the store failed
	exitCancelled = 4 // the run was cancelled
	exitInterrupt = 130
)

// exitError carries an exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// globals are the flags every command shares.
type globals struct {
	dir          string
	profile      string
	output       string
	logLevel     string
	store        string
	createBucket bool
	shardRows    int64
	nats         natsFlags
	stdout       io.Writer
	stderr       io.Writer
}

// Main runs the CLI and returns the process exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	g := &globals{stdout: stdout, stderr: stderr}
	root := newRoot(g)
	root.SetArgs(args)

	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(stderr, "sous:", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if ctx.Err() != nil {
		return exitInterrupt
	}
	return exitBadInput
}

// newRoot builds the command tree; g receives the flags.
func newRoot(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:           "sous",
		Short:         "sous runs machine-learning recipes on a work queue, from a laptop to a cluster",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVarP(&g.dir, "dir", "C", ".", "recipe directory (holding recipe.yaml)")
	root.PersistentFlags().StringVar(&g.profile, "profile", "local", "profile: profiles/<name>.yaml")
	root.PersistentFlags().StringVarP(&g.output, "output", "o", "text", "output format: text or json")
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "error", "log level: debug, info, warn, error")
	root.PersistentFlags().StringVar(&g.store, "store", os.Getenv("SOUS_STORE"), "artifact store: s3://bucket/prefix (AWS_* environment) or a directory; default .sous/store next to recipe.yaml ($SOUS_STORE)")
	root.PersistentFlags().BoolVar(&g.createBucket, "create-bucket", false, "create the S3 bucket of --store if it does not exist")
	root.PersistentFlags().Int64Var(&g.shardRows, "shard-rows", 0, "rows per predict job, cut between parquet row groups (coordinator and embedded runtime; default 500000)")
	root.SetOut(g.stdout)
	root.SetErr(g.stderr)
	root.AddCommand(runCmd(g), planCmd(g), inspectCmd(g), cleanCmd(g), getArtifactCmd(g), coordinatorCmd(g), workerCmd(g), runsCmd(g), modelsCmd(g), predictCmd(g))
	return root
}

func (g *globals) validate() error {
	switch g.output {
	case "text", "json":
	default:
		return withCode(exitBadInput, fmt.Errorf("--output %q: want text or json", g.output))
	}
	return nil
}

// logger writes zap logs to stderr at the chosen level.
func (g *globals) logger() (*zap.Logger, error) {
	lvl, err := zapcore.ParseLevel(g.logLevel)
	if err != nil {
		return nil, withCode(exitBadInput, fmt.Errorf("--log-level: %w", err))
	}
	enc := zap.NewProductionEncoderConfig()
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	core := zapcore.NewCore(zapcore.NewJSONEncoder(enc), zapcore.AddSync(g.stderr), lvl)
	return zap.New(core), nil
}
