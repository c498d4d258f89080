package recipes_test

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/sous-ml/sous/recipes"
)

// inputsFor gives every step fixed input digests, so that keys differ only
// through settings.
func inputsFor(step recipes.StepName) map[string]string {
	spec, _ := recipes.Spec(step)
	in := map[string]string{}
	for _, name := range spec.Inputs {
		in[name] = "digest-of-" + name
	}
	if step == recipes.StepIngest {
		in["source:data/x.parquet"] = "digest-of-x"
	}
	return in
}

// stepKeys loads a recipe and returns the key of every step it configures.
func stepKeys(t *testing.T, recipe, profile string) map[recipes.StepName]string {
	t.Helper()
	r, err := recipes.Load(mapFS(recipe, profile), "")
	if err != nil {
		t.Fatal(err)
	}
	keys := map[recipes.StepName]string{}
	for _, s := range recipes.StepNames() {
		if r.Has(s) {
			keys[s] = r.KeyDoc(s, inputsFor(s), "v1").Key()
		}
	}
	return keys
}

func sameKeys(t *testing.T, a, b map[recipes.StepName]string) {
	t.Helper()
	if len(a) == 0 || len(a) != len(b) {
		t.Fatalf("different steps: %v vs %v", a, b)
	}
	for s, k := range a {
		if b[s] != k {
			t.Errorf("step %s: keys differ", s)
		}
	}
}

const keyRecipe = `recipe: regression/v1
target_col: y
steps:
  ingest: {using: csv, location: data/x.csv, sep: ",", schema: {a: float, b: int}}
  split:
    split_ratios: [0.75, 0.125, 0.125]
  transform:
    columns:
      - name: [a, b]
        transformer: standard_scaler
  train:
    estimator: ridge
    estimator_params: {alpha: 2, fit_intercept: false}
  evaluate:
    validation_criteria:
      - {metric: r2_score, threshold: 0.5}
      - {metric: root_mean_squared_error, threshold: 10}
  register: {}
  ingest_scoring: {using: parquet, location: [s.parquet]}
  predict: {output: {using: csv, location: out.csv}}
`

func TestKeysStable(t *testing.T) {
	t.Parallel()
	a := stepKeys(t, keyRecipe, "")
	sameKeys(t, a, stepKeys(t, keyRecipe, ""))
	seen := map[string]recipes.StepName{}
	for s, k := range a {
		if len(k) != 64 || strings.Trim(k, "0123456789abcdef") != "" {
			t.Errorf("step %s: key %q is not hex sha256", s, k)
		}
		if prev, dup := seen[k]; dup {
			t.Errorf("steps %s and %s have the same key", prev, s)
		}
		seen[k] = s
	}
}

func TestKeysIgnoreSpelling(t *testing.T) {
	t.Parallel()
	base := stepKeys(t, keyRecipe, "")
	variants := map[string][][2]string{
		"reordered map keys": {
			{"{alpha: 2, fit_intercept: false}", "{fit_intercept: false, alpha: 2}"},
			{"{using: csv, location: data/x.csv, sep: \",\", schema: {a: float, b: int}}",
				"{schema: {b: int, a: float}, location: data/x.csv, using: csv}"},
			{"{output: {using: csv, location: out.csv}}", "\n    output:\n      location: out.csv\n      using: csv"},
		},
		"1 and 1.0": {
			{"alpha: 2,", "alpha: 2.0,"},
			{"threshold: 10}", "threshold: 10.0}"},
			{"[0.75, 0.125, 0.125]", "[0.750, 1.25e-1, 0.125]"},
		},
		"reordered criteria": {
			{"      - {metric: r2_score, threshold: 0.5}\n      - {metric: root_mean_squared_error, threshold: 10}",
				"      - {metric: root_mean_squared_error, threshold: 10}\n      - {metric: r2_score, threshold: 0.5}"},
		},
		"single location and list": {
			{"location: [s.parquet]", "location: s.parquet"},
			{"name: [a, b]", "name:\n          - a\n          - b"},
		},
		"comments and quoting": {
			{"recipe: regression/v1", "# a comment\nrecipe: \"regression/v1\""},
			{"estimator: ridge", "estimator: 'ridge' # the default"},
		},
		"through a variable": {
			{"estimator_params: {alpha: 2, fit_intercept: false}", "estimator_params: {{ PARAMS }}"},
		},
	}
	profile := "PARAMS:\n  fit_intercept: false\n  alpha: 2\n"
	for name, edits := range variants {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			recipe := keyRecipe
			for _, e := range edits {
				if !strings.Contains(recipe, e[0]) {
					t.Fatalf("%q not in recipe", e[0])
				}
				recipe = strings.Replace(recipe, e[0], e[1], 1)
			}
			sameKeys(t, base, stepKeys(t, recipe, profile))
		})
	}
}

func TestKeysExplicitDefaults(t *testing.T) {
	t.Parallel()
	const minimal = `recipe: regression/v1
target_col: y
steps:
  ingest: {using: csv, location: data/x.csv}
  split:
  transform:
    columns:
      - {name: a, transformer: one_hot}
  train: {estimator: gbdt}
  evaluate: {}
  register: {}
  ingest_scoring: {using: parquet, location: s.parquet}
  predict: {output: {using: parquet, location: out.parquet}}
`
	const explicit = `recipe: regression/v1
target_col: y
primary_metric: root_mean_squared_error
steps:
  ingest: {using: csv, location: [data/x.csv], sep: ",", header: true}
  split:
    split_ratios: {{ R | default([0.75, 0.125, 0.125]) }}
    post_split_filter:
  transform:
    using: columns
    derive: {}
    columns:
      - name: [a]
        transformer: one_hot
        params: {min_frequency: null, max_categories: null}
    remainder: drop
  train:
    estimator: gbdt
    estimator_params:
      max_iter: 100
      learning_rate: 0.1
      max_leaf_nodes: 31
      max_depth: null
      min_samples_leaf: 20
      l2_regularization: 0
      max_bins: 255
      early_stopping: auto
      validation_fraction: 0.1
      n_iter_no_change: 10
      loss: squared_error
      random_state: ~
    tuning: {enabled: false}
  evaluate: {validation_criteria: []}
  register: {allow_non_validated_model: false}
  ingest_scoring: {using: parquet, location: s.parquet}
  predict:
    output: {using: parquet, location: out.parquet}
    result_type: double
    save_mode: overwrite
`
	sameKeys(t, stepKeys(t, minimal, ""), stepKeys(t, explicit, ""))
}

func TestKeysChangeOnlyTheirStep(t *testing.T) {
	t.Parallel()
	base := stepKeys(t, keyRecipe, "")
	changed := stepKeys(t, strings.Replace(keyRecipe, "[0.75, 0.125, 0.125]", "[0.8, 0.1, 0.1]", 1), "")
	for s, k := range base {
		if differs := changed[s] != k; differs != (s == recipes.StepSplit) {
			t.Errorf("step %s: key changed = %v", s, differs)
		}
	}
	// The recipe-level settings a step reads are part of its key.
	other := stepKeys(t, strings.Replace(keyRecipe, "target_col: y", "target_col: z", 1), "")
	for _, s := range []recipes.StepName{"ingest", "split", "transform", "train", "evaluate"} {
		if other[s] == base[s] {
			t.Errorf("step %s: key did not change with target_col", s)
		}
	}
	for _, s := range []recipes.StepName{"register", "ingest_scoring", "predict"} {
		if other[s] != base[s] {
			t.Errorf("step %s: key changed with target_col", s)
		}
	}
}

func TestKeyDocRoundTrip(t *testing.T) {
	t.Parallel()
	r, err := recipes.Load(mapFS(keyRecipe, ""), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range recipes.StepNames() {
		doc := r.KeyDoc(s, inputsFor(s), "v1")
		// A KeyDoc stored as JSON (in a manifest) and read back has the
		// same key, although its numbers are now float64s.
		data, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		var back recipes.KeyDoc
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatal(err)
		}
		if back.Key() != doc.Key() {
			t.Errorf("step %s: key changed through JSON", s)
		}
		if d := recipes.DiffKeyDocs(back, doc); d != nil {
			t.Errorf("step %s: diff after round trip: %v", s, d)
		}
	}
}

func TestDiffKeyDocs(t *testing.T) {
	t.Parallel()
	load := func(recipe string) *recipes.Recipe {
		t.Helper()
		r, err := recipes.Load(mapFS(recipe, ""), "")
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	old := load(keyRecipe)
	new := load(strings.NewReplacer(
		"[0.75, 0.125, 0.125]", "[0.8, 0.1, 0.1]",
		"{alpha: 2, fit_intercept: false}", "{alpha: 3}",
	).Replace(keyRecipe))

	got := recipes.DiffKeyDocs(old.KeyDoc("split", inputsFor("split"), "v1"), new.KeyDoc("split", inputsFor("split"), "v1"))
	want := []string{"settings.split_ratios changed: [0.75,0.125,0.125] → [0.8,0.1,0.1]"}
	if !slices.Equal(got, want) {
		t.Errorf("split diff %q, want %q", got, want)
	}

	in := inputsFor("train")
	in2 := inputsFor("train")
	in2["training_data"] = "0123456789abcdef0123"
	delete(in2, "transformer")
	got = recipes.DiffKeyDocs(old.KeyDoc("train", in, "v1"), new.KeyDoc("train", in2, "v2"))
	want = []string{
		"settings.estimator_params.alpha changed: 2 → 3",
		"settings.estimator_params.fit_intercept changed: false → true",
		"input training_data changed (digest-of-tr → 0123456789ab)",
		"input transformer removed",
		"implementation changed (v1 → v2)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("train diff\n%q\nwant\n%q", got, want)
	}

	a := old.KeyDoc("register", nil, "v1")
	b := old.KeyDoc("register", map[string]string{}, "v1")
	if a.Key() != b.Key() || recipes.DiffKeyDocs(a, b) != nil {
		t.Error("nil and empty inputs differ")
	}
	var empty recipes.KeyDoc
	if got := recipes.DiffKeyDocs(empty, a); len(got) == 0 {
		t.Error("no reasons between an empty and a real KeyDoc")
	}
}

func TestCanonicalJSON(t *testing.T) {
	t.Parallel()
	type inner struct {
		B      int    `json:"b"`
		A      string `json:"a,omitempty"`
		Hidden int    `json:"-"`
		Plain  bool
		hidden int
	}
	cyclic := map[string]any{"a": 1}
	cyclic["self"] = cyclic
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"sorted keys", map[string]any{"b": 1, "a": 2, "c": map[string]int{"z": 1, "y": 2}}, `{"a":2,"b":1,"c":{"y":2,"z":1}}`},
		{"ints and whole floats", []any{1, int64(1), uint8(1), 1.0, float32(1), json.Number("1.0"), json.Number("1e0")}, `[1,1,1,1,1,1,1]`},
		{"floats", []any{0.1, float32(0.1), 1.5, -2.25, 1e-7, 1e20, 1e21, 123456789.125, 0.000001, -1.5e300}, `[0.1,0.1,1.5,-2.25,1e-7,100000000000000000000,1e+21,123456789.125,0.000001,-1.5e+300]`},
		{"negative zero", []any{math.Copysign(0, -1), json.Number("-0.0")}, `[0,0]`},
		{"not finite", []any{math.NaN(), math.Inf(1), math.Inf(-1), json.Number("1e400")}, `["NaN","+Inf","-Inf","+Inf"]`},
		{"big integers", []any{uint64(math.MaxUint64), int64(math.MinInt64), json.Number("18446744073709551615")}, `[18446744073709551615,-9223372036854775808,18446744073709551615]`},
		{"nil collections", []any{map[string]any(nil), []string(nil), nil, (*int)(nil)}, `[{},[],null,null]`},
		{"strings", []any{"<&>", "a\"b\\c", "\n\t\x01", "\xff", "é\u2028"}, `["<&>","a\"b\\c","\n\t\u0001","\ufffd","é` + "\u2028" + `"]`},
		{"struct", inner{B: 1}, `{"Plain":false,"a":"","b":1}`},
		{"non-string keys", map[any]any{1: "int", "1": "string", true: "bool"}, `{"1":"string","1":"int","true":"bool"}`},
		{"cycle", cyclic, `{"a":1,"self":null}`},
		{"unsupported", []any{func() {}, make(chan int)}, `[null,null]`},
	}
	for _, tt := range tests {
		if got := string(recipes.CanonicalJSON(tt.in)); got != tt.want {
			t.Errorf("%s: CanonicalJSON = %s, want %s", tt.name, got, tt.want)
		}
		if !json.Valid(recipes.CanonicalJSON(tt.in)) {
			t.Errorf("%s: not valid JSON", tt.name)
		}
	}
}
