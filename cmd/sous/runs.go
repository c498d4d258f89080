package main

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/sous-ml/sous/proto"
)

func runsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "runs",
		Short: "List, follow and cancel the runs of a cluster",
	}
	g.nats.register(cmd.PersistentFlags())

	var limit int
	list := &cobra.Command{
		Use:   "list",
		Short: "List runs, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := g.clusterConn()
			if err != nil {
				return err
			}
			defer c.nc.Close()
			var reply proto.RunsReply
			if err := call(cmd.Context(), c.nc, proto.APIRuns, proto.RunsRequest{Limit: limit}, &reply); err != nil {
				return callErr(cmd.Context(), err)
			}
			if g.output == "json" {
				return writeJSON(g.stdout, reply.Runs)
			}
			for _, r := range reply.Runs {
				fmt.Fprintf(g.stdout, "%s  %-9s  %s  %s\n", r.RunID, r.Status, r.Created.Local().Format(time.DateTime), r.Recipe)
			}
			return nil
		},
	}
	list.Flags().IntVar(&limit, "limit", 20, "how many runs")

	watch := &cobra.Command{
		Use:   "watch RUN_ID",
		Short: "Follow a run until it ends; exit status as sous run",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, st, err := g.callRun(cmd.Context(), proto.APIStatus, args[0])
			if err != nil {
				return err
			}
			defer c.nc.Close()
			return g.watch(cmd.Context(), c, st, time.Now(), nil)
		},
	}

	cancel := &cobra.Command{
		Use:   "cancel RUN_ID",
		Short: "Cancel a run: queued jobs are dropped, running steps stop at their next heartbeat",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, st, err := g.callRun(cmd.Context(), proto.APICancel, args[0])
			if err != nil {
				return err
			}
			c.nc.Close()
			if g.output == "json" {
				return writeJSON(g.stdout, st)
			}
			fmt.Fprintf(g.stdout, "run %s: %s\n", st.RunID, st.Status)
			return nil
		},
	}
	cmd.AddCommand(list, watch, cancel)
	return cmd
}

// clusterConn connects to the cluster named by --nats.
func (g *globals) clusterConn() (*conn, error) {
	if err := g.validate(); err != nil {
		return nil, err
	}
	if g.nats.url == "" {
		return nil, withCode(exitBadInput, fmt.Errorf("--nats (or SOUS_NATS_URL) is required"))
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
	return &conn{nc: nc, js: js}, nil
}

// callRun connects to the cluster and sends a request about one run. The
// caller closes the returned connection.
func (g *globals) callRun(ctx context.Context, subject, runID string) (*conn, *proto.RunState, error) {
	c, err := g.clusterConn()
	if err != nil {
		return nil, nil, err
	}
	var st proto.RunState
	if err := call(ctx, c.nc, subject, proto.RunRequest{RunID: runID}, &st); err != nil {
		c.nc.Close()
		return nil, nil, callErr(ctx, err)
	}
	return c, &st, nil
}
