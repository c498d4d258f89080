package steps

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sous-ml/sous/artifacts/local"
	"github.com/sous-ml/sous/proto"
	"github.com/sous-ml/sous/recipes"
	"github.com/sous-ml/sous/recipes/frame"
	"github.com/sous-ml/sous/recipes/ml"
	"github.com/sous-ml/sous/worker"
)

// env returns a worker environment over a fresh local store.
func env(t *testing.T) *worker.Env {
	t.Helper()
	s, err := local.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &worker.Env{Store: s, TempDir: t.TempDir()}
}

func jobConfig(t *testing.T, settings any) *recipes.JobConfig {
	t.Helper()
	data, err := json.Marshal(settings)
	if err != nil {
		t.Fatal(err)
	}
	return &recipes.JobConfig{Template: recipes.TemplateRegression, TargetCol: "y", Settings: data}
}

func TestSplitAssignmentDoesNotDependOnRowOrder(t *testing.T) {
	n := 5000
	x := make([]float64, n)
	s := make([]string, n)
	for i := range n {
		x[i] = float64(i) * 0.5
		s[i] = []string{"a", "b", "c"}[i%3]
	}
	f := &frame.Frame{Cols: []*frame.Column{frame.NewFloatColumn("x", x), frame.NewStringColumn("s", s)}}
	ratios := []float64{0.75, 0.125, 0.125}
	byValue := map[float64]int{}
	counts := [3]int{}
	for i, h := range rowHashes(f) {
		k := assign(h, ratios)
		byValue[x[i]] = k
		counts[k]++
	}
	// Roughly the ratios.
	if counts[0] < 3500 || counts[0] > 4000 || counts[1] < 450 || counts[2] < 450 {
		t.Fatalf("split counts %v for ratios %v", counts, ratios)
	}
	// Shuffled, and with its string dictionary in another order, every row lands in the same split.
	perm := rand.New(rand.NewPCG(1, 2)).Perm(n)
	xs := make([]float64, n)
	ss := make([]string, n)
	for i, j := range perm {
		xs[i], ss[i] = x[j], s[j]
	}
	g := &frame.Frame{Cols: []*frame.Column{frame.NewFloatColumn("x", xs), frame.NewStringColumn("s", ss)}}
	for i, h := range rowHashes(g) {
		if k := assign(h, ratios); k != byValue[xs[i]] {
			t.Fatalf("row x=%v: split %d after shuffling, %d before", xs[i], k, byValue[xs[i]])
		}
	}
}

func TestIngestCSVFromPandas(t *testing.T) {
	e := env(t)
	path := filepath.Join(t.TempDir(), "data.csv")
	// pandas' to_csv writes its index under an empty header; names may hold spaces.
	csv := ",trip distance,y,kind\n0,1.5,10,a\n1,,12.5,b\n2,3.0,NA,a\n"
	if err := os.WriteFile(path, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	job := &proto.Job{Step: "ingest", Sources: []proto.Source{localSource(t, path)}}
	out, err := ingest(context.Background(), job, jobConfig(t, recipes.IngestSettings{Using: "csv", Header: true}), e)
	if err != nil {
		t.Fatal(err)
	}
	job = &proto.Job{Step: "split", Inputs: out.Outputs}
	f, err := readTable(context.Background(), job, e, "ingested_data")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.Names(), "|"); got != "Unnamed: 0|trip distance|y|kind" {
		t.Fatalf("columns %q", got)
	}
	td, _ := f.Col("trip distance")
	y, _ := f.Col("y")
	if td.Kind != frame.Float || !td.IsNull(1) || y.Kind != frame.Float || !y.IsNull(2) {
		t.Fatalf("kinds/nulls: %v %v", td.Kind, y.Kind)
	}
}

func TestIngestRejectsBadTarget(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.csv")
	if err := os.WriteFile(path, []byte("x,y\n1,a\n2,b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ target, want string }{
		{"z", `target column "z" is not in ` + path},
		{"y", `is a string column; regression/v1 needs a numeric target`},
	}
	for _, tc := range cases {
		cfg := jobConfig(t, recipes.IngestSettings{Using: "csv", Header: true})
		cfg.TargetCol = tc.target
		_, err := ingest(context.Background(), &proto.Job{Step: "ingest", Sources: []proto.Source{localSource(t, path)}}, cfg, env(t))
		var perm *worker.PermanentError
		if !errors.As(err, &perm) || perm.Code != proto.CodeBadInput || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("target %s: %v, want a bad-input error containing %q", tc.target, err, tc.want)
		}
	}
}

func TestCheckSchemaNamesEveryProblem(t *testing.T) {
	b := &ml.Bundle{InputSchema: []ml.Field{{Name: "a", Kind: "float"}, {Name: "b", Kind: "timestamp"}, {Name: "c", Kind: "string"}}}
	f := &frame.Frame{Cols: []*frame.Column{frame.NewIntColumn("a", []int64{1}), frame.NewFloatColumn("b", []float64{1})}}
	err := checkSchema(b, f.Schema())
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"b is float, the model needs timestamp", "c (string) is missing"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "a is") || strings.Contains(err.Error(), "a (") {
		t.Errorf("an int column for a float input is fine: %v", err)
	}
}

// localSource describes a file as the coordinator would, with its digest.
func localSource(t *testing.T, path string) proto.Source {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return proto.Source{Name: path, URI: path, Digest: hex.EncodeToString(sum[:]), Size: int64(len(data))}
}

func TestIngestRefusesAFileChangedSinceSubmission(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.csv")
	if err := os.WriteFile(path, []byte("x,y\n1,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := localSource(t, path)
	if err := os.WriteFile(path, []byte("x,y\n1,3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ingest(context.Background(), &proto.Job{Step: "ingest", Sources: []proto.Source{src}}, jobConfig(t, recipes.IngestSettings{Using: "csv", Header: true}), env(t))
	if err == nil || !strings.Contains(err.Error(), "changed since the run was submitted") {
		t.Fatalf("err %v", err)
	}
}

func TestRefusesJobsForOtherStepCode(t *testing.T) {
	job := &proto.Job{Step: "split", KeyDoc: json.RawMessage(`{"impl": "0-old"}`), Config: json.RawMessage(`{}`)}
	_, err := execute(context.Background(), job, env(t))
	var retry *worker.RetryError
	if !errors.As(err, &retry) || !strings.Contains(err.Error(), `version "0-old"`) {
		t.Fatalf("err %v, want a retry naming the versions", err)
	}
}

func TestPredictionColumnResultTypes(t *testing.T) {
	pred := []float64{1.4, 2.6}
	cases := []struct {
		resultType string
		kind       frame.Kind
		want       string
	}{
		{"double", frame.Float, "1.4"},
		{"", frame.Float, "1.4"},
		{"int", frame.Int, "1"},
		{"string", frame.String, "1.4"},
	}
	for _, tc := range cases {
		c := predictionColumn(pred, tc.resultType)
		if c.Kind != tc.kind || c.Str(0) != tc.want || c.Name != "prediction" {
			t.Errorf("%q: %s %q", tc.resultType, c.Kind, c.Str(0))
		}
	}
}
