package ml

import (
	"encoding/json"
	"fmt"

	"github.com/sous-ml/sous/recipes/ml/tree"
)

// The names the tree estimators are registered under, and their criteria.
const (
	DecisionTreeName = "decision_tree"
	RandomForestName = "random_forest"

	// CriterionSquaredError (the default) makes a regression tree or forest.
	CriterionSquaredError = "squared_error"
	// CriterionGini makes a classification tree or forest: a Classifier
	// of class indexes.
	CriterionGini = "gini"
)

func init() {
	Register(DecisionTreeName, func(p map[string]any) (Estimator, error) { return NewDecisionTree(p) })
}

// TreeParams are the params shared by decision_tree and random_forest.
//
// The criterion param chooses the task, as in scikit-learn's two classes:
// "squared_error" (the default) regression, "gini" classification. recipe.yaml
// does not set it (the loader's table has no criterion); the train step of
// a classification/v1 recipe adds criterion "gini" to the params it passes
// to NewEstimator.
type TreeParams struct {
	Criterion string `json:"criterion"`
	// MaxDepth 0 is unlimited (max_depth null).
	MaxDepth        int `json:"max_depth,omitempty"`
	MinSamplesLeaf  int `json:"min_samples_leaf"`
	MinSamplesSplit int `json:"min_samples_split"`
	// MaxFeatures is "" (all features), "sqrt" or "log2"; a
	// MaxFeaturesFraction in (0, 1) overrides it.
	MaxFeatures         string  `json:"max_features,omitempty"`
	MaxFeaturesFraction float64 `json:"max_features_fraction,omitempty"`
}

// readTreeParams reads the shared params; defMaxFeatures gives the default
// max_features for a criterion.
func readTreeParams(p *Params, params map[string]any, defMaxFeatures func(criterion string) any) TreeParams {
	tp := TreeParams{
		Criterion:       p.String("criterion", CriterionSquaredError, CriterionSquaredError, CriterionGini),
		MaxDepth:        p.Int("max_depth", 0),
		MinSamplesLeaf:  p.Int("min_samples_leaf", 1),
		MinSamplesSplit: p.Int("min_samples_split", 2),
	}
	if tp.MaxDepth < 0 || tp.MaxDepth == 0 && params["max_depth"] != nil {
		p.Fail("max_depth", "must be >= 1 or null, got %v", params["max_depth"])
	}
	if tp.MinSamplesLeaf < 1 {
		p.Fail("min_samples_leaf", "must be >= 1, got %v", tp.MinSamplesLeaf)
	}
	if tp.MinSamplesSplit < 2 {
		p.Fail("min_samples_split", "must be >= 2, got %v", tp.MinSamplesSplit)
	}
	// max_features: null means all features, so an explicit null is not
	// the default (which is "sqrt" for a classification forest).
	p.lookup("max_features")
	v, ok := params["max_features"]
	if !ok {
		v = defMaxFeatures(tp.Criterion)
	}
	switch x := v.(type) {
	case nil:
	case string:
		if x != tree.MaxFeaturesSqrt && x != tree.MaxFeaturesLog2 {
			p.Fail("max_features", "is %q; allowed: null, \"sqrt\", \"log2\" or a fraction in (0, 1]", x)
		}
		tp.MaxFeatures = x
	default:
		f, ok := toFloat(v)
		if !ok || !(f > 0 && f <= 1) {
			p.Fail("max_features", "must be null, \"sqrt\", \"log2\" or a fraction in (0, 1], got %T %v", v, v)
		} else if f < 1 {
			tp.MaxFeaturesFraction = f
		}
	}
	return tp
}

// treeParams converts to the tree package's Params.
func (tp TreeParams) treeParams() tree.Params {
	p := tree.Params{
		MaxDepth:            tp.MaxDepth,
		MinSamplesLeaf:      tp.MinSamplesLeaf,
		MinSamplesSplit:     tp.MinSamplesSplit,
		MaxFeatures:         tp.MaxFeatures,
		MaxFeaturesFraction: tp.MaxFeaturesFraction,
	}
	if tp.Criterion == CriterionGini {
		p.Task = tree.Classification
	}
	return p
}

func (tp TreeParams) validParams() error {
	if tp.Criterion != CriterionSquaredError && tp.Criterion != CriterionGini {
		return fmt.Errorf("criterion %q; allowed: %s, %s", tp.Criterion, CriterionSquaredError, CriterionGini)
	}
	return tp.treeParams().Validate()
}

// fittedTrees is the fitted state of a tree estimator: a tree.Model, stored
// in JSON as its binary encoding (base64).
type fittedTrees struct {
	model *tree.Model
}

func (s *fittedTrees) fit(name string, tp tree.Params, X *Matrix, y []float64) error {
	if err := checkTrainingShape(X, y); err != nil {
		return fmt.Errorf("%s: fit: %w", name, err)
	}
	m, err := tree.Fit(X.Data, X.Rows, X.Cols, y, tp)
	if err != nil {
		return fmt.Errorf("%s: fit: %w", name, err)
	}
	s.model = m
	return nil
}

func (s *fittedTrees) checkPredict(name string, X *Matrix) error {
	if s.model == nil {
		return fmt.Errorf("%s: predict: model is not fitted", name)
	}
	if err := CheckPredictData(X, s.model.NumFeatures()); err != nil {
		return fmt.Errorf("%s: predict: %w", name, err)
	}
	return nil
}

func (s *fittedTrees) predict(name string, X *Matrix) ([]float64, error) {
	if err := s.checkPredict(name, X); err != nil {
		return nil, err
	}
	return s.model.Predict(X.Data, X.Rows, X.Cols)
}

func (s *fittedTrees) predictProba(name string, X *Matrix) (*Matrix, error) {
	if err := s.checkPredict(name, X); err != nil {
		return nil, err
	}
	if s.model.Task() != tree.Classification {
		return nil, fmt.Errorf("%s: predict_proba: a regression model (criterion %s) has no class probabilities", name, CriterionSquaredError)
	}
	p, err := s.model.PredictProba(X.Data, X.Rows, X.Cols)
	if err != nil {
		return nil, err
	}
	return &Matrix{Rows: X.Rows, Cols: s.model.NumClass(), Data: p}, nil
}

func (s *fittedTrees) classes() int {
	if s.model == nil {
		return 0
	}
	return s.model.NumClass()
}

func (s *fittedTrees) importances() []float64 {
	if s.model == nil {
		return nil
	}
	return s.model.FeatureImportances()
}

func (s *fittedTrees) marshal() ([]byte, error) {
	if s.model == nil {
		return nil, nil
	}
	return s.model.MarshalBinary()
}

func unmarshalTreeModel(b []byte) (*tree.Model, error) {
	if len(b) == 0 {
		return nil, nil
	}
	m := new(tree.Model)
	if err := m.UnmarshalBinary(b); err != nil {
		return nil, err
	}
	return m, nil
}

// validate checks a decoded model against the params.
func (s *fittedTrees) validate(tp TreeParams, trees int) error {
	if err := tp.validParams(); err != nil {
		return err
	}
	if s.model == nil {
		return nil
	}
	if want := tp.treeParams().Task; s.model.Task() != want {
		return fmt.Errorf("model is a %v model but criterion is %s", s.model.Task(), tp.Criterion)
	}
	if trees > 0 && s.model.NumTrees() != trees {
		return fmt.Errorf("model has %d trees, want %d", s.model.NumTrees(), trees)
	}
	return nil
}

// DecisionTree is a CART tree, scikit-learn's DecisionTreeRegressor
// (criterion "squared_error", the default) or DecisionTreeClassifier
// (criterion "gini"). Registered as "decision_tree"; params: criterion,
// max_depth (default null, unlimited), min_samples_leaf (default 1),
// min_samples_split (default 2), max_features (default null: all
// features; "sqrt", "log2" or a fraction in (0, 1] try that many features,
// drawn at random, at each split).
//
// Split finding is exact (scikit-learn's midpoint thresholds) for features
// with at most 256 distinct values and on 256 quantile bins otherwise; see
// package tree. With max_features below all, the features drawn come from
// a fixed seed (0), so fits are deterministic.
//
// A classification tree (criterion gini) takes y as class indexes and is a
// Classifier: PredictProba gives the class frequencies of the leaf. A
// regression tree also has the Classifier methods, but Classes is 0 and
// PredictProba an error. FeatureImportances are the impurity decreases of
// the splits on each feature, normalised to sum 1 (scikit-learn's
// feature_importances_).
type DecisionTree struct {
	TreeParams
	fittedTrees
}

var _ Classifier = (*DecisionTree)(nil)

// NewDecisionTree returns an unfitted DecisionTree.
func NewDecisionTree(params map[string]any) (*DecisionTree, error) {
	p := NewParams(DecisionTreeName, params)
	e := &DecisionTree{TreeParams: readTreeParams(p, params, func(string) any { return nil })}
	return e, p.Err()
}

// Name returns "decision_tree".
func (e *DecisionTree) Name() string { return DecisionTreeName }

// Fit fits the tree: y is the target, or class indexes for criterion gini.
func (e *DecisionTree) Fit(X *Matrix, y []float64) error {
	if err := e.TreeParams.validParams(); err != nil {
		return fmt.Errorf("%s: fit: %w", DecisionTreeName, err)
	}
	return e.fit(DecisionTreeName, e.treeParams(), X, y)
}

// Predict returns the leaf value of each row of X, or its most probable
// class index for criterion gini.
func (e *DecisionTree) Predict(X *Matrix) ([]float64, error) {
	return e.predict(DecisionTreeName, X)
}

// PredictProba returns the class probabilities of each row of X
// (criterion gini only).
func (e *DecisionTree) PredictProba(X *Matrix) (*Matrix, error) {
	return e.predictProba(DecisionTreeName, X)
}

// Classes returns the number of classes of a fitted classification tree,
// else 0.
func (e *DecisionTree) Classes() int { return e.classes() }

// FeatureImportances returns the normalised impurity decrease per feature,
// or nil before Fit.
func (e *DecisionTree) FeatureImportances() []float64 { return e.importances() }

type decisionTreeJSON struct {
	TreeParams
	Model []byte `json:"model,omitempty"`
}

// MarshalJSON encodes the params and the fitted tree (its binary encoding).
func (e *DecisionTree) MarshalJSON() ([]byte, error) {
	b, err := e.marshal()
	if err != nil {
		return nil, err
	}
	return json.Marshal(decisionTreeJSON{e.TreeParams, b})
}

// UnmarshalJSON decodes what MarshalJSON wrote.
func (e *DecisionTree) UnmarshalJSON(data []byte) error {
	var w decisionTreeJSON
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	m, err := unmarshalTreeModel(w.Model)
	if err != nil {
		return err
	}
	e.TreeParams, e.model = w.TreeParams, m
	return nil
}

// Validate checks decoded state.
func (e *DecisionTree) Validate() error { return e.validate(e.TreeParams, 1) }
