package recipes_test

import (
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/sous-ml/sous/recipes"
)

func TestStepsTable(t *testing.T) {
	t.Parallel()
	seen := map[recipes.StepName]int{}
	for i, s := range recipes.Steps {
		seen[s.Name] = i
		for _, u := range s.Upstream {
			j, ok := seen[u]
			if !ok || j >= i {
				t.Errorf("%s: upstream %s is not an earlier step", s.Name, u)
			}
		}
		// Every input is an output of an upstream step; every upstream step
		// provides an input.
		for _, in := range s.Inputs {
			p, ok := recipes.Producer(in)
			if !ok || !slices.Contains(s.Upstream, p) {
				t.Errorf("%s: input %s is produced by %q, not by an upstream step %v", s.Name, in, p, s.Upstream)
			}
		}
		for _, u := range s.Upstream {
			spec, _ := recipes.Spec(u)
			if !slices.ContainsFunc(spec.Outputs, func(o string) bool { return slices.Contains(s.Inputs, o) }) {
				t.Errorf("%s: upstream %s provides none of its inputs", s.Name, u)
			}
		}
	}
	if len(seen) != len(recipes.Steps) {
		t.Error("duplicate step names")
	}
	if got := recipes.Upstream(recipes.StepEvaluate); !slices.Equal(got, []recipes.StepName{"split", "train"}) {
		t.Errorf("Upstream(evaluate) = %v", got)
	}
	if got := recipes.Upstream("nope"); got != nil {
		t.Errorf("Upstream(nope) = %v", got)
	}
}

func TestPlan(t *testing.T) {
	t.Parallel()
	r, err := recipes.Load(os.DirFS(exampleDir), "")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		target string
		want   []recipes.StepName
	}{
		{"", []recipes.StepName{"ingest", "split", "transform", "train", "evaluate", "register"}},
		{"register", []recipes.StepName{"ingest", "split", "transform", "train", "evaluate", "register"}},
		{"train", []recipes.StepName{"ingest", "split", "transform", "train"}},
		{"evaluate", []recipes.StepName{"ingest", "split", "transform", "train", "evaluate"}},
		{"ingest", []recipes.StepName{"ingest"}},
		{"predict", []recipes.StepName{"ingest_scoring", "predict"}},
	}
	for _, tt := range tests {
		got, err := r.Plan(tt.target)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("Plan(%q) = %v, %v; want %v", tt.target, got, err, tt.want)
		}
	}

	_, err = r.Plan("trian")
	wantErr{msg: `unknown target step "trian"`, allowed: stepNames, suggest: "train"}.check(t, err)
}

func TestPlanMissing(t *testing.T) {
	t.Parallel()
	recipe := "recipe: regression/v1\ntarget_col: y\nsteps:\n" +
		"  ingest: {using: csv, location: a.csv}\n  split: {}\n  predict: {output: {using: csv, location: out.csv}}\n"
	r, err := recipes.Load(mapFS(recipe, ""), "")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := r.Plan("split"); err != nil || len(got) != 2 {
		t.Errorf("Plan(split) = %v, %v", got, err)
	}
	_, err = r.Plan("transform")
	wantErr{file: "recipe.yaml", line: 3, key: "steps.transform", msg: "missing from recipe.yaml; running transform needs it"}.check(t, err)

	_, err = r.Plan("")
	var list recipes.Errors
	if !errors.As(err, &list) {
		t.Fatalf("Plan(\"\") = %v, want several errors", err)
	}
	var keys []string
	for _, e := range list {
		keys = append(keys, e.Key)
	}
	want := []string{"model_registry.model_name", "steps.transform", "steps.train", "steps.evaluate", "steps.register"}
	if !slices.Equal(keys, want) {
		t.Errorf("missing keys %q, want %q\n%v", keys, want, err)
	}

	_, err = r.Plan("predict")
	var list2 recipes.Errors
	if !errors.As(err, &list2) || len(list2) != 2 || list2[0].Key != "model_registry.model_name" || list2[1].Key != "steps.ingest_scoring" {
		t.Errorf("Plan(predict) = %v", err)
	}
}
