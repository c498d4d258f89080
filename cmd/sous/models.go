package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/sous-ml/sous/artifacts"
	"github.com/sous-ml/sous/artifacts/registry"
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
			if g.output == "json" {
				return writeJSON(g.stdout, versions)
			}
			for _, v := range versions {
				fmt.Fprintf(g.stdout, "%s/%d  %-9s  run %s  %s  model %s\n", v.Name, v.Version, v.ValidationStatus, v.RunID,
					v.Created.Local().Format(time.DateTime), short(v.ModelDigest))
			}
			return nil
		},
	}
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
