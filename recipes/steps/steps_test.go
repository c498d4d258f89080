package steps

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
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

// classificationSplits reads the iris example and splits it by row number
// (i%5 == 3 validation, i%5 == 4 test, the rest training; iris is sorted by
// class, so every split has every class), storing the three tables.
func classificationSplits(t *testing.T, e *worker.Env) (map[string]proto.ArtifactRef, *frame.Frame) {
	t.Helper()
	f, err := frame.ReadCSVFile(filepath.Join("..", "..", "examples", "iris", "data", "iris.csv"), frame.CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var parts [3][]int
	for i := range f.Len() {
		switch i % 5 {
		case 3:
			parts[1] = append(parts[1], i)
		case 4:
			parts[2] = append(parts[2], i)
		default:
			parts[0] = append(parts[0], i)
		}
	}
	refs := map[string]proto.ArtifactRef{}
	for k, name := range []string{"training_data", "validation_data", "test_data"} {
		if refs[name], err = writeTable(context.Background(), e, name, f.Take(parts[k])); err != nil {
			t.Fatal(err)
		}
	}
	return refs, f.Take(parts[2])
}

// runClassification runs transform, train and evaluate of a classification/v1
// recipe on the stored splits and returns the outputs of train and evaluate.
func runClassification(t *testing.T, e *worker.Env, splits map[string]proto.ArtifactRef, ts recipes.TrainSettings) (trainOut, evalOut *worker.Output, err error) {
	t.Helper()
	ctx := context.Background()
	cfg := func(settings any) *recipes.JobConfig {
		c := jobConfig(t, settings)
		c.Template, c.TargetCol, c.PrimaryMetric = recipes.TemplateClassification, "class", "log_loss"
		return c
	}
	tf, err := transform(ctx, &proto.Job{Step: "transform", Inputs: splits}, cfg(recipes.TransformSettings{
		Using:   "columns",
		Columns: []recipes.ColumnGroup{{Name: []string{"sepal length", "sepal width", "petal length", "petal width"}, Transformer: "standard_scaler"}},
	}), e)
	if err != nil {
		t.Fatal(err)
	}
	inputs := map[string]proto.ArtifactRef{"transformer": tf.Outputs["transformer"]}
	for k, v := range splits {
		inputs[k] = v
	}
	if trainOut, err = train(ctx, &proto.Job{Step: "train", Inputs: inputs}, cfg(ts), e); err != nil {
		return nil, nil, err
	}
	inputs["model"] = trainOut.Outputs["model"]
	evalOut, err = evaluate(ctx, &proto.Job{Step: "evaluate", Inputs: inputs}, cfg(recipes.EvaluateSettings{}), e)
	if err != nil {
		t.Fatal(err)
	}
	return trainOut, evalOut, nil
}

// TestTrainCalibratesProbabilities trains a depth-2 decision tree on iris
// with and without calibrate_proba. A tree's leaf frequencies are
// overconfident (probabilities of 0 and 1), which calibration on the
// validation split softens: the log loss changes, on validation (where the
// calibrator was fitted) it goes down, and evaluate, which reads the model
// bundle, sees calibrated probabilities too. The scored columns
// predicted_score_<class> of every row still sum to 1, and the card says how
// the model was calibrated.
func TestTrainCalibratesProbabilities(t *testing.T) {
	t.Parallel()
	e := env(t)
	splits, test := classificationSplits(t, e)
	settings := func(method recipes.Calibration) recipes.TrainSettings {
		return recipes.TrainSettings{
			Estimator:             "decision_tree",
			EstimatorParams:       map[string]any{"max_depth": int64(2)},
			RebalanceTrainingData: true,
			CalibrateProba:        method,
		}
	}
	plainTrain, plainEval, err := runClassification(t, e, splits, settings(""))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plainTrain.Summary, "calibration") {
		t.Errorf("uncalibrated summary mentions calibration:\n%s", plainTrain.Summary)
	}
	for _, tc := range []struct {
		method  recipes.Calibration
		summary string
	}{
		{recipes.CalibrateSigmoid, "calibration    sigmoid on 30 validation rows, log_loss "},
		{recipes.CalibrateIsotonic, "calibration    isotonic on 30 validation rows, log_loss "},
	} {
		t.Run(string(tc.method), func(t *testing.T) {
			t.Parallel()
			trainOut, evalOut, err := runClassification(t, e, splits, settings(tc.method))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(trainOut.Summary, tc.summary) {
				t.Errorf("train summary does not say %q:\n%s", tc.summary, trainOut.Summary)
			}
			for _, m := range []string{"val_log_loss", "test_log_loss"} {
				if evalOut.Metrics[m] == plainEval.Metrics[m] {
					t.Errorf("%s is %v with and without calibration", m, evalOut.Metrics[m])
				}
			}
			if got, was := evalOut.Metrics["val_log_loss"], plainEval.Metrics["val_log_loss"]; !(got < was) {
				t.Errorf("val_log_loss %v calibrated, %v not: calibration fitted on validation did not lower it", got, was)
			}
			if trainOut.Metrics["val_log_loss"] != evalOut.Metrics["val_log_loss"] {
				t.Errorf("train and evaluate disagree on val_log_loss: %v, %v", trainOut.Metrics["val_log_loss"], evalOut.Metrics["val_log_loss"])
			}
			t.Logf("%s\ntest_log_loss %.4g → %.4g, val_log_loss %.4g → %.4g", trainOut.Summary, plainEval.Metrics["test_log_loss"], evalOut.Metrics["test_log_loss"],
				plainEval.Metrics["val_log_loss"], evalOut.Metrics["val_log_loss"])

			b, err := readModel(context.Background(), &proto.Job{Step: "predict", Inputs: trainOut.Outputs}, e)
			if err != nil {
				t.Fatal(err)
			}
			if b.Calibrator == nil || b.Calibrator.Method != string(tc.method) || b.FormatVersion != 2 {
				t.Fatalf("bundle format %d, calibrator %+v", b.FormatVersion, b.Calibrator)
			}
			est, err := b.Model()
			if err != nil {
				t.Fatal(err)
			}
			scored, _, err := scoreBatch(b, est, test, "double")
			if err != nil {
				t.Fatal(err)
			}
			var cols []*frame.Column
			for _, l := range b.ClassLabels {
				c, ok := scored.Col("predicted_score_" + l)
				if !ok {
					t.Fatalf("no predicted_score_%s in %v", l, scored.Names())
				}
				cols = append(cols, c)
			}
			softened := false
			for i := range scored.Len() {
				var sum float64
				for _, c := range cols {
					sum += c.Float(i)
					softened = softened || c.Float(i) > 0 && c.Float(i) < 1
				}
				if math.Abs(sum-1) > 1e-12 {
					t.Fatalf("row %d: predicted scores sum to %v", i, sum)
				}
			}
			if !softened {
				t.Error("every calibrated score is 0 or 1")
			}
		})
	}
}

// TestTrainCalibrationNeedsEveryClassInValidation: the calibrator is fitted
// on the validation split, so one without some class is a bad-input error
// naming the class, and an uncalibrated model trains on the same data.
func TestTrainCalibrationNeedsEveryClassInValidation(t *testing.T) {
	t.Parallel()
	e := env(t)
	splits, _ := classificationSplits(t, e)
	f, err := readTable(context.Background(), &proto.Job{Step: "train", Inputs: splits}, e, "validation_data")
	if err != nil {
		t.Fatal(err)
	}
	class, _ := f.Col("class")
	var keep []int
	for i := range f.Len() {
		if class.Str(i) != "virginica" {
			keep = append(keep, i)
		}
	}
	if splits["validation_data"], err = writeTable(context.Background(), e, "validation_data", f.Take(keep)); err != nil {
		t.Fatal(err)
	}
	s := recipes.TrainSettings{Estimator: "decision_tree", EstimatorParams: map[string]any{"max_depth": int64(2)}, CalibrateProba: recipes.CalibrateSigmoid}
	_, _, err = runClassification(t, e, splits, s)
	var perm *worker.PermanentError
	if !errors.As(err, &perm) || perm.Code != proto.CodeBadInput || !strings.Contains(err.Error(), `calibrate_proba: the validation split has no rows of class "virginica"`) {
		t.Fatalf("err %v, want a bad-input error naming the class", err)
	}
	s.CalibrateProba = ""
	if _, _, err := runClassification(t, e, splits, s); err != nil {
		t.Fatalf("uncalibrated: %v", err)
	}
}
