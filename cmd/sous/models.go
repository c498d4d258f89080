package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/sous-ml/sous/artifacts"
	"github.com/sous-ml/sous/artifacts/registry"
	"github.com/sous-ml/sous/proto"
)

// modelsCmd queries the model registry, which lives in the store: the
// recipe's .sous/store, or --store.
func modelsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "models",
		Short: "The model registry: list models and versions, set aliases",
	}
	list := &cobra.Command{
		Use:   "list [NAME]",
		Short: "List registered models, or the versions of one",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if g.nats.url != "" {
				return g.modelsFromCluster(ctx, args)
			}
			store, err := g.registryStore(ctx)
			if err != nil {
				return err
			}
			if len(args) == 0 {
				names, err := registry.Models(ctx, store)
				if err != nil {
					return withCode(exitInfra, err)
				}
				if g.output == "json" {
					return writeJSON(g.stdout, names)
				}
				for _, n := range names {
					fmt.Fprintln(g.stdout, n)
				}
				return nil
			}
			versions, err := registry.List(ctx, store, args[0])
			if err != nil {
				return withCode(exitBadInput, err)
			}
			return g.printVersions(versions)
		},
	}
	g.nats.register(list.Flags())
	alias := &cobra.Command{
		Use:   "alias NAME ALIAS VERSION",
		Short: "Point models:/NAME@ALIAS at a version",
		Args:  cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			store, err := g.registryStore(ctx)
			if err != nil {
				return err
			}
			v, err := strconv.Atoi(args[2])
			if err != nil {
				return withCode(exitBadInput, fmt.Errorf("version %q is not a number", args[2]))
			}
			if err := registry.SetAlias(ctx, store, args[0], args[1], v); err != nil {
				return withCode(exitBadInput, err)
			}
			fmt.Fprintf(g.stdout, "models:/%s@%s → version %d\n", args[0], args[1], v)
			return nil
		},
	}
	cmd.AddCommand(list, alias)
	return cmd
}

func (g *globals) registryStore(ctx context.Context) (artifacts.Store, error) {
	if err := g.validate(); err != nil {
		return nil, err
	}
	dir, err := g.recipeDir()
	if err != nil {
		return nil, err
	}
	store, err := openStoreURL(ctx, dir, g.store, false)
	if err != nil {
		return nil, withCode(exitInfra, err)
	}
	return store, nil
}

func (g *globals) printVersions(versions []registry.Version) error {
	if g.output == "json" {
		return writeJSON(g.stdout, versions)
	}
	for _, v := range versions {
		fmt.Fprintf(g.stdout, "%s/%d  %-9s  run %s  %s  model %s\n", v.Name, v.Version, v.ValidationStatus, v.RunID,
			v.Created.Local().Format(time.DateTime), short(v.ModelDigest))
	}
	return nil
}

// modelsFromCluster asks a cluster's coordinator for the registry.
func (g *globals) modelsFromCluster(ctx context.Context, args []string) error {
	c, err := g.clusterConn()
	if err != nil {
		return err
	}
	defer c.nc.Close()
	var req proto.ModelsRequest
	if len(args) > 0 {
		req.Name = args[0]
	}
	var reply proto.ModelsReply
	if err := call(ctx, c.nc, proto.APIModels, req, &reply); err != nil {
		return callErr(ctx, err)
	}
	if req.Name == "" {
		if g.output == "json" {
			return writeJSON(g.stdout, reply.Models)
		}
		for _, n := range reply.Models {
			fmt.Fprintln(g.stdout, n)
		}
		return nil
	}
	versions := make([]registry.Version, len(reply.Versions))
	for i, doc := range reply.Versions {
		if err := json.Unmarshal(doc, &versions[i]); err != nil {
			return withCode(exitInfra, err)
		}
	}
	return g.printVersions(versions)
}
