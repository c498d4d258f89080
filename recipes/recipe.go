package recipes

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Recipe is a loaded, rendered and validated recipe. Steps the recipe does not
// configure are nil; Plan reports them when a target needs them. Settings have
// their defaults applied.
type Recipe struct {
	// Template is TemplateRegression or TemplateClassification.
	Template string
	// TargetCol is the column the model predicts.
	TargetCol string
	// PositiveClass is the positive label of a binary classification,
	// written as in YAML (a label 1 is "1"); empty for regression and for
	// multiclass classification.
	PositiveClass string
	// PrimaryMetric is the metric that ranks models, default applied.
	PrimaryMetric string
	// Experiment and ModelRegistry come from the profile (or recipe.yaml).
	Experiment    Experiment
	ModelRegistry ModelRegistry
	// Execution is the profile's cluster settings; empty runs on the
	// embedded runtime.
	Execution Execution
	// Profile is the name of the profile the recipe was rendered with.
	Profile string

	Ingest        *IngestSettings
	Split         *SplitSettings
	Transform     *TransformSettings
	Train         *TrainSettings
	Evaluate      *EvaluateSettings
	Register      *RegisterSettings
	IngestScoring *IngestSettings
	Predict       *PredictSettings

	// RenderedRecipe and RenderedProfile are the files after {{ }}
	// substitution, as a run records them.
	RenderedRecipe  []byte
	RenderedProfile []byte

	pos  map[string]pos         // dotted key → where it was written
	subs map[int][]substitution // recipe.yaml line → variables rendered on it
}

type pos struct {
	file string
	line int
}

func (r *Recipe) position(key string) pos {
	return r.pos[key]
}

// ProfileFile is the path of the recipe's profile, relative to the recipe
// directory.
func (r *Recipe) ProfileFile() string {
	return profilePath(r.Profile)
}

// Classification reports whether the recipe uses the classification template.
func (r *Recipe) Classification() bool { return r.Template == TemplateClassification }

// Binary reports whether the recipe is a binary classification (it has a
// positive_class).
func (r *Recipe) Binary() bool { return r.Classification() && r.PositiveClass != "" }

// Metrics returns the built-in metrics the evaluate step computes for this
// recipe.
func (r *Recipe) Metrics() []string { return MetricNames(r.Template, r.Binary()) }

// Experiment is the tracking experiment runs are recorded in.
type Experiment struct {
	Name             string
	TrackingURI      string
	ArtifactLocation string
}

// Execution says where a profile's runs go: a NATS URL and an artifact store
// (s3://bucket/prefix). Flags and SOUS_NATS_URL/SOUS_STORE win over it.
type Execution struct {
	NATS  string
	Store string
}

// ModelRegistry says where register puts model versions.
type ModelRegistry struct {
	ModelName   string
	RegistryURI string
}

// Ingest formats, also used for predict output.
const (
	FormatParquet = "parquet"
	FormatCSV     = "csv"
)

var formats = []string{FormatParquet, FormatCSV}

// DefaultSep is the CSV field separator.
const DefaultSep = ","

// IngestSettings configures ingest and ingest_scoring.
type IngestSettings struct {
	// Using is FormatParquet or FormatCSV.
	Using string
	// Location is one or more files, directories, globs or s3:// URLs,
	// relative to the recipe directory unless absolute. See Recipe.Sources.
	Location []string
	// Sep and Header are CSV options (defaults "," and true).
	Sep    string
	Header bool
	// Schema overrides column types: column → float, int, bool, string or
	// timestamp. Nil when not given.
	Schema map[string]string
	// Columns, when not nil, are the columns to keep.
	Columns []string
}

// DefaultSplitRatios are the default training, validation and test fractions.
var DefaultSplitRatios = [3]float64{0.75, 0.125, 0.125}

// SplitSettings configures split.
type SplitSettings struct {
	// SplitRatios are the training, validation and test fractions: positive,
	// summing to 1.
	SplitRatios [3]float64
	// PostSplitFilter is an expression rows must satisfy, applied after the
	// split, e.g. "fare_amount > 0 && trip_distance < 400". Empty for none.
	PostSplitFilter string
}

// Transform remainder policies.
const (
	RemainderDrop        = "drop"
	RemainderPassthrough = "passthrough"
)

// TransformSettings configures transform (using: columns).
type TransformSettings struct {
	// Using is "columns", the only kind for now.
	Using string
	// Derive are new columns computed from expressions, in the order written;
	// later ones may use earlier ones.
	Derive []Derived
	// Columns are the column groups, each with one transformer.
	Columns []ColumnGroup
	// Remainder is what happens to columns no group names: RemainderDrop
	// (default) or RemainderPassthrough. The target is never a feature.
	Remainder string
}

// Derived is one derived column.
type Derived struct {
	Name string
	Expr string
}

// ColumnGroup is a list of columns sharing a transformer.
type ColumnGroup struct {
	// Name are the group's columns (YAML "name": a list, or one column).
	Name []string
	// Transformer is one of TransformerNames.
	Transformer string
	// Params are the transformer's parameters, every one present with
	// defaults applied. Values are bool, int64, float64, string, []float64
	// or nil.
	Params map[string]any
}

// TrainSettings configures train.
type TrainSettings struct {
	// Estimator is one of EstimatorNames(template).
	Estimator string
	// EstimatorParams holds every parameter of Estimator, defaults applied,
	// under its canonical name (gbdt's max_iter is n_estimators). Values are
	// bool, int64, float64, string or nil (scikit-learn's None).
	EstimatorParams map[string]any
	// Tuning is hyperparameter search; only disabled tuning is supported.
	Tuning Tuning
	// CalibrateProba and RebalanceTrainingData are classification settings
	// (defaults no calibration and true); empty and false for regression.
	CalibrateProba        Calibration
	RebalanceTrainingData bool
}

// Probability calibration methods, the values of calibrate_proba (those of
// scikit-learn's CalibratedClassifierCV, which MLflow Recipes used).
const (
	CalibrateSigmoid  Calibration = "sigmoid"
	CalibrateIsotonic Calibration = "isotonic"
)

// CalibrationMethods returns the values calibrate_proba accepts.
func CalibrationMethods() []string {
	return []string{string(CalibrateSigmoid), string(CalibrateIsotonic)}
}

// Calibration is calibrate_proba: empty for no calibration, else
// CalibrateSigmoid or CalibrateIsotonic. Earlier builds had a bool here, so
// in a job's settings JSON no calibration is written false and false (or
// null) reads as none: during a rolling upgrade a job of either build
// decodes on a worker of the other, except a calibrated one, which an older
// worker refuses (a string is not a bool) rather than train uncalibrated.
type Calibration string

// MarshalJSON writes false for no calibration, else the method.
func (c Calibration) MarshalJSON() ([]byte, error) {
	if c == "" {
		return []byte("false"), nil
	}
	return json.Marshal(string(c))
}

// UnmarshalJSON reads what MarshalJSON writes, and null; true is an error,
// since it names no method.
func (c *Calibration) UnmarshalJSON(b []byte) error {
	switch s := string(b); s {
	case "false", "null":
		*c = ""
		return nil
	case "true":
		return errors.New("calibrate_proba: true names no method; want sigmoid or isotonic")
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("calibrate_proba: %w", err)
	}
	*c = Calibration(s)
	return nil
}

// Tuning configures hyperparameter search.
type Tuning struct {
	Enabled bool
}

// ValidationCriterion is a threshold a metric must meet for the model to be
// registered; see MetricGreaterIsBetter.
type ValidationCriterion struct {
	Metric    string
	Threshold float64
}

// EvaluateSettings configures evaluate.
type EvaluateSettings struct {
	// ValidationCriteria are in the order written; each metric at most once.
	ValidationCriteria []ValidationCriterion
}

// RegisterSettings configures register.
type RegisterSettings struct {
	// AllowNonValidatedModel registers a model whose validation status is
	// UNKNOWN (evaluate has no validation_criteria). A REJECTED model is
	// never registered.
	AllowNonValidatedModel bool
}

// Predict result types and save modes.
const (
	DefaultResultType = "double"
	SaveOverwrite     = "overwrite"
	SaveError         = "error"
)

var (
	resultTypes = []string{"double", "float", "int", "string"}
	saveModes   = []string{SaveOverwrite, SaveError}
)

// PredictSettings configures predict.
type PredictSettings struct {
	// ModelURI is the model to score with (models:/name/latest, /3, @alias or
	// a path); empty means the latest version of ModelRegistry.ModelName.
	ModelURI string
	// Output is where the scored data goes.
	Output Output
	// ResultType is the type of the prediction column (default "double").
	ResultType string
	// SaveMode is SaveOverwrite (default) or SaveError when Output exists.
	SaveMode string
}

// Output is a table destination.
type Output struct {
	Using    string // FormatParquet or FormatCSV
	Location string
}
