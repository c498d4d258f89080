package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sous-ml/sous/artifacts/s3/miniotest"
	"github.com/sous-ml/sous/proto"
	"github.com/sous-ml/sous/recipes/frame"
)

// copyExample copies examples/nyc-taxi into a fresh directory.
func copyExample(t *testing.T) string {
	t.Helper()
	return copyExampleNamed(t, "nyc-taxi")
}

// copyExampleNamed copies examples/<name> into a fresh directory.
func copyExampleNamed(t *testing.T, name string) string {
	t.Helper()
	src := filepath.Join("..", "..", "examples", name)
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if strings.HasPrefix(rel, ".sous") || strings.HasPrefix(rel, "output") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// sous runs the CLI in-process and returns its exit code, stdout and stderr.
func sous(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := Main(ctx, args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// runJSON runs `sous run -o json` and decodes its report.
func runJSON(t *testing.T, dir string, extra ...string) (int, runReport, string) {
	t.Helper()
	code, out, errOut := sous(t, append([]string{"run", "-C", dir, "-o", "json"}, extra...)...)
	var rep runReport
	if out != "" {
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("sous run -o json printed something that is not JSON: %v\n%s\nstderr: %s", err, out, errOut)
		}
	}
	return code, rep, errOut
}

func statuses(rep runReport) map[string]string {
	m := map[string]string{}
	for _, s := range rep.Steps {
		m[s.Name] = s.Status
	}
	return m
}

func wantStatuses(t *testing.T, rep runReport, want map[string]string) {
	t.Helper()
	got := statuses(rep)
	for step, st := range want {
		if got[step] != st {
			t.Errorf("step %s: status %q, want %q (all: %v)", step, got[step], st, got)
		}
	}
}

var trainingSteps = []string{"ingest", "split", "transform", "train", "evaluate", "register"}

func all(status string) map[string]string {
	m := map[string]string{}
	for _, s := range trainingSteps {
		m[s] = status
	}
	return m
}

// storeSnapshot lists the cache and registry of a recipe's embedded store with sizes.
func storeSnapshot(t *testing.T, dir string) string {
	t.Helper()
	root := filepath.Join(dir, stateDir, "store")
	var lines []string
	for _, sub := range []string{"steps", "objects", "registry"} {
		_ = filepath.WalkDir(filepath.Join(root, sub), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			info, _ := d.Info()
			rel, _ := filepath.Rel(root, path)
			lines = append(lines, rel+" "+strconv.FormatInt(info.Size(), 10))
			return nil
		})
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func TestRunEndToEndAndCaching(t *testing.T) {
	dir := copyExample(t)

	code, rep, stderr := runJSON(t, dir)
	if code != 0 {
		t.Fatalf("cold run: exit %d\n%s", code, stderr)
	}
	wantStatuses(t, rep, all("ran"))
	if rep.Status != "succeeded" || rep.ValidationStatus != "VALIDATED" {
		t.Fatalf("cold run: status %s, validation %s", rep.Status, rep.ValidationStatus)
	}
	if rep.RegisteredModel == nil || rep.RegisteredModel.Name != "taxi_fare_regressor" || rep.RegisteredModel.Version != 1 {
		t.Fatalf("cold run: registered %+v, want taxi_fare_regressor v1", rep.RegisteredModel)
	}
	var evalMetrics map[string]float64
	for _, s := range rep.Steps {
		if s.Name == "evaluate" {
			evalMetrics = s.Metrics
		}
	}
	rmse := evalMetrics["test_root_mean_squared_error"]
	if !(rmse > 0 && rmse < 10) {
		t.Fatalf("test RMSE %v, want in (0, 10)", rmse)
	}
	t.Logf("test RMSE on the NYC sample: %.4f", rmse)

	t.Run("nothing changed: every step cached, no job", func(t *testing.T) {
		code, out, stderr := sous(t, "run", "-C", dir)
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		if !strings.Contains(out, "all 6 steps cached; nothing ran") {
			t.Fatalf("output does not say every step was cached:\n%s", out)
		}
		if strings.Contains(out, "queued") {
			t.Fatalf("a job was queued:\n%s", out)
		}
		if n := strings.Count(out, " cached (key "); n != 6 {
			t.Fatalf("%d steps printed as cached, want 6:\n%s", n, out)
		}
	})

	t.Run("touching the data file re-runs nothing", func(t *testing.T) {
		data := filepath.Join(dir, "data", "sample.parquet")
		later := time.Now().Add(time.Hour)
		if err := os.Chtimes(data, later, later); err != nil {
			t.Fatal(err)
		}
		code, rep, stderr := runJSON(t, dir)
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		wantStatuses(t, rep, all("cached"))
	})

	t.Run("changing split_ratios re-runs split and what follows, not ingest", func(t *testing.T) {
		profile := filepath.Join(dir, "profiles", "local.yaml")
		orig, err := os.ReadFile(profile)
		if err != nil {
			t.Fatal(err)
		}
		changed := string(orig) + "\nSPLIT_RATIOS: [0.7, 0.15, 0.15]\n"
		if err := os.WriteFile(profile, []byte(changed), 0o644); err != nil {
			t.Fatal(err)
		}
		defer os.WriteFile(profile, orig, 0o644)
		code, rep, stderr := runJSON(t, dir)
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		wantStatuses(t, rep, map[string]string{"ingest": "cached", "split": "ran", "transform": "ran", "train": "ran", "evaluate": "ran", "register": "ran"})
		for _, s := range rep.Steps {
			if s.Name == "split" && !strings.Contains(s.Reason, "split_ratios") {
				t.Errorf("split's miss reason %q does not name split_ratios", s.Reason)
			}
		}
		if rep.RegisteredModel == nil || rep.RegisteredModel.Version != 2 {
			t.Fatalf("registered %+v, want version 2", rep.RegisteredModel)
		}
	})

	t.Run("deleting an object turns its step back into a miss", func(t *testing.T) {
		code, rep, stderr := runJSON(t, dir)
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		wantStatuses(t, rep, all("cached"))
		_, out, _ := sous(t, "get-artifact", "-C", dir, "transformed_training_data")
		path := strings.TrimSpace(out)
		if err := os.Remove(path); err != nil {
			t.Fatalf("remove %q: %v", path, err)
		}
		code, rep, stderr = runJSON(t, dir)
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		// transform re-runs and writes identical bytes, so train and what follows stay cached.
		wantStatuses(t, rep, map[string]string{"ingest": "cached", "split": "cached", "transform": "ran", "train": "cached", "evaluate": "cached", "register": "cached"})
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("the re-run did not restore the object: %v", err)
		}
	})

	t.Run("changing a byte of the data re-runs ingest", func(t *testing.T) {
		data := filepath.Join(dir, "data", "sample.parquet")
		f, err := frame.ReadParquetFile(data)
		if err != nil {
			t.Fatal(err)
		}
		fare, _ := f.Col("fare_amount")
		fare.Floats[0] += 0.5
		if err := frame.WriteParquetFile(data, f); err != nil {
			t.Fatal(err)
		}
		code, rep, stderr := runJSON(t, dir)
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		wantStatuses(t, rep, map[string]string{"ingest": "ran"})
	})

	t.Run("batch scoring", func(t *testing.T) {
		code, rep, stderr := runJSON(t, dir, "--step", "predict")
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		wantStatuses(t, rep, map[string]string{"ingest_scoring": "ran", "predict": "ran"})
		scored, err := frame.ReadParquetFile(filepath.Join(dir, "output", "scored.parquet"))
		if err != nil {
			t.Fatal(err)
		}
		input, err := frame.ReadParquetFile(filepath.Join(dir, "data", "test_sample.parquet"))
		if err != nil {
			t.Fatal(err)
		}
		if scored.Len() != input.Len() {
			t.Fatalf("scored %d rows, input has %d", scored.Len(), input.Len())
		}
		pred, ok := scored.Col("prediction")
		if !ok || pred.Kind != frame.Float {
			t.Fatalf("no float prediction column: %v", scored.Names())
		}
		for _, c := range input.Cols {
			if _, ok := scored.Col(c.Name); !ok {
				t.Errorf("input column %s not kept in the output", c.Name)
			}
		}
	})

	t.Run("sous predict without a recipe", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "scored.csv")
		code, _, stderr := sous(t, "predict", "-C", dir, "--model", "models:/taxi_fare_regressor/1",
			"--input", filepath.Join(dir, "data", "test_sample.parquet"), "--output", out)
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		f, err := frame.ReadCSVFile(out, frame.CSVOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if p, ok := f.Col("prediction"); !ok || f.Len() != 10 || p.Kind != frame.Float {
			t.Fatalf("scored %d rows, columns %v", f.Len(), f.Names())
		}
		code, _, stderr = sous(t, "predict", "-C", dir, "--model", "models:/taxi_fare_regressor/1",
			"--input", filepath.Join(dir, "data", "test_sample.parquet"), "--output", out, "--save-mode", "error")
		if code != exitBadInput || !strings.Contains(stderr, "exists and save_mode is error") {
			t.Fatalf("save-mode error on an existing output: exit %d %s", code, stderr)
		}
	})

	t.Run("models", func(t *testing.T) {
		code, out, stderr := sous(t, "models", "list", "taxi_fare_regressor", "-C", dir, "-o", "json")
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		var versions []struct {
			Version          int    `json:"version"`
			ValidationStatus string `json:"validation_status"`
		}
		if err := json.Unmarshal([]byte(out), &versions); err != nil {
			t.Fatal(err)
		}
		// v1 cold, v2 new split ratios, v3 changed data; cached runs added none.
		if len(versions) != 3 || versions[0].Version != 1 || versions[2].Version != 3 || versions[2].ValidationStatus != "VALIDATED" {
			t.Fatalf("versions %+v, want 1, 2 and 3, validated", versions)
		}
		if code, _, stderr := sous(t, "models", "alias", "taxi_fare_regressor", "champion", "7", "-C", dir); code != exitBadInput || !strings.Contains(stderr, "not found") {
			t.Fatalf("alias to a missing version: exit %d %s", code, stderr)
		}
	})

	t.Run("inspect and get-artifact", func(t *testing.T) {
		code, out, stderr := sous(t, "inspect", "-C", dir, "--step", "evaluate")
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		if !strings.Contains(out, "VALIDATED") || !strings.Contains(out, "card: ") {
			t.Fatalf("inspect --step evaluate:\n%s", out)
		}
		card := strings.TrimSpace(out[strings.LastIndex(out, "card: ")+len("card: "):])
		html, err := os.ReadFile(card)
		if err != nil || !bytes.Contains(html, []byte("<html")) {
			t.Fatalf("card %s: %v", card, err)
		}
		code, _, stderr = sous(t, "get-artifact", "-C", dir, "no_such_artifact")
		if code != exitBadInput || !strings.Contains(stderr, "available: ") || !strings.Contains(stderr, "model") {
			t.Fatalf("get-artifact of an unknown name: exit %d, %s", code, stderr)
		}
	})
}

// TestRunOnS3 runs the example with its artifacts in a real MinIO: the same
// steps read and write through the S3 backend, and a re-run is cached.
func TestRunOnS3(t *testing.T) {
	srv := miniotest.StartServer(t)
	setMinioEnv(t, srv)
	dir := copyExample(t)
	storeURL := srv.StoreURL(miniotest.Prefix(t))
	code, rep, stderr := runJSON(t, dir, "--store", storeURL)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	wantStatuses(t, rep, all("ran"))
	if entries, _ := os.ReadDir(filepath.Join(dir, stateDir, "store")); len(entries) != 0 {
		t.Fatalf("artifacts went to the local store: %v", entries)
	}
	code, rep, stderr = runJSON(t, dir, "--store", storeURL)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	wantStatuses(t, rep, all("cached"))
	code, _, stderr = sous(t, "run", "-C", dir, "--store", "s3://no-such-bucket/x")
	if code != exitInfra || !strings.Contains(stderr, "no-such-bucket") {
		t.Fatalf("missing bucket: exit %d, %s", code, stderr)
	}
}

func TestExportSaveModes(t *testing.T) {
	dir := t.TempDir()
	f := &frame.Frame{Cols: []*frame.Column{frame.NewFloatColumn("prediction", []float64{1, 2})}}
	scored := filepath.Join(dir, "scored.parquet")
	if err := frame.WriteParquetFile(scored, f); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out", "scored.csv")
	if err := exportParts([]string{scored}, out, "csv", "error"); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(out)
	if err != nil || string(data) != "prediction\n1\n2\n" {
		t.Fatalf("csv output %q, %v", data, err)
	}
	if err := exportParts([]string{scored}, out, "csv", "error"); err == nil || !strings.Contains(err.Error(), "exists and save_mode is error") {
		t.Fatalf("second export with save_mode error: %v", err)
	}
	if err := exportParts([]string{scored}, out, "csv", "overwrite"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(out + ".tmp"); !os.IsNotExist(err) {
		t.Fatalf("temporary file left behind: %v", err)
	}
}

// TestClassificationExamples runs the classification/v1 examples end to end:
// binary (wine: is it red?) with logistic regression and a random forest, and
// multiclass (iris), then scores with MLflow's output columns.
func TestClassificationExamples(t *testing.T) {
	cases := []struct {
		example, estimator string
		wantColumns        []string
		wantMetric         string
		floor              float64
	}{
		{"wine-quality", "logistic_regression", []string{"predicted_label", "predicted_score_0", "predicted_score_1"}, "test_f1_score", 0.95},
		{"wine-quality", "random_forest", []string{"predicted_label", "predicted_score_0", "predicted_score_1"}, "test_f1_score", 0.95},
		{"iris", "logistic_regression", []string{"predicted_label", "predicted_score_setosa", "predicted_score_versicolor", "predicted_score_virginica"}, "test_f1_score_macro", 0.85},
	}
	for _, tc := range cases {
		t.Run(tc.example+"/"+tc.estimator, func(t *testing.T) {
			t.Parallel()
			dir := copyExampleNamed(t, tc.example)
			profile := filepath.Join(dir, "profiles", "local.yaml")
			data, err := os.ReadFile(profile)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(profile, append(data, []byte("\nESTIMATOR: "+tc.estimator+"\n")...), 0o644); err != nil {
				t.Fatal(err)
			}
			code, rep, stderr := runJSON(t, dir)
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			if rep.ValidationStatus != "VALIDATED" || rep.RegisteredModel == nil {
				t.Fatalf("validation %s, registered %+v", rep.ValidationStatus, rep.RegisteredModel)
			}
			for _, s := range rep.Steps {
				if s.Name == "evaluate" && !(s.Metrics[tc.wantMetric] >= tc.floor) {
					t.Fatalf("%s = %v, want >= %v", tc.wantMetric, s.Metrics[tc.wantMetric], tc.floor)
				}
			}
			code, _, stderr = runJSON(t, dir, "--step", "predict")
			if code != 0 {
				t.Fatalf("predict: exit %d\n%s", code, stderr)
			}
			out, _ := filepath.Glob(filepath.Join(dir, "output", "scored.*"))
			if len(out) != 1 {
				t.Fatalf("outputs %v", out)
			}
			var f *frame.Frame
			if strings.HasSuffix(out[0], ".csv") {
				f, err = frame.ReadCSVFile(out[0], frame.CSVOptions{})
			} else {
				f, err = frame.ReadParquetFile(out[0])
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range tc.wantColumns {
				if _, ok := f.Col(c); !ok {
					t.Errorf("output has no column %s: %v", c, f.Names())
				}
			}
		})
	}
}

func TestPlan(t *testing.T) {
	dir := copyExample(t)
	plan := func() []proto.StepPlan {
		t.Helper()
		code, out, stderr := sous(t, "plan", "-C", dir, "-o", "json")
		if code != 0 {
			t.Fatalf("plan: exit %d\n%s", code, stderr)
		}
		var steps []proto.StepPlan
		if err := json.Unmarshal([]byte(out), &steps); err != nil {
			t.Fatal(err)
		}
		return steps
	}
	for _, p := range plan() {
		if p.Status != "run" {
			t.Fatalf("before any run, %s is %s", p.Name, p.Status)
		}
	}
	if code, _, stderr := runJSON(t, dir); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	recipe := filepath.Join(dir, "recipe.yaml")
	data, _ := os.ReadFile(recipe)
	if err := os.WriteFile(recipe, []byte(strings.Replace(string(data), "alpha: 1.0", "alpha: 2.0", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	got := map[string]proto.StepPlan{}
	for _, p := range plan() {
		got[p.Name] = p
	}
	for _, s := range []string{"ingest", "split", "transform"} {
		if got[s].Status != "cached" {
			t.Errorf("%s: %s, want cached", s, got[s].Status)
		}
	}
	if tr := got["train"]; tr.Status != "run" || !strings.Contains(tr.Reason, "estimator_params.alpha changed") {
		t.Errorf("train: %+v, want run because alpha changed", tr)
	}
	if ev := got["evaluate"]; ev.Status != "run" || !strings.Contains(ev.Reason, "upstream") {
		t.Errorf("evaluate: %+v", ev)
	}
	// plan records nothing: the run after it still runs train.
	code, rep, stderr := runJSON(t, dir)
	if code != 0 {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	wantStatuses(t, rep, map[string]string{"transform": "cached", "train": "ran"})
}
