package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sous-ml/sous/artifacts"
	"github.com/sous-ml/sous/artifacts/registry"
	"github.com/sous-ml/sous/recipes"
)

// allSteps is every step of both graphs, in display order.
var allSteps = []string{"ingest", "split", "transform", "train", "evaluate", "register", "ingest_scoring", "predict"}

// localState is what the CLI reads of a recipe's embedded store without starting the runtime.
type localState struct {
	dir    string
	recipe *recipes.Recipe
	store  artifacts.Store
}

func (g *globals) openLocal() (*localState, error) {
	if err := g.validate(); err != nil {
		return nil, err
	}
	dir, err := g.recipeDir()
	if err != nil {
		return nil, err
	}
	rec, err := recipes.LoadWith(os.DirFS(dir), recipes.LoadOptions{Profile: g.profile, Env: os.LookupEnv})
	if err != nil {
		return nil, withCode(exitBadInput, err)
	}
	store, err := openStoreURL(context.Background(), dir, g.store, false)
	if err != nil {
		return nil, withCode(exitInfra, err)
	}
	return &localState{dir: dir, recipe: rec, store: store}, nil
}

// lastManifest is the manifest of the step's most recent output for this recipe.
func (ls *localState) lastManifest(ctx context.Context, step string) (*artifacts.Manifest, error) {
	rc, err := ls.store.Get(ctx, "index/"+ls.recipe.Identity(ls.dir)+"/"+step+".json")
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var doc recipes.KeyDoc
	if err := json.NewDecoder(rc).Decode(&doc); err != nil {
		return nil, err
	}
	return artifacts.CheckManifest(ctx, ls.store, step, doc.Key())
}

func inspectCmd(g *globals) *cobra.Command {
	var step string
	cmd := &cobra.Command{
		Use:   "inspect",
		Short: "Show the recipe's steps and their cached state, or one step's card",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ls, err := g.openLocal()
			if err != nil {
				return err
			}
			if step != "" {
				return ls.inspectStep(cmd.Context(), g, step)
			}
			return ls.inspectGraph(cmd.Context(), g)
		},
	}
	cmd.Flags().StringVar(&step, "step", "", "show this step's card")
	return cmd
}

type stepView struct {
	Name     string             `json:"name"`
	State    string             `json:"state"`
	CacheKey string             `json:"cache_key,omitempty"`
	Summary  string             `json:"summary,omitempty"`
	Metrics  map[string]float64 `json:"metrics,omitempty"`
	Card     string             `json:"card,omitempty"`
}

func (ls *localState) view(ctx context.Context, step string) stepView {
	v := stepView{Name: step, State: "not run"}
	m, err := ls.lastManifest(ctx, step)
	switch {
	case err == nil:
		v.State, v.CacheKey, v.Summary, v.Metrics = "cached", m.Key, m.Summary, m.Metrics
	case errors.Is(err, artifacts.ErrNotFound):
	default:
		v.State = "unreadable: " + err.Error()
	}
	return v
}

func (ls *localState) inspectGraph(ctx context.Context, g *globals) error {
	var views []stepView
	for _, s := range allSteps {
		if !ls.recipe.Has(recipes.StepName(s)) {
			continue
		}
		views = append(views, ls.view(ctx, s))
	}
	if g.output == "json" {
		return writeJSON(g.stdout, views)
	}
	fmt.Fprintf(g.stdout, "recipe %s (%s)\n", ls.dir, ls.recipe.Template)
	for i, v := range views {
		arrow := "  "
		if i > 0 && v.Name != "ingest_scoring" {
			arrow = "→ "
		}
		fmt.Fprintf(g.stdout, "%s%-15s %-8s %s\n", arrow, v.Name, v.State, short(v.CacheKey))
	}
	return nil
}

func (ls *localState) inspectStep(ctx context.Context, g *globals, step string) error {
	if !ls.recipe.Has(recipes.StepName(step)) {
		return withCode(exitBadInput, fmt.Errorf("--step %q: not a step of this recipe; steps: %s", step, strings.Join(allSteps, ", ")))
	}
	v := ls.view(ctx, step)
	m, err := ls.lastManifest(ctx, step)
	if err != nil {
		if errors.Is(err, artifacts.ErrNotFound) {
			return withCode(exitFailed, fmt.Errorf("step %s has no cached output; run: sous run --step %s", step, step))
		}
		return withCode(exitInfra, err)
	}
	if m.Card != "" {
		path := filepath.Join(ls.dir, stateDir, "cards", step+".html")
		if err := copyObject(ctx, ls.store, artifacts.BlobName(m.Card), path); err == nil {
			v.Card = path
		}
	}
	if g.output == "json" {
		return writeJSON(g.stdout, v)
	}
	fmt.Fprintf(g.stdout, "step %s (key %s)\n", step, short(m.Key))
	if m.Summary != "" {
		fmt.Fprintln(g.stdout, m.Summary)
	}
	if v.Card != "" {
		fmt.Fprintf(g.stdout, "card: %s\n", v.Card)
	}
	return nil
}

func copyObject(ctx context.Context, s artifacts.Store, name, path string) error {
	rc, err := s.Get(ctx, name)
	if err != nil {
		return err
	}
	defer rc.Close()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, rc); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func getArtifactCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "get-artifact NAME",
		Short: "Print where an artifact of the last run is (model, training_data, scored_data, ...)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ls, err := g.openLocal()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			var names []string
			for _, step := range allSteps {
				m, err := ls.lastManifest(ctx, step)
				if err != nil {
					continue
				}
				for name, ref := range m.Outputs {
					names = append(names, name)
					if name != args[0] {
						continue
					}
					path := artifacts.BlobName(ref.Digest)
					if l, ok := ls.store.(artifacts.Localizer); ok {
						if p, ok := l.LocalPath(path); ok {
							path = p
						}
					}
					if g.output == "json" {
						return writeJSON(g.stdout, map[string]any{"name": name, "step": step, "cache_key": m.Key, "digest": ref.Digest, "size": ref.Size, "path": path})
					}
					fmt.Fprintln(g.stdout, path)
					return nil
				}
			}
			sort.Strings(names)
			if len(names) == 0 {
				return withCode(exitFailed, fmt.Errorf("no artifacts yet: run the recipe first (sous run)"))
			}
			return withCode(exitBadInput, fmt.Errorf("no artifact %q; available: %s", args[0], strings.Join(names, ", ")))
		},
	}
}

func cleanCmd(g *globals) *cobra.Command {
	var step string
	cmd := &cobra.Command{
		Use:   "clean",
		Short: "Forget cached outputs of this recipe (all steps, or one); registered models stay",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ls, err := g.openLocal()
			if err != nil {
				return err
			}
			steps := allSteps
			if step != "" {
				if !ls.recipe.Has(recipes.StepName(step)) {
					return withCode(exitBadInput, fmt.Errorf("--step %q: not a step of this recipe; steps: %s", step, strings.Join(allSteps, ", ")))
				}
				steps = []string{step}
			}
			lock, err := lockDir(filepath.Join(ls.dir, stateDir, "lock"))
			if err != nil {
				return withCode(exitInfra, err)
			}
			defer lock.Close()
			ctx := cmd.Context()
			n := 0
			for _, s := range steps {
				var names []string
				if g.store == "" {
					// The recipe's own store: every output of the step.
					infos, err := ls.store.List(ctx, "steps/"+s+"/")
					if err != nil {
						return withCode(exitInfra, err)
					}
					for _, info := range infos {
						names = append(names, info.Name)
					}
				} else if m, err := ls.lastManifest(ctx, s); err == nil {
					// A shared store: only this recipe's last output, never other recipes'.
					names = append(names, artifacts.ManifestName(s, m.Key))
				}
				for _, name := range names {
					if err := ls.store.Delete(ctx, name); err != nil {
						return withCode(exitInfra, err)
					}
					n++
				}
				_ = ls.store.Delete(ctx, "index/"+ls.recipe.Identity(ls.dir)+"/"+s+".json")
			}
			// Objects are shared by content; only a recipe's own .sous store
			// is collected, never a store other recipes may be writing to.
			freed := 0
			if g.store == "" {
				if freed, err = collectGarbage(ctx, ls.store); err != nil {
					return withCode(exitInfra, err)
				}
			}
			if g.output == "json" {
				return writeJSON(g.stdout, map[string]int{"manifests_removed": n, "objects_removed": freed})
			}
			fmt.Fprintf(g.stdout, "removed %d cached outputs and %d unreferenced objects\n", n, freed)
			return nil
		},
	}
	cmd.Flags().StringVar(&step, "step", "", "forget only this step's outputs")
	return cmd
}

// collectGarbage deletes objects that no manifest and no registered model version references.
func collectGarbage(ctx context.Context, s artifacts.Store) (int, error) {
	live := map[string]bool{}
	manifests, err := s.List(ctx, "steps/")
	if err != nil {
		return 0, err
	}
	for _, info := range manifests {
		if !strings.HasSuffix(info.Name, "/manifest.json") {
			continue
		}
		parts := strings.Split(info.Name, "/")
		m, err := artifacts.ReadManifest(ctx, s, parts[1], parts[2])
		if err != nil {
			// An unreadable manifest may name live objects: collect nothing.
			return 0, fmt.Errorf("garbage collection stopped: %w", err)
		}
		for _, ref := range m.Outputs {
			live[ref.Digest] = true
		}
		if m.Card != "" {
			live[m.Card] = true
		}
	}
	models, err := registry.Models(ctx, s)
	if err != nil {
		return 0, err
	}
	for _, name := range models {
		versions, err := registry.List(ctx, s, name)
		if err != nil && !errors.Is(err, registry.ErrNotFound) {
			return 0, err
		}
		for _, v := range versions {
			live[v.ModelDigest] = true
		}
	}
	objects, err := s.List(ctx, "objects/")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, info := range objects {
		if !live[strings.TrimPrefix(info.Name, "objects/")] {
			if err := s.Delete(ctx, info.Name); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}
