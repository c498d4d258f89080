package recipes_test

import (
	"fmt"
	"os"
	"testing"
	"testing/fstest"

	"github.com/sous-ml/sous/recipes"
)

func Example() {
	fsys := fstest.MapFS{
		"recipe.yaml": {Data: []byte(`recipe: regression/v1
target_col: fare_amount
steps:
  ingest: {{INGEST_CONFIG}}
  split:
    split_ratios: {{SPLIT_RATIOS | default([0.75, 0.125, 0.125])}}
`)},
		"profiles/local.yaml": {Data: []byte(`INGEST_CONFIG: {using: parquet, location: ./data/sample.parquet}
`)},
	}
	r, err := recipes.Load(fsys, "local")
	if err != nil {
		fmt.Println(err)
		return
	}
	plan, err := r.Plan("split")
	fmt.Println(plan, err)
	fmt.Println(r.Ingest.Using, r.Ingest.Location, r.Split.SplitRatios)

	// The split key depends on the digest of ingest's output and on the
	// split settings.
	inputs := map[string]string{"ingested_data": "9f86d081884c7d65"}
	before := r.KeyDoc(recipes.StepSplit, inputs, "split/1")
	r.Split.SplitRatios = [3]float64{0.8, 0.1, 0.1}
	after := r.KeyDoc(recipes.StepSplit, inputs, "split/1")
	fmt.Println(before.Key() != after.Key(), recipes.DiffKeyDocs(before, after))
	// Output:
	// [ingest split] <nil>
	// parquet [./data/sample.parquet] [0.75 0.125 0.125]
	// true [settings.split_ratios changed: [0.75,0.125,0.125] → [0.8,0.1,0.1]]
}

func ExampleLoad_error() {
	fsys := fstest.MapFS{
		"recipe.yaml": {Data: []byte(`recipe: regression/v1
target_col: fare_amount
steps:
  split:
    split_ratio: [0.8, 0.1, 0.1]
  train:
    estimator: rige
`)},
		"profiles/local.yaml": {Data: []byte("{}\n")},
	}
	_, err := recipes.Load(fsys, "")
	fmt.Println(err)
	// Output:
	// recipe.yaml:5: steps.split.split_ratio: unknown key; allowed: split_ratios, post_split_filter; did you mean "split_ratios"?
	// recipe.yaml:7: steps.train.estimator: unknown value "rige"; allowed: linear_regression, ridge, lasso, elastic_net, decision_tree, random_forest, gbdt; did you mean "ridge"?
}

// exampleFS reads the NYC taxi example into memory, so the benchmark
// measures loading rather than the disk.
func exampleFS(b *testing.B) fstest.MapFS {
	b.Helper()
	fsys := fstest.MapFS{}
	for _, name := range []string{"recipe.yaml", "profiles/local.yaml"} {
		data, err := os.ReadFile(exampleDir + "/" + name)
		if err != nil {
			b.Fatal(err)
		}
		fsys[name] = &fstest.MapFile{Data: data}
	}
	return fsys
}

func BenchmarkLoad(b *testing.B) {
	fsys := exampleFS(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := recipes.Load(fsys, ""); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkKeys(b *testing.B) {
	r, err := recipes.Load(exampleFS(b), "")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range recipes.StepNames() {
			_ = r.KeyDoc(s, map[string]string{"in": "digest"}, "v1").Key()
		}
	}
}
