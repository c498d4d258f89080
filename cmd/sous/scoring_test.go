package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sous-ml/sous/artifacts"
	"github.com/sous-ml/sous/artifacts/local"
	"github.com/sous-ml/sous/artifacts/registry"
	"github.com/sous-ml/sous/artifacts/s3"
	"github.com/sous-ml/sous/artifacts/s3/miniotest"
	"github.com/sous-ml/sous/recipes/expr"
	"github.com/sous-ml/sous/recipes/frame"
	"github.com/sous-ml/sous/recipes/ml"
)

// writeScoringFiles cuts the NYC sample into files of parts[i] rows, each
// with row groups of groupRows rows, under dir/score, and returns the rows
// in file order.
func writeScoringFiles(t *testing.T, dir string, groupRows int, parts ...int) *frame.Frame {
	t.Helper()
	all, err := frame.ReadParquetFile(filepath.Join(dir, "data", "sample.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "score"), 0o755); err != nil {
		t.Fatal(err)
	}
	var pieces []*frame.Frame
	at := 0
	for i, n := range parts {
		f := all.Slice(at, at+n)
		at += n
		writeParquet(t, filepath.Join(dir, "score", fmt.Sprintf("%c.parquet", 'a'+i)), f, groupRows)
		pieces = append(pieces, f)
	}
	want, err := frame.Concat(pieces...)
	if err != nil {
		t.Fatal(err)
	}
	return want
}

func writeParquet(t *testing.T, path string, f *frame.Frame, groupRows int) {
	t.Helper()
	if err := frame.WriteParquetFileWith(path, f, frame.WriterOptions{RowGroupRows: groupRows}); err != nil {
		t.Fatal(err)
	}
}

// trainedWithMinio starts MinIO, points the AWS_* environment at it and
// trains the example in a fresh directory.
func trainedWithMinio(t *testing.T) (*miniotest.Server, string) {
	t.Helper()
	srv := miniotest.StartServer(t)
	setMinioEnv(t, srv)
	dir := copyExample(t)
	if code, _, stderr := runJSON(t, dir); code != 0 {
		t.Fatalf("training: exit %d\n%s", code, stderr)
	}
	return srv, dir
}

// setMinioEnv sets the AWS_* variables that reach srv for the test.
func setMinioEnv(t *testing.T, srv *miniotest.Server) {
	t.Helper()
	for _, kv := range srv.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

// writeBatchProfile writes profiles/batch.yaml: the training settings of the
// example, scoring dir/score, writing to output (a path relative to dir).
func writeBatchProfile(t *testing.T, dir, using, output, saveMode string) {
	t.Helper()
	writeBatchProfileFrom(t, dir, "./score", using, output, saveMode)
}

// writeBatchProfileFrom is writeBatchProfile scoring the files at input.
func writeBatchProfileFrom(t *testing.T, dir, input, using, output, saveMode string) {
	t.Helper()
	profile := fmt.Sprintf(`experiment: {name: nyc-taxi}
model_registry: {model_name: taxi_fare_regressor}
INGEST_CONFIG: {using: parquet, location: ./data/sample.parquet}
INGEST_SCORING_CONFIG: {using: parquet, location: %q}
PREDICT_OUTPUT_CONFIG: {using: %s, location: %q}
`, input, using, output)
	orig := filepath.Join(dir, ".recipe.yaml.orig")
	data, err := os.ReadFile(orig)
	if os.IsNotExist(err) {
		data, err = os.ReadFile(filepath.Join(dir, "recipe.yaml"))
		if err == nil {
			err = os.WriteFile(orig, data, 0o644)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	recipe := strings.Replace(string(data), "output: {{PREDICT_OUTPUT_CONFIG}}", "output: {{PREDICT_OUTPUT_CONFIG}}\n    save_mode: "+saveMode, 1)
	if err := os.WriteFile(filepath.Join(dir, "recipe.yaml"), []byte(recipe), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "profiles", "batch.yaml"), []byte(profile), 0o644); err != nil {
		t.Fatal(err)
	}
}

// expectedPredictions scores f in-process with the registered model, the
// way a user would with the library: derive, transform, predict.
func expectedPredictions(t *testing.T, store artifacts.Store, f *frame.Frame) []float64 {
	t.Helper()
	ctx := context.Background()
	v, err := registry.Resolve(ctx, store, "models:/taxi_fare_regressor/latest")
	if err != nil {
		t.Fatal(err)
	}
	rc, err := store.Get(ctx, artifacts.BlobName(v.ModelDigest))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := ml.DecodeBundle(rc)
	if err != nil {
		t.Fatal(err)
	}
	g := &frame.Frame{Cols: append([]*frame.Column(nil), f.Cols...)}
	for _, d := range b.Derive {
		schema := map[string]frame.Kind{}
		for _, c := range g.Cols {
			schema[c.Name] = c.Kind
		}
		p, err := expr.Compile(d.Expr, schema)
		if err != nil {
			t.Fatal(err)
		}
		col, err := p.Eval(g)
		if err != nil {
			t.Fatal(err)
		}
		col.Name = d.Name
		g.Cols = append(g.Cols, col)
	}
	pred, err := b.Predict(g)
	if err != nil {
		t.Fatal(err)
	}
	return pred
}

// localStore opens the embedded runtime's store of a recipe directory.
func localStore(t *testing.T, dir string) artifacts.Store {
	t.Helper()
	store, err := local.New(filepath.Join(dir, stateDir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	return store
}

// readScoredOutput reads a scored output back: a file, or a directory's part
// files in order (which must hold a _SUCCESS marker).
func readScoredOutput(t *testing.T, path, using string) (*frame.Frame, int) {
	t.Helper()
	files := []string{path}
	if fi, err := os.Stat(path); err != nil {
		t.Fatal(err)
	} else if fi.IsDir() {
		if _, err := os.Stat(filepath.Join(path, "_SUCCESS")); err != nil {
			t.Fatalf("output directory without _SUCCESS: %v", err)
		}
		files, _ = filepath.Glob(filepath.Join(path, "part-*."+using))
	}
	var frames []*frame.Frame
	for _, p := range files {
		var f *frame.Frame
		var err error
		if using == "csv" {
			f, err = frame.ReadCSVFile(p, frame.CSVOptions{})
		} else {
			f, err = frame.ReadParquetFile(p)
		}
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, f)
	}
	f, err := frame.Concat(frames...)
	if err != nil {
		t.Fatal(err)
	}
	return f, len(files)
}

// compareScored checks the output row for row: the input columns as they
// were, then the prediction equal to the in-process one.
func compareScored(t *testing.T, got, in *frame.Frame, want []float64, csv bool) {
	t.Helper()
	if got.Len() != in.Len() {
		t.Fatalf("output has %d rows, input %d", got.Len(), in.Len())
	}
	names := append(in.Names(), "prediction")
	if strings.Join(got.Names(), ",") != strings.Join(names, ",") {
		t.Fatalf("output columns %v, want %v", got.Names(), names)
	}
	pred, _ := got.Col("prediction")
	for i := range want {
		if d := math.Abs(pred.Float(i) - want[i]); d > 1e-9*math.Max(1, math.Abs(want[i])) {
			t.Fatalf("row %d: prediction %v, in-process %v", i, pred.Float(i), want[i])
		}
	}
	for _, c := range in.Cols {
		g, _ := got.Col(c.Name)
		for i := range in.Len() {
			a, b := fmt.Sprint(c.Value(i)), fmt.Sprint(g.Value(i))
			if csv && c.Kind == frame.Time {
				continue // csv carries timestamps as text; their parse is frame's own test
			}
			if a != b {
				t.Fatalf("row %d column %s: %s, input has %s", i, c.Name, b, a)
			}
		}
	}
}

// predictManifests counts predict's committed manifests (one per scored
// shard, one per commit).
func predictManifests(t *testing.T, dir string) int {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, stateDir, "store", "steps", "predict", "*", "manifest.json"))
	return len(m)
}

// TestBatchScoring scores three files cut into shards of row groups, to a
// parquet file, a csv file and a directory of parts, and compares every
// output row for row with in-process predictions; then re-scores after one
// file changed (only its shards run) and checks the bad-input paths.
func TestBatchScoring(t *testing.T) {
	dir := copyExample(t)
	if code, _, stderr := runJSON(t, dir); code != 0 {
		t.Fatalf("training: exit %d\n%s", code, stderr)
	}
	// 3 files of 300, 180 and 120 rows in row groups of 50, cut at 100 rows:
	// shards of 100,100,100 | 100,80 | 100,20 → 7 shards.
	in := writeScoringFiles(t, dir, 50, 300, 180, 120)
	want := expectedPredictions(t, localStore(t, dir), in)
	const shards = 7

	cases := []struct {
		name, using, output string
		files               int
	}{
		{"parquet file", "parquet", "out/scored.parquet", 1},
		{"csv file", "csv", "out/scored.csv", 1},
		{"parquet directory", "parquet", "out/parquet-dir", shards},
		{"csv directory", "csv", "out/csv-dir/", shards},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			writeBatchProfile(t, dir, tc.using, tc.output, "overwrite")
			code, rep, stderr := runJSON(t, dir, "--profile", "batch", "--step", "predict", "--shard-rows", "100")
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			p := statuses(rep)
			if i == 0 && (p["ingest_scoring"] != "ran" || p["predict"] != "ran") {
				t.Fatalf("statuses %v", p)
			}
			for _, s := range rep.Steps {
				if s.Name == "predict" && (s.Metrics["shards"] != shards || s.Metrics["rows_scored"] != float64(in.Len())) {
					t.Fatalf("predict metrics %v, want %d shards and %d rows", s.Metrics, shards, in.Len())
				}
			}
			got, files := readScoredOutput(t, filepath.Join(dir, tc.output), tc.using)
			if files != tc.files {
				t.Fatalf("%d output files, want %d", files, tc.files)
			}
			compareScored(t, got, in, want, tc.using == "csv")
			if tmp, _ := filepath.Glob(filepath.Join(dir, "out", "*.tmp-*")); len(tmp) > 0 {
				t.Fatalf("temporary output left behind: %v", tmp)
			}
		})
	}
	// All four runs scored the same shards: 7 shard manifests and one commit
	// manifest per output location (the location is in predict's key).
	if n := predictManifests(t, dir); n != shards+len(cases) {
		t.Fatalf("%d predict manifests, want %d shards + %d commits", n, shards, len(cases))
	}

	t.Run("a changed file re-scores only its shards", func(t *testing.T) {
		all, err := frame.ReadParquetFile(filepath.Join(dir, "data", "sample.parquet"))
		if err != nil {
			t.Fatal(err)
		}
		writeParquet(t, filepath.Join(dir, "score", "c.parquet"), all.Slice(600, 720), 50) // other rows, same count
		writeBatchProfile(t, dir, "parquet", "out/scored.parquet", "overwrite")
		before := predictManifests(t, dir)
		code, rep, stderr := runJSON(t, dir, "--profile", "batch", "--step", "predict", "--shard-rows", "100")
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		if p := statuses(rep); p["ingest_scoring"] != "ran" || p["predict"] != "ran" {
			t.Fatalf("statuses %v", p)
		}
		// c.parquet's two shards and one commit are new; the five other shards were reused.
		if n := predictManifests(t, dir) - before; n != 3 {
			t.Fatalf("%d new predict manifests, want 2 shards + 1 commit", n)
		}
		in2, err := frame.Concat(in.Slice(0, 480), all.Slice(600, 720))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := readScoredOutput(t, filepath.Join(dir, "out", "scored.parquet"), "parquet")
		compareScored(t, got, in2, expectedPredictions(t, localStore(t, dir), in2), false)
	})

	t.Run("save_mode error refuses an existing output before anything runs", func(t *testing.T) {
		writeBatchProfile(t, dir, "parquet", "out/parquet-dir", "error")
		before, _ := os.ReadFile(filepath.Join(dir, "out", "parquet-dir", "part-00000.parquet"))
		code, _, stderr := runJSON(t, dir, "--profile", "batch", "--step", "predict", "--shard-rows", "100")
		if code != exitBadInput || !strings.Contains(stderr, "exists and save_mode is error") {
			t.Fatalf("exit %d, want %d with the reason\n%s", code, exitBadInput, stderr)
		}
		after, _ := os.ReadFile(filepath.Join(dir, "out", "parquet-dir", "part-00000.parquet"))
		if !bytes.Equal(before, after) || len(after) == 0 {
			t.Fatal("the existing output changed")
		}
	})

	t.Run("sous predict --format json reports for scripts", func(t *testing.T) {
		code, out, stderr := sous(t, "predict", "-C", dir, "--model", "models:/taxi_fare_regressor/latest",
			"--input", filepath.Join(dir, "score"), "--output", filepath.Join(dir, "out", "cli.csv"), "--format", "json")
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		var rep runReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, out)
		}
		if rep.Status != "succeeded" || len(rep.Steps) != 2 {
			t.Fatalf("report %+v", rep)
		}
		got, _ := readScoredOutput(t, filepath.Join(dir, "out", "cli.csv"), "csv")
		if got.Len() != 600 {
			t.Fatalf("%d rows scored, want 600", got.Len())
		}
	})

	t.Run("a file that does not fit the model names every problem", func(t *testing.T) {
		f := in.Slice(0, 10)
		var cols []*frame.Column
		for _, c := range f.Cols {
			switch c.Name {
			case "trip_distance": // missing
			case "tpep_pickup_datetime": // a string instead of a timestamp
				s := make([]string, f.Len())
				for i := range s {
					s[i] = fmt.Sprint(c.Value(i))
				}
				cols = append(cols, frame.NewStringColumn(c.Name, s))
			default:
				cols = append(cols, c)
			}
		}
		bad := t.TempDir()
		writeParquet(t, filepath.Join(bad, "bad.parquet"), &frame.Frame{Cols: cols}, 50)
		writeBatchProfile(t, dir, "parquet", "out/never.parquet", "overwrite")
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		var stdout, stderr bytes.Buffer
		code := Main(ctx, []string{"predict", "-C", dir, "--model", "models:/taxi_fare_regressor/latest",
			"--input", filepath.Join(bad, "bad.parquet"), "--output", filepath.Join(dir, "out", "never.parquet")}, &stdout, &stderr)
		if code != exitFailed {
			t.Fatalf("exit %d, want %d\n%s%s", code, exitFailed, stdout.String(), stderr.String())
		}
		msg := stdout.String() + stderr.String()
		for _, w := range []string{"trip_distance (float) is missing", "tpep_pickup_datetime is string, the model needs timestamp"} {
			if !strings.Contains(msg, w) {
				t.Errorf("the error does not say %q:\n%s", w, msg)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "out", "never.parquet")); !os.IsNotExist(err) {
			t.Fatalf("output written for a failed run: %v", err)
		}
	})
}

// TestBatchScoringToS3 writes scored data to s3:// locations (a directory
// of parts with _SUCCESS, replacing a longer earlier output, and one csv
// object) and reads them back from MinIO.
func TestBatchScoringToS3(t *testing.T) {
	srv, dir := trainedWithMinio(t)
	in := writeScoringFiles(t, dir, 50, 300, 180, 120)
	want := expectedPredictions(t, localStore(t, dir), in)
	prefix := miniotest.Prefix(t)
	bucket := srv.StoreURL(prefix)
	ctx := context.Background()
	st, err := s3.New(ctx, srv.Config(prefix))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	read := func(t *testing.T, name, using string) *frame.Frame {
		t.Helper()
		rc, err := st.Get(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(rc); err != nil {
			t.Fatal(err)
		}
		if using == "csv" {
			f, err := frame.ReadCSV(&buf, name, frame.CSVOptions{})
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
		r, err := frame.OpenParquet(bytes.NewReader(buf.Bytes()), int64(buf.Len()), name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := r.ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	list := func(t *testing.T, under string) []string {
		t.Helper()
		infos, err := st.List(ctx, under)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, i := range infos {
			names = append(names, strings.TrimPrefix(i.Name, under))
		}
		return names
	}

	// Eight shards first (with a fourth file), then seven: the extra part must go.
	writeParquet(t, filepath.Join(dir, "score", "d.parquet"), in.Slice(0, 40), 50)
	for _, extra := range []bool{true, false} {
		if !extra {
			if err := os.Remove(filepath.Join(dir, "score", "d.parquet")); err != nil {
				t.Fatal(err)
			}
		}
		writeBatchProfile(t, dir, "parquet", bucket+"scored/", "overwrite")
		if code, _, stderr := runJSON(t, dir, "--profile", "batch", "--step", "predict", "--shard-rows", "100"); code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
		if n := len(list(t, "scored/")); extra && n != 9 {
			t.Fatalf("%d objects, want 8 parts and _SUCCESS", n)
		}
	}
	names := list(t, "scored/")
	if len(names) != 8 || names[0] != "_SUCCESS" { // listed in name order
		t.Fatalf("objects %v, want 7 parts and _SUCCESS", names)
	}
	var frames []*frame.Frame
	for _, n := range names[1:] {
		frames = append(frames, read(t, "scored/"+n, "parquet"))
	}
	got, err := frame.Concat(frames...)
	if err != nil {
		t.Fatal(err)
	}
	compareScored(t, got, in, want, false)

	writeBatchProfile(t, dir, "csv", bucket+"one/scored.csv", "overwrite")
	if code, _, stderr := runJSON(t, dir, "--profile", "batch", "--step", "predict"); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	compareScored(t, read(t, "one/scored.csv", "csv"), in, want, true)

	writeBatchProfile(t, dir, "csv", bucket+"one/scored.csv", "error")
	code, _, stderr := runJSON(t, dir, "--profile", "batch", "--step", "predict")
	if code != exitBadInput || !strings.Contains(stderr, "exists and save_mode is error") {
		t.Fatalf("save_mode error on an existing object: exit %d\n%s", code, stderr)
	}
}

// TestBatchScoringFromS3 scores parquet objects read in place from MinIO
// (by range: the files never go through the store), then re-scores after
// one object was replaced: only its shards run again.
func TestBatchScoringFromS3(t *testing.T) {
	srv, dir := trainedWithMinio(t)
	in := writeScoringFiles(t, dir, 50, 300, 180, 120)
	ctx := context.Background()
	prefix := miniotest.Prefix(t)
	st, err := s3.New(ctx, srv.Config(prefix))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	upload := func(name string) {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(dir, "score", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Put(ctx, "in/"+name, bytes.NewReader(data), int64(len(data))); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"a.parquet", "b.parquet", "c.parquet"} {
		upload(name)
	}
	if err := st.Put(ctx, "in/_SUCCESS", strings.NewReader(""), 0); err != nil { // skipped, as in a directory
		t.Fatal(err)
	}
	writeBatchProfileFrom(t, dir, srv.StoreURL(prefix)+"in/", "parquet", "out/scored.parquet", "overwrite")
	code, rep, stderr := runJSON(t, dir, "--profile", "batch", "--step", "predict", "--shard-rows", "100")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, s := range rep.Steps {
		if s.Name == "predict" && s.Metrics["shards"] != 7 {
			t.Fatalf("predict metrics %v, want 7 shards", s.Metrics)
		}
	}
	got, _ := readScoredOutput(t, filepath.Join(dir, "out", "scored.parquet"), "parquet")
	compareScored(t, got, in, expectedPredictions(t, localStore(t, dir), in), false)
	if blobs, _ := filepath.Glob(filepath.Join(dir, stateDir, "store", "objects", "*")); len(blobs) == 0 {
		t.Fatal("no objects in the store at all")
	}

	all, err := frame.ReadParquetFile(filepath.Join(dir, "data", "sample.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	writeParquet(t, filepath.Join(dir, "score", "b.parquet"), all.Slice(800, 980), 50)
	upload("b.parquet")
	before := predictManifests(t, dir)
	if code, _, stderr := runJSON(t, dir, "--profile", "batch", "--step", "predict", "--shard-rows", "100"); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if n := predictManifests(t, dir) - before; n != 3 {
		t.Fatalf("%d new predict manifests, want b's 2 shards + 1 commit", n)
	}
	in2, err := frame.Concat(in.Slice(0, 300), all.Slice(800, 980), in.Slice(480, 600))
	if err != nil {
		t.Fatal(err)
	}
	got, _ = readScoredOutput(t, filepath.Join(dir, "out", "scored.parquet"), "parquet")
	compareScored(t, got, in2, expectedPredictions(t, localStore(t, dir), in2), false)
}
