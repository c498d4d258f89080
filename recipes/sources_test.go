package recipes_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sous-ml/sous/recipes"
)

func writeFiles(t *testing.T, root string, names ...string) {
	t.Helper()
	for _, n := range names {
		p := filepath.Join(root, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSources(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeFiles(t, root,
		"data/a.parquet", "data/b.parquet", "data/sub/c.parquet", "data/x.csv",
		"data/_SUCCESS", "data/.hidden.parquet", "data/_tmp/d.parquet", "empty/readme.txt")
	abs := filepath.Join(root, "data", "a.parquet")
	in := func(names ...string) []string {
		out := make([]string, len(names))
		for i, n := range names {
			out[i] = filepath.Join(root, filepath.FromSlash(n))
		}
		return out
	}
	tests := []struct {
		location string
		using    string
		want     []string
	}{
		{"./data/a.parquet", "parquet", in("data/a.parquet")},
		{abs, "parquet", []string{abs}},
		{"data", "parquet", in("data/a.parquet", "data/b.parquet", "data/sub/c.parquet")},
		{"data/", "csv", in("data/x.csv")},
		{"data/*.parquet", "parquet", in("data/a.parquet", "data/b.parquet")},
		{"data/s*", "parquet", in("data/sub/c.parquet")},
		{"[s3://bucket/k.parquet, data/b.parquet, 'data/[ab].parquet']", "parquet",
			append(in("data/a.parquet", "data/b.parquet"), "s3://bucket/k.parquet")},
	}
	for _, tt := range tests {
		loc := tt.location
		if loc[0] != '[' {
			loc = "'" + loc + "'"
		}
		r, err := recipes.Load(mapFS("recipe: regression/v1\ntarget_col: y\nsteps:\n  ingest: {using: "+tt.using+", location: "+loc+"}\n", ""), "")
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.Sources(recipes.StepIngest, root)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("Sources(%s) = %q, %v; want %q", tt.location, got, err, tt.want)
		}
	}
}

func TestSourcesErrors(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeFiles(t, root, "empty/readme.txt")
	recipe := "recipe: regression/v1\ntarget_col: y\nsteps:\n" +
		"  split: {}\n" +
		"  ingest: {{INGEST}}\n" + // line 5
		"  ingest_scoring:\n    using: parquet\n    location: empty\n" // line 8
	r, err := recipes.Load(mapFS(recipe, "INGEST: {using: parquet, location: [data/nope.parquet, '*.csv']}\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Sources(recipes.StepIngest, root)
	var list recipes.Errors
	if !errors.As(err, &list) || len(list) != 2 {
		t.Fatalf("Sources(ingest) = %v, want two errors", err)
	}
	wantErr{file: "recipe.yaml", line: 5, key: "steps.ingest.location",
		msg: `"data/nope.parquet" matches no file (looked for ` + filepath.Join(root, "data/nope.parquet") +
			`) (this line uses INGEST from profiles/local.yaml:1)`}.match(t, list[0])
	wantErr{file: "recipe.yaml", line: 5, key: "steps.ingest.location", msg: `"*.csv" matches no file`}.match(t, list[1])
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %v does not wrap fs.ErrNotExist", err)
	}

	_, err = r.Sources(recipes.StepIngestScoring, root)
	wantErr{file: "recipe.yaml", line: 8, key: "steps.ingest_scoring.location", msg: `"empty" holds no .parquet files`}.check(t, err)

	if _, err := r.Sources(recipes.StepSplit, root); err == nil {
		t.Error("Sources(split) did not fail")
	}
	r.IngestScoring = nil
	_, err = r.Sources(recipes.StepIngestScoring, root)
	wantErr{file: "recipe.yaml", line: 3, key: "steps.ingest_scoring", msg: "missing"}.check(t, err)
}

func TestSourcesExample(t *testing.T) {
	t.Parallel()
	r, err := recipes.Load(os.DirFS(exampleDir), "")
	if err != nil {
		t.Fatal(err)
	}
	for step, want := range map[recipes.StepName]string{
		recipes.StepIngest:        "data/sample.parquet",
		recipes.StepIngestScoring: "data/test_sample.parquet",
	} {
		got, err := r.Sources(step, exampleDir)
		if err != nil || !slices.Equal(got, []string{filepath.Join(exampleDir, want)}) {
			t.Errorf("Sources(%s) = %q, %v", step, got, err)
		}
	}
}
