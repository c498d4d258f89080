package ml

import (
	"encoding/json"
	"fmt"

	"github.com/sous-ml/sous/recipes/ml/tree"
)

func init() {
	Register(RandomForestName, func(p map[string]any) (Estimator, error) { return NewRandomForest(p) })
}

// RandomForest is a random forest, scikit-learn's RandomForestRegressor
// (criterion "squared_error", the default) or RandomForestClassifier
// (criterion "gini"). Registered as "random_forest"; params: criterion,
// n_estimators (default 100), max_depth (default null, unlimited),
// min_samples_leaf (default 1), min_samples_split (default 2),
// max_features (default 1.0 for regression and "sqrt" for
// classification; null is all features), bootstrap (default true),
// random_state (default null, which here means seed 0: fits are
// reproducible unless random_state is changed).
//
// Each tree is fitted on a bootstrap sample (if bootstrap) with
// max_features features drawn at each split; trees are fitted in parallel
// (Threads goroutines, default GOMAXPROCS) from per-tree seeds, so the
// forest depends on random_state only, not on the thread count. Features
// are binned once per fit and the bins shared by all trees (see package
// tree). Regression predicts the mean of the trees, classification the
// class of highest mean probability; PredictProba is the mean of the
// trees' leaf class frequencies. A regression forest has the Classifier
// methods but Classes is 0 and PredictProba an error. FeatureImportances
// are the mean over trees of each tree's normalised impurity decreases
// (scikit-learn's feature_importances_).
type RandomForest struct {
	TreeParams
	NEstimators int   `json:"n_estimators"`
	Bootstrap   bool  `json:"bootstrap"`
	RandomState int64 `json:"random_state"`
	// Threads bounds the goroutines Fit uses; 0 means GOMAXPROCS. It does
	// not change the model and is not saved.
	Threads int `json:"-"`
	fittedTrees
}

var _ Classifier = (*RandomForest)(nil)

// NewRandomForest returns an unfitted RandomForest.
func NewRandomForest(params map[string]any) (*RandomForest, error) {
	p := NewParams(RandomForestName, params)
	e := &RandomForest{
		TreeParams: readTreeParams(p, params, func(criterion string) any {
			if criterion == CriterionGini {
				return "sqrt"
			}
			return 1.0
		}),
		NEstimators: p.Int("n_estimators", 100),
		Bootstrap:   p.Bool("bootstrap", true),
		RandomState: int64(p.Int("random_state", 0)),
	}
	if e.NEstimators < 1 {
		p.Fail("n_estimators", "must be >= 1, got %v", e.NEstimators)
	}
	if e.RandomState < 0 {
		p.Fail("random_state", "must be >= 0 or null, got %v", e.RandomState)
	}
	return e, p.Err()
}

// Name returns "random_forest".
func (e *RandomForest) Name() string { return RandomForestName }

func (e *RandomForest) params() (tree.Params, error) {
	if err := e.TreeParams.validParams(); err != nil {
		return tree.Params{}, err
	}
	if e.NEstimators < 1 || e.RandomState < 0 || e.Threads < 0 {
		return tree.Params{}, fmt.Errorf("n_estimators %d, random_state %d, threads %d", e.NEstimators, e.RandomState, e.Threads)
	}
	p := e.treeParams()
	p.NEstimators = e.NEstimators
	p.Bootstrap = e.Bootstrap
	p.Seed = uint64(e.RandomState)
	p.Threads = e.Threads
	return p, nil
}

// Fit fits the forest: y is the target, or class indexes for criterion gini.
func (e *RandomForest) Fit(X *Matrix, y []float64) error {
	p, err := e.params()
	if err != nil {
		return fmt.Errorf("%s: fit: %w", RandomForestName, err)
	}
	return e.fit(RandomForestName, p, X, y)
}

// Predict returns the mean prediction of the trees for each row of X, or
// the class index of highest mean probability for criterion gini.
func (e *RandomForest) Predict(X *Matrix) ([]float64, error) {
	return e.predict(RandomForestName, X)
}

// PredictProba returns the mean class probabilities of the trees for each
// row of X (criterion gini only).
func (e *RandomForest) PredictProba(X *Matrix) (*Matrix, error) {
	return e.predictProba(RandomForestName, X)
}

// Classes returns the number of classes of a fitted classification forest,
// else 0.
func (e *RandomForest) Classes() int { return e.classes() }

// FeatureImportances returns the mean decrease in impurity per feature,
// normalised to sum 1, or nil before Fit.
func (e *RandomForest) FeatureImportances() []float64 { return e.importances() }

type randomForestJSON struct {
	TreeParams
	NEstimators int    `json:"n_estimators"`
	Bootstrap   bool   `json:"bootstrap"`
	RandomState int64  `json:"random_state"`
	Model       []byte `json:"model,omitempty"`
}

// MarshalJSON encodes the params and the fitted forest (its binary
// encoding).
func (e *RandomForest) MarshalJSON() ([]byte, error) {
	b, err := e.marshal()
	if err != nil {
		return nil, err
	}
	return json.Marshal(randomForestJSON{e.TreeParams, e.NEstimators, e.Bootstrap, e.RandomState, b})
}

// UnmarshalJSON decodes what MarshalJSON wrote.
func (e *RandomForest) UnmarshalJSON(data []byte) error {
	var w randomForestJSON
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	m, err := unmarshalTreeModel(w.Model)
	if err != nil {
		return err
	}
	e.TreeParams, e.NEstimators, e.Bootstrap, e.RandomState, e.model = w.TreeParams, w.NEstimators, w.Bootstrap, w.RandomState, m
	return nil
}

// Validate checks decoded state.
func (e *RandomForest) Validate() error {
	if _, err := e.params(); err != nil {
		return err
	}
	return e.validate(e.TreeParams, e.NEstimators)
}
