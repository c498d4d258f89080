package recipes

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// The recipe templates.
const (
	TemplateRegression     = "regression/v1"
	TemplateClassification = "classification/v1"
)

var templates = []string{TemplateRegression, TemplateClassification}

// Default primary metrics.
const (
	DefaultRegressionMetric = "root_mean_squared_error"
	// DefaultBinaryMetric is the default for classification with a positive_class.
	DefaultBinaryMetric = "f1_score"
	// DefaultMulticlassMetric is the default for classification without one.
	DefaultMulticlassMetric = "f1_score_macro"
)

// The estimators (steps.train.estimator). Names and parameters follow
// scikit-learn; gbdt is histogram gradient boosting.
const (
	EstimatorLinearRegression   = "linear_regression"
	EstimatorRidge              = "ridge"
	EstimatorLasso              = "lasso"
	EstimatorElasticNet         = "elastic_net"
	EstimatorLogisticRegression = "logistic_regression"
	EstimatorDecisionTree       = "decision_tree"
	EstimatorRandomForest       = "random_forest"
	EstimatorGBDT               = "gbdt"
)

// The column transformers (steps.transform.columns[].transformer).
const (
	TransformerStandardScaler = "standard_scaler"
	TransformerMinMaxScaler   = "min_max_scaler"
	TransformerRobustScaler   = "robust_scaler"
	TransformerOneHot         = "one_hot"
	TransformerOrdinal        = "ordinal"
	TransformerImpute         = "impute"
	TransformerLog1p          = "log1p"
	TransformerPassthrough    = "passthrough"
	TransformerDrop           = "drop"
	TransformerBinning        = "binning"
)

// metricSpec describes a built-in metric.
type metricSpec struct {
	name       string
	greater    bool // higher is better
	regression bool
	binary     bool // classification with a positive_class
	multiclass bool // classification without one
}

// metricTable is every built-in metric. example_count, mean_on_target and
// sum_on_target describe the data rather than the model; a threshold on them
// is a minimum.
var metricTable = []metricSpec{
	{name: "mean_absolute_error", regression: true},
	{name: "mean_squared_error", regression: true},
	{name: "root_mean_squared_error", regression: true},
	{name: "max_error", regression: true},
	{name: "mean_absolute_percentage_error", regression: true},
	{name: "r2_score", greater: true, regression: true},
	{name: "example_count", greater: true, regression: true},
	{name: "mean_on_target", greater: true, regression: true},
	{name: "sum_on_target", greater: true, regression: true},

	{name: "accuracy_score", greater: true, binary: true, multiclass: true},
	{name: "precision_score", greater: true, binary: true},
	{name: "recall_score", greater: true, binary: true},
	{name: "f1_score", greater: true, binary: true},
	{name: "log_loss", binary: true, multiclass: true},
	{name: "roc_auc", greater: true, binary: true},
	{name: "precision_recall_auc", greater: true, binary: true},
	{name: "f1_score_macro", greater: true, multiclass: true},
	{name: "f1_score_micro", greater: true, multiclass: true},
	{name: "precision_score_macro", greater: true, multiclass: true},
	{name: "recall_score_macro", greater: true, multiclass: true},
	{name: "roc_auc_ovr", greater: true, multiclass: true},
}

// MetricGreaterIsBetter reports whether a higher value of the built-in
// metric is better (r2_score, accuracy, precision, recall, f1, AUCs); for
// errors and losses lower is better. It returns false for unknown names.
// A validation criterion passes when the metric is at least its threshold
// for greater-is-better metrics and at most its threshold otherwise.
func MetricGreaterIsBetter(name string) bool {
	for _, m := range metricTable {
		if m.name == name {
			return m.greater
		}
	}
	return false
}

// MetricNames returns the built-in metrics of a template, in a fixed order.
// For classification, binary (a positive_class is set) selects the binary
// metrics, otherwise the multiclass ones.
func MetricNames(template string, binary bool) []string {
	var out []string
	for _, m := range metricTable {
		switch {
		case template == TemplateRegression && m.regression,
			template == TemplateClassification && binary && m.binary,
			template == TemplateClassification && !binary && m.multiclass:
			out = append(out, m.name)
		}
	}
	return out
}

// Parameter value kinds, combined as a bit set.
type paramKind uint8

const (
	kindBool paramKind = 1 << iota
	kindInt
	kindNumber
	kindString
	kindNull
	kindPair // a list of two numbers, [low, high]
)

func (k paramKind) String() string {
	var parts []string
	for _, x := range []struct {
		k    paramKind
		name string
	}{
		{kindBool, "true or false"}, {kindInt, "an integer"}, {kindNumber, "a number"},
		{kindString, "a string"}, {kindPair, "a list of two numbers"}, {kindNull, "null"},
	} {
		if k&x.k != 0 {
			parts = append(parts, x.name)
		}
	}
	switch len(parts) {
	case 0:
		return "nothing"
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " or " + parts[len(parts)-1]
}

// paramSpec describes one estimator or transformer parameter. Values are
// stored as bool, int64, float64, string, []float64 (pairs) or nil.
type paramSpec struct {
	name    string
	aliases []string
	kinds   paramKind
	enum    []string // allowed strings; empty allows any string
	def     any      // default, already in the stored type
	check   func(float64) string
}

func atLeast(lo float64) func(float64) string {
	return func(v float64) string {
		if v < lo {
			return fmt.Sprintf("must be at least %s", formatNumber(lo))
		}
		return ""
	}
}

func above(lo float64) func(float64) string {
	return func(v float64) string {
		if v <= lo {
			return fmt.Sprintf("must be greater than %s", formatNumber(lo))
		}
		return ""
	}
}

func between(lo, hi float64, loOpen, hiOpen bool) func(float64) string {
	return func(v float64) string {
		if v < lo || v > hi || loOpen && v == lo || hiOpen && v == hi {
			l, h := "[", "]"
			if loOpen {
				l = "("
			}
			if hiOpen {
				h = ")"
			}
			return fmt.Sprintf("must be in %s%s, %s%s", l, formatNumber(lo), formatNumber(hi), h)
		}
		return ""
	}
}

func formatNumber(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return fmt.Sprintf("%d", int64(f))
	}
	return fmt.Sprintf("%g", f)
}

var (
	pFitIntercept    = paramSpec{name: "fit_intercept", kinds: kindBool, def: true}
	pAlpha           = paramSpec{name: "alpha", kinds: kindNumber, def: 1.0, check: atLeast(0)}
	pL1Ratio         = paramSpec{name: "l1_ratio", kinds: kindNumber, def: 0.5, check: between(0, 1, false, false)}
	pMaxIter1000     = paramSpec{name: "max_iter", kinds: kindInt, def: int64(1000), check: atLeast(1)}
	pMaxIter100      = paramSpec{name: "max_iter", kinds: kindInt, def: int64(100), check: atLeast(1)}
	pTol             = paramSpec{name: "tol", kinds: kindNumber, def: 1e-4, check: above(0)}
	pC               = paramSpec{name: "C", kinds: kindNumber, def: 1.0, check: above(0)}
	pMaxDepth        = paramSpec{name: "max_depth", kinds: kindInt | kindNull, def: nil, check: atLeast(1)}
	pMinSamplesLeaf1 = paramSpec{name: "min_samples_leaf", kinds: kindInt, def: int64(1), check: atLeast(1)}
	pMinSamplesSplit = paramSpec{name: "min_samples_split", kinds: kindInt, def: int64(2), check: atLeast(2)}
	// max_features is a fraction of the features or a rule; integer counts
	// are not accepted because 1 and 1.0 would mean different things.
	pMaxFeaturesAll  = paramSpec{name: "max_features", kinds: kindNumber | kindString | kindNull, enum: []string{"sqrt", "log2"}, def: nil, check: between(0, 1, true, false)}
	pMaxFeaturesOne  = paramSpec{name: "max_features", kinds: kindNumber | kindString | kindNull, enum: []string{"sqrt", "log2"}, def: 1.0, check: between(0, 1, true, false)}
	pMaxFeaturesSqrt = paramSpec{name: "max_features", kinds: kindNumber | kindString | kindNull, enum: []string{"sqrt", "log2"}, def: "sqrt", check: between(0, 1, true, false)}
	pNEstimators100  = paramSpec{name: "n_estimators", kinds: kindInt, def: int64(100), check: atLeast(1)}
	pBootstrap       = paramSpec{name: "bootstrap", kinds: kindBool, def: true}
	pRandomState     = paramSpec{name: "random_state", kinds: kindInt | kindNull, def: nil, check: atLeast(0)}
)

func gbdtParams(loss paramSpec) []paramSpec {
	return []paramSpec{
		{name: "n_estimators", aliases: []string{"max_iter"}, kinds: kindInt, def: int64(100), check: atLeast(1)},
		{name: "learning_rate", kinds: kindNumber, def: 0.1, check: above(0)},
		{name: "max_leaf_nodes", kinds: kindInt | kindNull, def: int64(31), check: atLeast(2)},
		pMaxDepth,
		{name: "min_samples_leaf", kinds: kindInt, def: int64(20), check: atLeast(1)},
		{name: "l2_regularization", kinds: kindNumber, def: 0.0, check: atLeast(0)},
		{name: "max_bins", kinds: kindInt, def: int64(255), check: between(2, 255, false, false)},
		{name: "early_stopping", kinds: kindBool | kindString, enum: []string{"auto"}, def: "auto"},
		{name: "validation_fraction", kinds: kindNumber | kindNull, def: 0.1, check: between(0, 1, true, true)},
		{name: "n_iter_no_change", kinds: kindInt, def: int64(10), check: atLeast(1)},
		loss,
		pRandomState,
	}
}

// estimatorSpec lists an estimator's parameters per template; nil means the
// estimator is not available for that template.
type estimatorSpec struct {
	name           string
	regression     []paramSpec
	classification []paramSpec
}

var estimatorTable = []estimatorSpec{
	{name: EstimatorLinearRegression, regression: []paramSpec{pFitIntercept}},
	{name: EstimatorRidge, regression: []paramSpec{pAlpha, pFitIntercept}},
	{name: EstimatorLasso, regression: []paramSpec{pAlpha, pMaxIter1000, pTol, pFitIntercept}},
	{name: EstimatorElasticNet, regression: []paramSpec{pAlpha, pL1Ratio, pMaxIter1000, pTol, pFitIntercept}},
	{name: EstimatorLogisticRegression, classification: []paramSpec{pC, pMaxIter100, pTol, pFitIntercept}},
	{
		name:           EstimatorDecisionTree,
		regression:     []paramSpec{pMaxDepth, pMinSamplesLeaf1, pMinSamplesSplit, pMaxFeaturesAll},
		classification: []paramSpec{pMaxDepth, pMinSamplesLeaf1, pMinSamplesSplit, pMaxFeaturesAll},
	},
	{
		name:           EstimatorRandomForest,
		regression:     []paramSpec{pNEstimators100, pMaxDepth, pMinSamplesLeaf1, pMinSamplesSplit, pMaxFeaturesOne, pBootstrap, pRandomState},
		classification: []paramSpec{pNEstimators100, pMaxDepth, pMinSamplesLeaf1, pMinSamplesSplit, pMaxFeaturesSqrt, pBootstrap, pRandomState},
	},
	{
		name: EstimatorGBDT,
		regression: gbdtParams(paramSpec{name: "loss", kinds: kindString,
			enum: []string{"squared_error", "absolute_error"}, def: "squared_error"}),
		classification: gbdtParams(paramSpec{name: "loss", kinds: kindString,
			enum: []string{"log_loss"}, def: "log_loss"}),
	},
}

// estimatorParams returns the parameters of an estimator for a template and
// whether the estimator exists for it.
func estimatorParams(template, name string) ([]paramSpec, bool) {
	for _, e := range estimatorTable {
		if e.name != name {
			continue
		}
		if template == TemplateClassification {
			return e.classification, e.classification != nil
		}
		return e.regression, e.regression != nil
	}
	return nil, false
}

// EstimatorNames returns the estimators a template may use.
func EstimatorNames(template string) []string {
	var out []string
	for _, e := range estimatorTable {
		if template == TemplateClassification && e.classification != nil ||
			template != TemplateClassification && e.regression != nil {
			out = append(out, e.name)
		}
	}
	return out
}

func allEstimatorNames() []string {
	out := make([]string, len(estimatorTable))
	for i, e := range estimatorTable {
		out[i] = e.name
	}
	return out
}

// transformerTable lists each transformer's params.
var transformerTable = []struct {
	name   string
	params []paramSpec
}{
	{TransformerStandardScaler, []paramSpec{
		{name: "with_mean", kinds: kindBool, def: true},
		{name: "with_std", kinds: kindBool, def: true},
	}},
	{TransformerMinMaxScaler, []paramSpec{
		{name: "feature_range", kinds: kindPair, def: []float64{0, 1}},
		{name: "clip", kinds: kindBool, def: false},
	}},
	{TransformerRobustScaler, []paramSpec{
		{name: "with_centering", kinds: kindBool, def: true},
		{name: "with_scaling", kinds: kindBool, def: true},
		{name: "quantile_range", kinds: kindPair, def: []float64{25, 75}, check: between(0, 100, false, false)},
	}},
	{TransformerOneHot, []paramSpec{
		{name: "min_frequency", kinds: kindInt | kindNull, def: nil, check: atLeast(1)},
		{name: "max_categories", kinds: kindInt | kindNull, def: nil, check: atLeast(2)},
	}},
	{TransformerOrdinal, []paramSpec{
		{name: "unknown_value", kinds: kindNumber, def: -1.0},
	}},
	{TransformerImpute, []paramSpec{
		{name: "strategy", kinds: kindString, enum: []string{"mean", "median", "most_frequent", "constant"}, def: "mean"},
		{name: "fill_value", kinds: kindNumber | kindNull, def: nil},
	}},
	{TransformerLog1p, nil},
	{TransformerPassthrough, nil},
	{TransformerDrop, nil},
	{TransformerBinning, []paramSpec{
		{name: "n_bins", kinds: kindInt, def: int64(5), check: atLeast(2)},
		{name: "strategy", kinds: kindString, enum: []string{"uniform", "quantile"}, def: "quantile"},
		{name: "encode", kinds: kindString, enum: []string{"onehot", "ordinal"}, def: "onehot"},
	}},
}

// TransformerNames returns the column transformers.
func TransformerNames() []string {
	out := make([]string, len(transformerTable))
	for i, t := range transformerTable {
		out[i] = t.name
	}
	return out
}

func transformerParams(name string) ([]paramSpec, bool) {
	for _, t := range transformerTable {
		if t.name == name {
			return t.params, true
		}
	}
	return nil, false
}

func paramNames(specs []paramSpec) []string {
	var out []string
	for _, p := range specs {
		out = append(out, p.name)
		out = append(out, p.aliases...)
	}
	return out
}

func findParam(specs []paramSpec, name string) (paramSpec, bool) {
	for _, p := range specs {
		if p.name == name || slices.Contains(p.aliases, name) {
			return p, true
		}
	}
	return paramSpec{}, false
}

// The ingest column types (steps.ingest.schema values).
var columnTypes = []string{"float", "int", "bool", "string", "timestamp"}
