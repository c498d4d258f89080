package recipes_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sous-ml/sous/recipes"
)

// FuzzLoad feeds arbitrary recipe and profile text to LoadWith. Loading must
// never panic, every failure must be a *recipes.Error (or a list of them)
// naming its file, and a recipe that loads must plan and key every step.
func FuzzLoad(f *testing.F) {
	dirs, _ := filepath.Glob("testdata/*")
	dirs = append(dirs, exampleDir)
	for _, dir := range dirs {
		recipe, err := os.ReadFile(filepath.Join(dir, "recipe.yaml"))
		if err != nil {
			continue
		}
		profile, _ := os.ReadFile(filepath.Join(dir, "profiles", "local.yaml"))
		f.Add(string(recipe), string(profile))
	}
	f.Add("recipe: classification/v1\ntarget_col: y\npositive_class: yes\nsteps:\n  train: {estimator: gbdt, estimator_params: {max_iter: 3}}\n", "X: &a [*a]\n")
	f.Add("a: {{ X | default({b: [1, {c: ')'}]}) }}\n", "X: \"\\u2028\"\n")
	f.Add("recipe: regression/v1\ntarget_col: y\nsteps:\n  ingest: {{ E }}\n", "E: {{ ENV | default(\"{using: csv}\") }}\n")

	env := map[string]string{"ENV": "s3://b/k", "N": "5"}
	f.Fuzz(func(t *testing.T, recipe, profile string) {
		fsys := mapFS(recipe, profile)
		r, err := recipes.LoadWith(fsys, recipes.LoadOptions{Env: func(k string) (string, bool) {
			v, ok := env[k]
			return v, ok
		}})
		if err != nil {
			var list recipes.Errors
			var one *recipes.Error
			switch {
			case errors.As(err, &list):
				for _, e := range list {
					if e.File == "" {
						t.Errorf("error without a file: %v", e)
					}
				}
			case errors.As(err, &one):
				if one.File == "" {
					t.Errorf("error without a file: %v", one)
				}
			default:
				t.Errorf("error %v (%T) is not a *recipes.Error", err, err)
			}
			_ = err.Error()
			return
		}
		if got, want := bytes.Count(r.RenderedRecipe, []byte("\n")), strings.Count(recipe, "\n"); got != want {
			t.Errorf("rendering changed the line count from %d to %d", want, got)
		}
		for _, s := range recipes.StepNames() {
			_, _ = r.Plan(string(s))
			doc := r.KeyDoc(s, map[string]string{"in": "d"}, "v1")
			if doc.Key() != doc.Key() {
				t.Fatal("key is not deterministic")
			}
			if !json.Valid(recipes.CanonicalJSON(doc)) {
				t.Fatalf("canonical JSON of %s is not valid", s)
			}
		}
	})
}

// FuzzCanonicalJSON checks that canonical JSON is valid JSON and a fixed
// point: decoding it and encoding again gives the same bytes, with numbers
// decoded as json.Number or as float64. (Across the two the results differ
// only where float64 cannot hold an integer beyond 2^53 exactly.)
func FuzzCanonicalJSON(f *testing.F) {
	for _, s := range []string{
		`{"b": 1, "a": [1.0, 2.50, -0, 1e400, "x"]}`,
		`[1e21, 1e-7, 0.1, 18446744073709551616, -9223372036854775809]`,
		`{"a": {"b": {"c": null}}, "": true, "\u0000": "\ud800"}`,
		`"\u2028<>&"`,
	} {
		f.Add([]byte(s))
	}
	decode := func(data []byte, useNumber bool) (any, error) {
		dec := json.NewDecoder(bytes.NewReader(data))
		if useNumber {
			dec.UseNumber()
		}
		var v any
		err := dec.Decode(&v)
		return v, err
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, useNumber := range []bool{true, false} {
			v, err := decode(data, useNumber)
			if err != nil {
				return
			}
			c1 := recipes.CanonicalJSON(v)
			if !json.Valid(c1) {
				t.Fatalf("invalid canonical JSON %q", c1)
			}
			v2, err := decode(c1, useNumber)
			if err != nil {
				t.Fatalf("decode %q: %v", c1, err)
			}
			if c2 := recipes.CanonicalJSON(v2); !bytes.Equal(c1, c2) {
				t.Fatalf("not a fixed point:\n%s\n%s", c1, c2)
			}
			doc := recipes.KeyDoc{Settings: v}
			if doc.Key() != (recipes.KeyDoc{Settings: v}).Key() {
				t.Fatal("key is not deterministic")
			}
			if d := recipes.DiffKeyDocs(doc, doc); d != nil {
				t.Fatalf("a KeyDoc differs from itself: %v", d)
			}
		}
	})
}
