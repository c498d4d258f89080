package recipes_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"go.uber.org/goleak"

	"github.com/sous-ml/sous/recipes"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const exampleDir = "../examples/nyc-taxi"

// wantErr describes one expected *recipes.Error.
type wantErr struct {
	file    string
	line    int
	key     string
	msg     string // substring of Msg
	allowed []string
	suggest string
}

func (w wantErr) check(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want %s:%d: %s: %s", w.file, w.line, w.key, w.msg)
	}
	var list recipes.Errors
	if errors.As(err, &list) {
		t.Fatalf("got %d errors, want exactly one:\n%v", len(list), err)
	}
	var e *recipes.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *recipes.Error", err, err)
	}
	w.match(t, e)
}

func (w wantErr) match(t *testing.T, e *recipes.Error) {
	t.Helper()
	if e.File != w.file || e.Line != w.line || e.Key != w.key {
		t.Errorf("error at %s:%d key %q, want %s:%d key %q\n(%v)", e.File, e.Line, e.Key, w.file, w.line, w.key, e)
	}
	if !strings.Contains(e.Msg, w.msg) {
		t.Errorf("message %q does not contain %q", e.Msg, w.msg)
	}
	if !slices.Equal(e.Allowed, w.allowed) {
		t.Errorf("allowed %q, want %q", e.Allowed, w.allowed)
	}
	if e.Suggest != w.suggest {
		t.Errorf("suggestion %q, want %q", e.Suggest, w.suggest)
	}
}

var (
	topKeys = []string{"recipe", "target_col", "positive_class", "primary_metric", "steps",
		"custom_metrics", "experiment", "model_registry"}
	stepNames          = []string{"ingest", "split", "transform", "train", "evaluate", "register", "ingest_scoring", "predict"}
	calibrationMethods = []string{"sigmoid", "isotonic"}
)

func TestLoadFixtureErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		dir     string
		profile string
		want    wantErr
	}{
		{dir: "unknown_top_level_key", want: wantErr{
			file: "recipe.yaml", line: 3, key: "primary_metrc", msg: "unknown key",
			allowed: topKeys, suggest: "primary_metric"}},
		{dir: "unknown_step", want: wantErr{
			file: "recipe.yaml", line: 18, key: "steps.regster", msg: "unknown key",
			allowed: stepNames, suggest: "register"}},
		{dir: "unknown_step_setting", want: wantErr{
			file: "recipe.yaml", line: 6, key: "steps.split.split_ratio", msg: "unknown key",
			allowed: []string{"split_ratios", "post_split_filter"}, suggest: "split_ratios"}},
		{dir: "wrong_type", want: wantErr{
			file: "recipe.yaml", line: 6, key: "steps.split.split_ratios",
			msg: `want a list of 3 positive numbers (training, validation, test), got the string "abc"`}},
		{dir: "ratios_sum", want: wantErr{
			file: "recipe.yaml", line: 6, key: "steps.split.split_ratios", msg: "must sum to 1, got 1.1"}},
		{dir: "undefined_variable", want: wantErr{
			file: "recipe.yaml", line: 4, key: "steps.ingest", msg: `undefined variable "INGEST_CONFG"`,
			allowed: []string{"INGEST_CONFIG", "model_registry"}, suggest: "INGEST_CONFIG"}},
		{dir: "bad_estimator", want: wantErr{
			file: "recipe.yaml", line: 12, key: "steps.train.estimator", msg: `unknown value "ridgee"`,
			allowed: []string{"linear_regression", "ridge", "lasso", "elastic_net", "decision_tree", "random_forest", "gbdt"},
			suggest: "ridge"}},
		{dir: "bad_calibration", want: wantErr{
			file: "recipe.yaml", line: 13, key: "steps.train.calibrate_proba", msg: `unknown value "platt"`,
			allowed: calibrationMethods}},
		{dir: "bad_estimator_param", want: wantErr{
			file: "recipe.yaml", line: 13, key: "steps.train.estimator_params.alpah", msg: "unknown parameter of ridge",
			allowed: []string{"alpha", "fit_intercept"}, suggest: "alpha"}},
		{dir: "duplicate_column", want: wantErr{
			file: "recipe.yaml", line: 11, key: "steps.transform.columns[1].name",
			msg: `column "b" is already in steps.transform.columns[0] (line 9)`}},
		{dir: "target_in_group", want: wantErr{
			file: "recipe.yaml", line: 9, key: "steps.transform.columns[0].name",
			msg: `"y" is the target column; the target is never a feature`}},
		{dir: "custom_metrics", want: wantErr{
			file: "recipe.yaml", line: 19, key: "custom_metrics",
			msg: "custom_metrics need extensions, which this version of sous does not support yet"}},
		{dir: "missing_recipe_key", want: wantErr{
			file: "recipe.yaml", line: 0, key: "target_col", msg: "missing required key"}},
		{dir: "missing_profile", profile: "prod", want: wantErr{
			file: "profiles/prod.yaml", msg: `profile "prod" not found`, allowed: []string{"dev", "local"}}},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			t.Parallel()
			_, err := recipes.Load(os.DirFS(filepath.Join("testdata", tt.dir)), tt.profile)
			tt.want.check(t, err)
		})
	}
}

func TestErrorString(t *testing.T) {
	t.Parallel()
	_, err := recipes.Load(os.DirFS("testdata/unknown_step_setting"), "")
	want := `recipe.yaml:6: steps.split.split_ratio: unknown key; allowed: split_ratios, post_split_filter; did you mean "split_ratios"?`
	if err == nil || err.Error() != want {
		t.Fatalf("error\n%v\nwant\n%s", err, want)
	}
	_, err = recipes.Load(os.DirFS("testdata/missing_profile"), "prod")
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing profile error %v does not wrap fs.ErrNotExist", err)
	}
}

func TestLoadFixturesOK(t *testing.T) {
	t.Parallel()
	for _, dir := range []string{"ok", "default_list", "comment_not_rendered"} {
		t.Run(dir, func(t *testing.T) {
			t.Parallel()
			r, err := recipes.Load(os.DirFS(filepath.Join("testdata", dir)), "")
			if err != nil {
				t.Fatal(err)
			}
			want := [3]float64{0.75, 0.125, 0.125}
			if dir == "default_list" {
				want = [3]float64{0.5, 0.25, 0.25}
			}
			if r.Split.SplitRatios != want {
				t.Errorf("split ratios %v, want %v", r.Split.SplitRatios, want)
			}
		})
	}
}

func TestLoadExample(t *testing.T) {
	t.Parallel()
	r, err := recipes.Load(os.DirFS(exampleDir), "")
	if err != nil {
		t.Fatal(err)
	}
	if r.Template != recipes.TemplateRegression || r.TargetCol != "fare_amount" ||
		r.PrimaryMetric != "root_mean_squared_error" || r.Profile != "local" {
		t.Errorf("recipe-level settings: %+v", r)
	}
	if r.Experiment.Name != "nyc-taxi" || r.ModelRegistry.ModelName != "taxi_fare_regressor" {
		t.Errorf("experiment %+v, registry %+v", r.Experiment, r.ModelRegistry)
	}
	if r.Ingest.Using != "parquet" || !slices.Equal(r.Ingest.Location, []string{"./data/sample.parquet"}) {
		t.Errorf("ingest %+v", r.Ingest)
	}
	if !slices.Equal(r.IngestScoring.Location, []string{"./data/test_sample.parquet"}) {
		t.Errorf("ingest_scoring %+v", r.IngestScoring)
	}
	if r.Split.SplitRatios != recipes.DefaultSplitRatios ||
		r.Split.PostSplitFilter != "fare_amount > 0 && fare_amount < 1000 && trip_distance > 0 && trip_distance < 400" {
		t.Errorf("split %+v", r.Split)
	}
	wantDerive := []recipes.Derived{
		{Name: "pickup_hour", Expr: "hour(tpep_pickup_datetime)"},
		{Name: "pickup_dow", Expr: "day_of_week(tpep_pickup_datetime)"},
		{Name: "trip_duration", Expr: "minutes(tpep_dropoff_datetime - tpep_pickup_datetime)"},
	}
	if !slices.Equal(r.Transform.Derive, wantDerive) {
		t.Errorf("derive %+v", r.Transform.Derive)
	}
	if len(r.Transform.Columns) != 2 ||
		!slices.Equal(r.Transform.Columns[0].Name, []string{"pickup_hour", "pickup_dow"}) ||
		r.Transform.Columns[0].Transformer != recipes.TransformerOneHot ||
		r.Transform.Columns[1].Transformer != recipes.TransformerStandardScaler ||
		r.Transform.Remainder != recipes.RemainderDrop {
		t.Errorf("transform %+v", r.Transform)
	}
	if r.Train.Estimator != recipes.EstimatorRidge || r.Train.EstimatorParams["alpha"] != 1.0 ||
		r.Train.EstimatorParams["fit_intercept"] != true {
		t.Errorf("train %+v", r.Train)
	}
	if !slices.Equal(r.Evaluate.ValidationCriteria, []recipes.ValidationCriterion{{Metric: "root_mean_squared_error", Threshold: 10}}) {
		t.Errorf("evaluate %+v", r.Evaluate)
	}
	if r.Register.AllowNonValidatedModel {
		t.Error("allow_non_validated_model is true")
	}
	if r.Predict.Output != (recipes.Output{Using: "parquet", Location: "./output/scored.parquet"}) ||
		r.Predict.ResultType != "double" || r.Predict.SaveMode != "overwrite" {
		t.Errorf("predict %+v", r.Predict)
	}
	// Rendering keeps every line where it was.
	src, err := os.ReadFile(filepath.Join(exampleDir, "recipe.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Count(string(r.RenderedRecipe), "\n"), strings.Count(string(src), "\n"); got != want {
		t.Errorf("rendered recipe has %d lines, source %d", got, want)
	}
	if !strings.Contains(string(r.RenderedRecipe), "  ingest: {using: parquet, location: ./data/sample.parquet}\n") {
		t.Errorf("rendered recipe:\n%s", r.RenderedRecipe)
	}
}

// mapFS builds a recipe directory from recipe.yaml and profiles/local.yaml.
func mapFS(recipe, profile string) fstest.MapFS {
	return fstest.MapFS{
		"recipe.yaml":         {Data: []byte(recipe)},
		"profiles/local.yaml": {Data: []byte(profile)},
	}
}

const baseProfile = "model_registry: {model_name: m}\nINGEST_CONFIG: {using: parquet, location: ./data/x.parquet}\n"

func TestLoadInlineErrors(t *testing.T) {
	t.Parallel()
	const head = "recipe: regression/v1\ntarget_col: y\nsteps:\n"
	const classHead = "recipe: classification/v1\ntarget_col: y\nsteps:\n"
	tests := []struct {
		name    string
		recipe  string
		profile string
		want    wantErr
	}{
		{
			name:    "value from the profile names its source",
			recipe:  head + "  ingest: {{INGEST_CONFIG}}\n",
			profile: "INGEST_CONFIG:\n  using: parket\n  location: x.parquet\n",
			want: wantErr{file: "recipe.yaml", line: 4, key: "steps.ingest.using",
				msg:     `unknown value "parket" (this line uses INGEST_CONFIG from profiles/local.yaml:1)`,
				allowed: []string{"parquet", "csv"}, suggest: "parquet"},
		},
		{
			name:   "yaml syntax",
			recipe: head + "  split:\n    split_ratios: [0.5, 0.25\n  train: {}\n",
			want:   wantErr{file: "recipe.yaml", line: 5, msg: "invalid YAML"},
		},
		{
			name:   "duplicate key",
			recipe: head + "  register: {}\n  register: {}\n",
			want:   wantErr{file: "recipe.yaml", line: 5, key: "steps.register", msg: "duplicate key (first at line 4)"},
		},
		{
			name:   "unknown template",
			recipe: "recipe: regresion/v1\ntarget_col: y\n",
			want: wantErr{file: "recipe.yaml", line: 1, key: "recipe", msg: `unknown value "regresion/v1"`,
				allowed: []string{"regression/v1", "classification/v1"}, suggest: "regression/v1"},
		},
		{
			name:   "logistic regression in a regression recipe",
			recipe: head + "  train: {estimator: logistic_regression}\n",
			want: wantErr{file: "recipe.yaml", line: 4, key: "steps.train.estimator",
				msg:     "logistic_regression is a classifier; regression/v1 recipes may use",
				allowed: []string{"linear_regression", "ridge", "lasso", "elastic_net", "decision_tree", "random_forest", "gbdt"}},
		},
		{
			name:   "estimator param type",
			recipe: head + "  train: {estimator: ridge, estimator_params: {fit_intercept: 1}}\n",
			want: wantErr{file: "recipe.yaml", line: 4, key: "steps.train.estimator_params.fit_intercept",
				msg: "want true or false, got the number 1"},
		},
		{
			name:   "integer param",
			recipe: head + "  train:\n    estimator: random_forest\n    estimator_params:\n      n_estimators: 10.5\n",
			want: wantErr{file: "recipe.yaml", line: 7, key: "steps.train.estimator_params.n_estimators",
				msg: "want an integer, got 10.5"},
		},
		{
			name:   "param range",
			recipe: head + "  train: {estimator: ridge, estimator_params: {alpha: -1}}\n",
			want: wantErr{file: "recipe.yaml", line: 4, key: "steps.train.estimator_params.alpha",
				msg: "must be at least 0, got -1"},
		},
		{
			name:   "param enum",
			recipe: head + "  train: {estimator: gbdt, estimator_params: {loss: squared_eror}}\n",
			want: wantErr{file: "recipe.yaml", line: 4, key: "steps.train.estimator_params.loss",
				msg:     `unknown value "squared_eror"`,
				allowed: []string{"squared_error", "absolute_error"}, suggest: "squared_error"},
		},
		{
			name:   "gbdt alias given twice",
			recipe: head + "  train:\n    estimator: gbdt\n    estimator_params:\n      n_estimators: 10\n      max_iter: 20\n",
			want: wantErr{file: "recipe.yaml", line: 8, key: "steps.train.estimator_params.max_iter",
				msg: "n_estimators and max_iter are the same parameter (line 7)"},
		},
		{
			name:   "tuning",
			recipe: head + "  train:\n    estimator: ridge\n    tuning:\n      enabled: true\n",
			want: wantErr{file: "recipe.yaml", line: 7, key: "steps.train.tuning.enabled",
				msg: "hyperparameter tuning is not supported yet"},
		},
		{
			name:   "csv option on parquet",
			recipe: head + "  ingest: {using: parquet, location: x.parquet, sep: ';'}\n",
			want:   wantErr{file: "recipe.yaml", line: 4, key: "steps.ingest.sep", msg: "applies only to using: csv"},
		},
		{
			name:   "location scheme",
			recipe: head + "  ingest: {using: csv, location: 'gs://b/x.csv'}\n",
			want: wantErr{file: "recipe.yaml", line: 4, key: "steps.ingest.location",
				msg:     `unsupported URL scheme "gs"`,
				allowed: []string{"a file", "a directory", "a glob", "a list of these", "s3://bucket/key"}},
		},
		{
			name:   "unknown metric",
			recipe: head + "  evaluate:\n    validation_criteria:\n      - {metric: root_mean_square_error, threshold: 1}\n",
			want: wantErr{file: "recipe.yaml", line: 6, key: "steps.evaluate.validation_criteria[0].metric",
				msg: `unknown value "root_mean_square_error"`,
				allowed: []string{"mean_absolute_error", "mean_squared_error", "root_mean_squared_error", "max_error",
					"mean_absolute_percentage_error", "r2_score", "example_count", "mean_on_target", "sum_on_target"},
				suggest: "root_mean_squared_error"},
		},
		{
			name:   "positive_class in regression",
			recipe: "recipe: regression/v1\ntarget_col: y\npositive_class: 1\n",
			want:   wantErr{file: "recipe.yaml", line: 3, key: "positive_class", msg: "applies only to classification/v1 recipes"},
		},
		{
			name:   "classification setting in regression",
			recipe: head + "  train: {estimator: ridge, calibrate_proba: sigmoid}\n",
			want:   wantErr{file: "recipe.yaml", line: 4, key: "steps.train.calibrate_proba", msg: "applies only to classification/v1"},
		},
		{
			name:   "calibration method misspelt",
			recipe: classHead + "  train: {estimator: decision_tree, calibrate_proba: sigmod}\n",
			want: wantErr{file: "recipe.yaml", line: 4, key: "steps.train.calibrate_proba", msg: `unknown value "sigmod"`,
				allowed: calibrationMethods, suggest: "sigmoid"},
		},
		{
			name:   "calibration true names no method",
			recipe: classHead + "  train:\n    estimator: decision_tree\n    calibrate_proba: true\n",
			want: wantErr{file: "recipe.yaml", line: 6, key: "steps.train.calibrate_proba", msg: "want a calibration method, got true",
				allowed: calibrationMethods},
		},
		{
			name:   "calibration number",
			recipe: classHead + "  train: {estimator: decision_tree, calibrate_proba: 1}\n",
			want: wantErr{file: "recipe.yaml", line: 4, key: "steps.train.calibrate_proba", msg: `unknown value "1"`,
				allowed: calibrationMethods},
		},
		{
			name:   "calibration quoted false",
			recipe: classHead + "  train: {estimator: decision_tree, calibrate_proba: \"false\"}\n",
			want: wantErr{file: "recipe.yaml", line: 4, key: "steps.train.calibrate_proba", msg: `unknown value "false"`,
				allowed: calibrationMethods},
		},
		{
			name:   "regressor in classification",
			recipe: "recipe: classification/v1\ntarget_col: y\nsteps:\n  train: {estimator: ridge}\n",
			want: wantErr{file: "recipe.yaml", line: 4, key: "steps.train.estimator",
				msg:     "ridge is a regressor; classification/v1 recipes may use",
				allowed: []string{"logistic_regression", "decision_tree", "random_forest", "gbdt"}},
		},
		{
			name:   "binary metric in multiclass",
			recipe: "recipe: classification/v1\ntarget_col: y\nprimary_metric: roc_auc\n",
			want: wantErr{file: "recipe.yaml", line: 3, key: "primary_metric", msg: `unknown value "roc_auc"`,
				allowed: []string{"accuracy_score", "log_loss", "f1_score_macro", "f1_score_micro",
					"precision_score_macro", "recall_score_macro", "roc_auc_ovr"},
				suggest: "roc_auc_ovr"},
		},
		{
			name:   "transformer param",
			recipe: head + "  transform:\n    columns:\n      - {name: a, transformer: impute, params: {strategy: medain}}\n",
			want: wantErr{file: "recipe.yaml", line: 6, key: "steps.transform.columns[0].params.strategy",
				msg:     `unknown value "medain"`,
				allowed: []string{"mean", "median", "most_frequent", "constant"}, suggest: "median"},
		},
		{
			name:   "pair parameter order",
			recipe: head + "  transform:\n    columns:\n      - {name: a, transformer: min_max_scaler, params: {feature_range: [1, 0]}}\n",
			want: wantErr{file: "recipe.yaml", line: 6, key: "steps.transform.columns[0].params.feature_range",
				msg: "want [low, high] with low < high"},
		},
		{
			name:   "pair parameter range",
			recipe: head + "  transform:\n    columns:\n      - {name: a, transformer: robust_scaler, params: {quantile_range: [5, 101]}}\n",
			want: wantErr{file: "recipe.yaml", line: 6, key: "steps.transform.columns[0].params.quantile_range[1]",
				msg: "must be in [0, 100], got 101"},
		},
		{
			name:   "pair parameter type",
			recipe: head + "  transform:\n    columns:\n      - {name: a, transformer: min_max_scaler, params: {feature_range: 1}}\n",
			want: wantErr{file: "recipe.yaml", line: 6, key: "steps.transform.columns[0].params.feature_range",
				msg: "want a list of two numbers, got the number 1"},
		},
		{
			name:   "nullable parameter",
			recipe: head + "  train: {estimator: random_forest, estimator_params: {max_features: 0}}\n",
			want: wantErr{file: "recipe.yaml", line: 4, key: "steps.train.estimator_params.max_features",
				msg: "must be in (0, 1], got 0"},
		},
		{
			name:   "non-null parameter",
			recipe: head + "  train: {estimator: random_forest, estimator_params: {n_estimators: null}}\n",
			want: wantErr{file: "recipe.yaml", line: 4, key: "steps.train.estimator_params.n_estimators",
				msg: "want an integer, got null"},
		},
		{
			name:   "transformer without params",
			recipe: head + "  transform:\n    columns:\n      - {name: a, transformer: log1p, params: {base: 2}}\n",
			want: wantErr{file: "recipe.yaml", line: 6, key: "steps.transform.columns[0].params.base",
				msg: "transformer log1p takes no parameters"},
		},
		{
			name:   "derive overwrites target",
			recipe: head + "  transform:\n    derive:\n      y: \"a + b\"\n    remainder: passthrough\n",
			want:   wantErr{file: "recipe.yaml", line: 6, key: "steps.transform.derive.y", msg: "derive must not overwrite it"},
		},
		{
			name:   "predict output missing",
			recipe: head + "  predict: {}\n",
			want: wantErr{file: "recipe.yaml", line: 4, key: "steps.predict.output", msg: "missing required key",
				allowed: []string{"using", "location"}},
		},
		{
			name:   "model uri",
			recipe: head + "  predict: {model_uri: \"models:/m/lastest\", output: {using: csv, location: o.csv}}\n",
			want: wantErr{file: "recipe.yaml", line: 4, key: "steps.predict.model_uri", msg: `malformed model URI "models:/m/lastest"`,
				allowed: []string{"models:/<name>/latest", "models:/<name>/<version>", "models:/<name>@<alias>", "a path"}},
		},
		{
			name:    "profile experiment",
			recipe:  head,
			profile: "experiment:\n  name: x\n  trackng_uri: y\n",
			want: wantErr{file: "profiles/local.yaml", line: 3, key: "experiment.trackng_uri", msg: "unknown key",
				allowed: []string{"name", "tracking_uri", "artifact_location"}, suggest: "tracking_uri"},
		},
		{
			name:    "undefined environment variable in the profile",
			recipe:  head,
			profile: "experiment:\n  tracking_uri: {{ MLFLOW_URI }}\n  name: x\n",
			want: wantErr{file: "profiles/local.yaml", line: 2, key: "experiment.tracking_uri",
				msg: `undefined variable "MLFLOW_URI"`},
		},
		{
			name:   "template statement",
			recipe: head + "{% if x %}\n",
			want: wantErr{file: "recipe.yaml", line: 4, msg: "template statements ({% ... %}) are not supported",
				allowed: []string{"{{ VAR }}", "{{ VAR | default(value) }}"}},
		},
		{
			name:   "template filter",
			recipe: head + "  split: {split_ratios: {{ R | upper }}}\n",
			want: wantErr{file: "recipe.yaml", line: 4, key: "steps.split.split_ratios", msg: `unsupported template filter "upper" in "{{ R | upper }}"`,
				allowed: []string{"{{ VAR }}", "{{ VAR | default(value) }}"}},
		},
		{
			name:   "merge keys",
			recipe: head + "  split: &s {post_split_filter: \"a > 1\"}\n  register:\n    <<: *s\n",
			want:   wantErr{file: "recipe.yaml", line: 6, key: "steps.register.<<", msg: "YAML merge keys (<<) are not supported"},
		},
		{
			name:   "two documents",
			recipe: "recipe: regression/v1\ntarget_col: y\n---\nrecipe: regression/v1\n",
			want:   wantErr{file: "recipe.yaml", line: 3, msg: "more than one document"},
		},
		{
			name:   "empty recipe",
			recipe: "# nothing\n",
			want:   wantErr{file: "recipe.yaml", msg: "the file is empty", allowed: topKeys},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := recipes.Load(mapFS(tt.recipe, tt.profile), "")
			tt.want.check(t, err)
		})
	}
}

func TestLoadManyErrorsSorted(t *testing.T) {
	t.Parallel()
	recipe := "recipe: regression/v1\nsteps:\n  split: {split_ratios: [1, 1, 1]}\n  train: {estimator: lasso, estimator_params: {l1_ratio: 0.5}}\n  regster: {}\n"
	profile := "model_registry: {modl_name: x}\n"
	_, err := recipes.Load(mapFS(recipe, profile), "")
	var list recipes.Errors
	if !errors.As(err, &list) {
		t.Fatalf("want recipes.Errors, got %T: %v", err, err)
	}
	var got []string
	for _, e := range list {
		got = append(got, e.File+":"+e.Key)
	}
	want := []string{
		"profiles/local.yaml:model_registry.modl_name",
		"profiles/local.yaml:model_registry.model_name",
		"recipe.yaml:target_col",
		"recipe.yaml:steps.split.split_ratios",
		"recipe.yaml:steps.train.estimator_params.l1_ratio",
		"recipe.yaml:steps.regster",
	}
	if !slices.Equal(got, want) {
		t.Errorf("errors in order\n%q\nwant\n%q\n%v", got, want, err)
	}
	var first *recipes.Error
	if !errors.As(err, &first) || first != list[0] {
		t.Errorf("errors.As to *Error = %v, want the first error", first)
	}
}

func TestRendering(t *testing.T) {
	t.Parallel()
	const head = "recipe: regression/v1\ntarget_col: y\nsteps:\n"
	t.Run("profile value overrides default", func(t *testing.T) {
		t.Parallel()
		r, err := recipes.Load(mapFS(head+"  split:\n    split_ratios: {{ R | default([0.5, 0.25, 0.25]) }}\n",
			"R: [0.6, 0.2, 0.2]\n"), "")
		if err != nil {
			t.Fatal(err)
		}
		if r.Split.SplitRatios != [3]float64{0.6, 0.2, 0.2} {
			t.Errorf("ratios %v", r.Split.SplitRatios)
		}
	})
	t.Run("defaults of every kind", func(t *testing.T) {
		t.Parallel()
		r, err := recipes.Load(mapFS(head+
			"  ingest: {{ INGEST | default({using: csv, location: [a.csv, \"b c.csv\"], sep: \";\"}) }}\n"+
			"  split: {post_split_filter: {{F|default(\"a > 1 && b: 2\")}}}\n"+
			"  train: {estimator: gbdt, estimator_params: {max_iter: {{ N | default(7) }}, early_stopping: {{ES|default(false)}}}}\n",
			""), "")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(r.Ingest.Location, []string{"a.csv", "b c.csv"}) || r.Ingest.Sep != ";" || !r.Ingest.Header {
			t.Errorf("ingest %+v", r.Ingest)
		}
		if r.Split.PostSplitFilter != "a > 1 && b: 2" {
			t.Errorf("filter %q", r.Split.PostSplitFilter)
		}
		if p := r.Train.EstimatorParams; p["n_estimators"] != int64(7) || p["early_stopping"] != false || p["loss"] != "squared_error" {
			t.Errorf("params %v", p)
		}
	})
	t.Run("strings in every context", func(t *testing.T) {
		t.Parallel()
		profile := "DIR: data/in\nFILTER: \"x: 1 # not a comment\"\nQUOTE: it's \"q\"\n" +
			"MULTI: |\n  line one\n  line two\n"
		recipe := head +
			"  ingest:\n" +
			"    using: csv\n" +
			"    location: [{{DIR}}/a.csv, \"{{ DIR }}/b \\\"{{QUOTE}}\\\".csv\", '{{QUOTE}}.csv']\n" + // line 6
			"  split:\n" +
			"    post_split_filter: {{ FILTER }} # {{ MULTI }}\n" + // line 8
			"  transform:\n" +
			"    derive:\n" +
			"      z: {{ MULTI }}\n" + // line 11
			"    remainder: keep\n" // line 12: an error, to check the line count
		_, err := recipes.Load(mapFS(recipe, profile), "")
		wantErr{file: "recipe.yaml", line: 12, key: "steps.transform.remainder", msg: `unknown value "keep"`,
			allowed: []string{"drop", "passthrough"}}.check(t, err)

		r, err := recipes.Load(mapFS(strings.Replace(recipe, "keep", "passthrough", 1), profile), "")
		if err != nil {
			t.Fatal(err)
		}
		wantLoc := []string{"data/in/a.csv", `data/in/b "it's "q"".csv`, `it's "q".csv`}
		if !slices.Equal(r.Ingest.Location, wantLoc) {
			t.Errorf("locations\n%q\nwant\n%q", r.Ingest.Location, wantLoc)
		}
		if r.Split.PostSplitFilter != "x: 1 # not a comment" {
			t.Errorf("filter %q", r.Split.PostSplitFilter)
		}
		if r.Transform.Derive[0].Expr != "line one\nline two\n" {
			t.Errorf("derive %q", r.Transform.Derive[0].Expr)
		}
	})
	t.Run("environment in the profile", func(t *testing.T) {
		t.Parallel()
		env := map[string]string{"URI": "http://mlflow:5000", "NAME": "exp 1"}
		r, err := recipes.LoadWith(mapFS(head, "experiment: {name: {{ NAME }}, tracking_uri: {{URI}}}\n"),
			recipes.LoadOptions{Env: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
		if err != nil {
			t.Fatal(err)
		}
		if r.Experiment != (recipes.Experiment{Name: "exp 1", TrackingURI: "http://mlflow:5000"}) {
			t.Errorf("experiment %+v", r.Experiment)
		}
	})
	t.Run("profile overrides recipe settings", func(t *testing.T) {
		t.Parallel()
		r, err := recipes.Load(mapFS(head+"experiment: {name: from-recipe}\nmodel_registry: {model_name: a}\n",
			"experiment: from-profile\nmodel_registry: {model_name: b, registry_uri: databricks}\n"), "")
		if err != nil {
			t.Fatal(err)
		}
		if r.Experiment.Name != "from-profile" || r.ModelRegistry != (recipes.ModelRegistry{ModelName: "b", RegistryURI: "databricks"}) {
			t.Errorf("experiment %+v registry %+v", r.Experiment, r.ModelRegistry)
		}
	})
}

func TestClassification(t *testing.T) {
	t.Parallel()
	r, err := recipes.Load(mapFS("recipe: classification/v1\ntarget_col: label\npositive_class: 1\nsteps:\n"+
		"  train: {estimator: random_forest, calibrate_proba: isotonic}\n", ""), "")
	if err != nil {
		t.Fatal(err)
	}
	if r.PositiveClass != "1" || !r.Binary() || r.PrimaryMetric != recipes.DefaultBinaryMetric {
		t.Errorf("positive class %q, binary %v, primary metric %q", r.PositiveClass, r.Binary(), r.PrimaryMetric)
	}
	if r.Train.CalibrateProba != recipes.CalibrateIsotonic || !r.Train.RebalanceTrainingData || r.Train.EstimatorParams["max_features"] != "sqrt" {
		t.Errorf("train %+v", r.Train)
	}
	if !slices.Contains(r.Metrics(), "roc_auc") {
		t.Errorf("metrics %v", r.Metrics())
	}

	r, err = recipes.Load(mapFS("recipe: classification/v1\ntarget_col: label\n", ""), "")
	if err != nil {
		t.Fatal(err)
	}
	if r.Binary() || r.PrimaryMetric != recipes.DefaultMulticlassMetric {
		t.Errorf("multiclass: binary %v, primary metric %q", r.Binary(), r.PrimaryMetric)
	}
}

// TestCalibrateProba checks the values calibrate_proba takes (a method, or
// nothing: omitted, null and the false earlier builds accepted) and that the
// method is part of train's cache key while "off" keeps the key it had.
func TestCalibrateProba(t *testing.T) {
	t.Parallel()
	const head = "recipe: classification/v1\ntarget_col: y\nsteps:\n  train: {estimator: decision_tree"
	keyOf := func(t *testing.T, r *recipes.Recipe) recipes.KeyDoc {
		t.Helper()
		return r.KeyDoc(recipes.StepTrain, map[string]string{"transformer": "d1"}, "1")
	}
	off, err := recipes.Load(mapFS(head+"}\n", ""), "")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, setting string
		want          recipes.Calibration
		keyValue      any
	}{
		{"omitted", "", "", false},
		{"false", ", calibrate_proba: false", "", false},
		{"null", ", calibrate_proba: null", "", false},
		{"sigmoid", ", calibrate_proba: sigmoid", recipes.CalibrateSigmoid, "sigmoid"},
		{"isotonic", ", calibrate_proba: isotonic", recipes.CalibrateIsotonic, "isotonic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := recipes.Load(mapFS(head+tt.setting+"}\n", ""), "")
			if err != nil {
				t.Fatal(err)
			}
			if r.Train.CalibrateProba != tt.want {
				t.Errorf("CalibrateProba = %q, want %q", r.Train.CalibrateProba, tt.want)
			}
			settings := r.StepSettings(recipes.StepTrain).(map[string]any)
			if got := settings["calibrate_proba"]; got != tt.keyValue {
				t.Errorf("key setting calibrate_proba = %#v, want %#v", got, tt.keyValue)
			}
			diff := recipes.DiffKeyDocs(keyOf(t, off), keyOf(t, r))
			if tt.want == "" && len(diff) != 0 {
				t.Errorf("no calibration changed the key: %v", diff)
			}
			if tt.want != "" && !slices.ContainsFunc(diff, func(d string) bool { return strings.Contains(d, "calibrate_proba changed") }) {
				t.Errorf("calibration %s did not change the key: %v", tt.want, diff)
			}
		})
	}
	sig, _ := recipes.Load(mapFS(head+", calibrate_proba: sigmoid}\n", ""), "")
	iso, _ := recipes.Load(mapFS(head+", calibrate_proba: isotonic}\n", ""), "")
	if keyOf(t, sig).Key() == keyOf(t, iso).Key() {
		t.Error("sigmoid and isotonic have the same train key")
	}
}

// TestCalibrationJSON checks calibrate_proba in a job's settings: no
// calibration is false, as the bool of earlier builds, so jobs decode on
// workers of either build; true names no method.
func TestCalibrationJSON(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   recipes.Calibration
		json string
	}{{"", "false"}, {recipes.CalibrateSigmoid, `"sigmoid"`}, {recipes.CalibrateIsotonic, `"isotonic"`}} {
		data, err := json.Marshal(recipes.TrainSettings{CalibrateProba: tt.in})
		if err != nil {
			t.Fatal(err)
		}
		if want := `"CalibrateProba":` + tt.json + `,`; !strings.Contains(string(data), want) {
			t.Errorf("%q encodes as %s, want %s", tt.in, data, want)
		}
		var back recipes.TrainSettings
		if err := json.Unmarshal(data, &back); err != nil || back.CalibrateProba != tt.in {
			t.Errorf("%s decodes as %q, %v", data, back.CalibrateProba, err)
		}
	}
	for _, tt := range []struct {
		json string
		want recipes.Calibration
		err  string
	}{
		{`{"CalibrateProba":false}`, "", ""},
		{`{"CalibrateProba":null}`, "", ""},
		{`{}`, "", ""},
		{`{"CalibrateProba":true}`, "", "true names no method; want sigmoid or isotonic"},
		{`{"CalibrateProba":1}`, "", "calibrate_proba: json: cannot unmarshal number"},
	} {
		var s recipes.TrainSettings
		err := json.Unmarshal([]byte(tt.json), &s)
		if tt.err == "" && (err != nil || s.CalibrateProba != tt.want) {
			t.Errorf("%s: %q, %v", tt.json, s.CalibrateProba, err)
		}
		if tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%s: error %v, want %q", tt.json, err, tt.err)
		}
	}
}

func TestMetricGreaterIsBetter(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{
		"r2_score": true, "accuracy_score": true, "f1_score": true, "f1_score_macro": true, "roc_auc": true,
		"roc_auc_ovr": true, "precision_recall_auc": true, "recall_score": true,
		"root_mean_squared_error": false, "mean_absolute_error": false, "log_loss": false, "max_error": false,
		"no_such_metric": false,
	} {
		if got := recipes.MetricGreaterIsBetter(name); got != want {
			t.Errorf("MetricGreaterIsBetter(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestLoadMisc(t *testing.T) {
	t.Parallel()
	const head = "recipe: regression/v1\ntarget_col: y\nsteps:\n"
	_, err := recipes.Load(mapFS(head+"  transform: {}\n", ""), "")
	wantErr{file: "recipe.yaml", line: 4, key: "steps.transform.columns", msg: "the model has no features"}.check(t, err)

	if _, err := recipes.Load(mapFS(head+"  transform: {remainder: passthrough}\n", ""), ""); err != nil {
		t.Errorf("passthrough without groups: %v", err)
	}
	_, err = recipes.Load(mapFS(head, ""), "../etc")
	wantErr{file: "profiles", msg: `invalid profile name "../etc"`, allowed: []string{"local"}}.check(t, err)

	_, err = recipes.Load(fstest.MapFS{"profiles/local.yaml": {Data: []byte("{}")}}, "")
	wantErr{file: "recipe.yaml", msg: "not found"}.check(t, err)
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing recipe error %v does not wrap fs.ErrNotExist", err)
	}

	// Numbers and dates are strings where a string is wanted.
	r, err := recipes.Load(mapFS("recipe: classification/v1\ntarget_col: 2020-01-01\npositive_class: true\n", ""), "")
	if err != nil || r.TargetCol != "2020-01-01" || r.PositiveClass != "true" {
		t.Errorf("Load = %+v, %v", r, err)
	}
}

func TestParams(t *testing.T) {
	t.Parallel()
	r, err := recipes.Load(mapFS("recipe: regression/v1\ntarget_col: y\nsteps:\n  transform:\n    columns:\n"+
		"      - {name: a, transformer: min_max_scaler, params: {feature_range: [-1, 1.5]}}\n"+
		"      - {name: b, transformer: impute, params: {strategy: constant, fill_value: -1}}\n"+
		"  train: {estimator: random_forest, estimator_params: {max_features: log2, max_depth: 8.0, random_state: 7}}\n", ""), "")
	if err != nil {
		t.Fatal(err)
	}
	if p := r.Transform.Columns[0].Params; !slices.Equal(p["feature_range"].([]float64), []float64{-1, 1.5}) || p["clip"] != false {
		t.Errorf("min_max_scaler params %v", p)
	}
	if p := r.Transform.Columns[1].Params; p["fill_value"] != int64(-1) && p["fill_value"] != -1.0 {
		t.Errorf("impute params %v", p)
	}
	want := map[string]any{"n_estimators": int64(100), "max_depth": int64(8), "min_samples_leaf": int64(1),
		"min_samples_split": int64(2), "max_features": "log2", "bootstrap": true, "random_state": int64(7)}
	if p := r.Train.EstimatorParams; len(p) != len(want) {
		t.Errorf("random_forest params %v", p)
	} else {
		for k, v := range want {
			if p[k] != v {
				t.Errorf("random_forest %s = %#v, want %#v", k, p[k], v)
			}
		}
	}
}

func TestModelURIs(t *testing.T) {
	t.Parallel()
	for _, uri := range []string{"models:/taxi/latest", "models:/taxi/3", "models:/taxi@champion", "./model", "s3://b/model"} {
		r, err := recipes.Load(mapFS("recipe: regression/v1\ntarget_col: y\nsteps:\n  predict: {model_uri: '"+uri+"', output: {using: csv, location: o.csv}}\n", ""), "")
		if err != nil || r.Predict.ModelURI != uri {
			t.Errorf("model_uri %s: %v", uri, err)
		}
	}
}

func TestProfileExecution(t *testing.T) {
	t.Parallel()
	const recipe = "recipe: regression/v1\ntarget_col: y\n"
	r, err := recipes.Load(mapFS(recipe, "execution: {nats: nats://q:4222, store: s3://b/p}\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if r.Execution.NATS != "nats://q:4222" || r.Execution.Store != "s3://b/p" {
		t.Fatalf("execution %+v", r.Execution)
	}
	_, err = recipes.Load(mapFS(recipe, "execution:\n  nat: nats://q:4222\n"), "")
	if err == nil || !strings.Contains(err.Error(), "profiles/local.yaml:2") || !strings.Contains(err.Error(), "nats, store") {
		t.Fatalf("typo in execution: %v", err)
	}
}
