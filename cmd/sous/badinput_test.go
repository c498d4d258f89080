package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBadInput runs the example once, then breaks it in one way per case: each
// case must fail with one clear error naming the file and the cause, exit
// non-zero, and leave the cache and the registry exactly as they were.
func TestBadInput(t *testing.T) {
	base := copyExample(t)
	if code, _, stderr := runJSON(t, base); code != 0 {
		t.Fatalf("good run: exit %d\n%s", code, stderr)
	}
	before := storeSnapshot(t, base)

	edit := func(file, old, new string) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			t.Helper()
			p := filepath.Join(dir, file)
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(data), old) {
				t.Fatalf("%s does not contain %q", file, old)
			}
			if err := os.WriteFile(p, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	cases := []struct {
		name     string
		mutate   func(t *testing.T, dir string)
		wantCode int
		wantErr  []string
	}{
		{
			name:     "unknown key",
			mutate:   edit("recipe.yaml", "split_ratios:", "split_ratio:"),
			wantCode: exitBadInput,
			wantErr:  []string{"recipe.yaml:", "split_ratio", `"split_ratios"`},
		},
		{
			name:     "undefined variable",
			mutate:   edit("profiles/local.yaml", "INGEST_CONFIG:", "INGEST_CONFIGURATION:"),
			wantCode: exitBadInput,
			wantErr:  []string{"recipe.yaml:", "INGEST_CONFIG"},
		},
		{
			name:     "missing data file",
			mutate:   edit("profiles/local.yaml", "./data/sample.parquet", "./data/nope.parquet"),
			wantCode: exitBadInput,
			wantErr:  []string{"nope.parquet"},
		},
		{
			name:     "missing target column",
			mutate:   edit("recipe.yaml", `target_col: "fare_amount"`, `target_col: "fare"`),
			wantCode: exitFailed,
			wantErr:  []string{`"fare"`, "sample.parquet"},
		},
		{
			name:     "non-numeric target",
			mutate:   edit("recipe.yaml", `target_col: "fare_amount"`, `target_col: "tpep_pickup_datetime"`),
			wantCode: exitFailed,
			wantErr:  []string{"tpep_pickup_datetime", "numeric"},
		},
		{
			name:     "filter empties a split",
			mutate:   edit("recipe.yaml", `post_split_filter: "`, `post_split_filter: "fare_amount > 1000000 && `),
			wantCode: exitFailed,
			wantErr:  []string{"empty", "post_split_filter"},
		},
		{
			name: "corrupt parquet",
			mutate: func(t *testing.T, dir string) {
				p := filepath.Join(dir, "data", "sample.parquet")
				data, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, data[:len(data)/2], 0o644); err != nil {
					t.Fatal(err)
				}
			},
			wantCode: exitFailed,
			wantErr:  []string{"sample.parquet"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if out, err := exec.Command("cp", "-a", base+"/.", dir).CombinedOutput(); err != nil {
				t.Fatalf("copy: %v\n%s", err, out)
			}
			tc.mutate(t, dir)
			code, _, stderr := sous(t, "run", "-C", dir)
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d\n%s", code, tc.wantCode, stderr)
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(stderr, want) {
					t.Errorf("error does not mention %q:\n%s", want, stderr)
				}
			}
			if got := storeSnapshot(t, dir); got != before {
				t.Errorf("the cache or registry changed:\nbefore:\n%s\nafter:\n%s", before, got)
			}
		})
	}
}
