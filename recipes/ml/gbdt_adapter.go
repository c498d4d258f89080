package ml

import (
	"encoding/json"
	"fmt"

	"github.com/sous-ml/sous/recipes/ml/gbdt"
)

// GBDTName is the name GBDT is registered under.
const GBDTName = "gbdt"

// gbdtAutoEarlyStoppingRows is the row count above which early_stopping
// "auto" turns early stopping on, as in scikit-learn.
const gbdtAutoEarlyStoppingRows = 10000

// gbdtUnlimitedLeaves stands for max_leaf_nodes null.
const gbdtUnlimitedLeaves = 1 << 24

func init() {
	Register(GBDTName, func(p map[string]any) (Estimator, error) { return NewGBDT(p) })
}

// GBDT is histogram gradient boosting (package gbdt), scikit-learn's
// HistGradientBoostingRegressor (loss squared_error, the default, or
// absolute_error) or HistGradientBoostingClassifier (loss log_loss: binary
// logistic for two classes, softmax for more; or softmax, multinomial for
// any number of classes). Registered as "gbdt";
// params: n_estimators (default 100, boosting iterations), learning_rate
// (0.1), max_leaf_nodes (31; null is unlimited), max_depth (null,
// unlimited), min_samples_leaf (20), l2_regularization (0), max_bins
// (255), early_stopping ("auto": on when there are more than 10,000 rows;
// true; false), validation_fraction (0.1; null means 0.1 too: scikit-learn
// would score the training data instead), n_iter_no_change (10), loss,
// random_state (null means 0). Losses poisson and gamma are not supported
// yet and are an error.
//
// A log_loss or softmax model is a Classifier of class indexes; a regression model
// has the Classifier methods but Classes is 0 and PredictProba an error.
// FeatureImportances are each feature's share of the total split gain.
type GBDT struct {
	NEstimators        int     `json:"n_estimators"`
	LearningRate       float64 `json:"learning_rate"`
	MaxLeafNodes       int     `json:"max_leaf_nodes"`
	MaxDepth           int     `json:"max_depth,omitempty"`
	MinSamplesLeaf     int     `json:"min_samples_leaf"`
	L2Regularization   float64 `json:"l2_regularization"`
	MaxBins            int     `json:"max_bins"`
	EarlyStopping      string  `json:"early_stopping"` // auto, true or false
	ValidationFraction float64 `json:"validation_fraction"`
	NIterNoChange      int     `json:"n_iter_no_change"`
	Loss               string  `json:"loss"`
	RandomState        int64   `json:"random_state"`
	// Threads bounds the goroutines Fit uses; 0 means GOMAXPROCS. It does
	// not change the model and is not saved.
	Threads int `json:"-"`

	model *gbdt.Model
}

var _ Classifier = (*GBDT)(nil)

// NewGBDT returns an unfitted GBDT.
func NewGBDT(params map[string]any) (*GBDT, error) {
	p := NewParams(GBDTName, params)
	e := &GBDT{
		NEstimators:        p.Int("n_estimators", 100),
		LearningRate:       p.Float("learning_rate", 0.1),
		MaxLeafNodes:       p.Int("max_leaf_nodes", 31),
		MaxDepth:           p.Int("max_depth", 0),
		MinSamplesLeaf:     p.Int("min_samples_leaf", 20),
		L2Regularization:   p.Float("l2_regularization", 0),
		MaxBins:            p.Int("max_bins", 255),
		ValidationFraction: p.Float("validation_fraction", 0.1),
		NIterNoChange:      p.Int("n_iter_no_change", 10),
		Loss:               p.String("loss", gbdt.LossSquaredError, gbdt.LossSquaredError, gbdt.LossAbsoluteError, gbdt.LossLogLoss, gbdt.LossSoftmax, "poisson", "gamma"),
		RandomState:        int64(p.Int("random_state", 0)),
	}
	if _, ok := params["max_leaf_nodes"]; ok && params["max_leaf_nodes"] == nil {
		e.MaxLeafNodes = gbdtUnlimitedLeaves
	}
	if e.MaxDepth < 0 || e.MaxDepth == 0 && params["max_depth"] != nil {
		p.Fail("max_depth", "must be >= 1 or null, got %v", params["max_depth"])
	}
	p.lookup("early_stopping")
	switch v := params["early_stopping"].(type) {
	case nil:
		e.EarlyStopping = "auto"
	case bool:
		e.EarlyStopping = fmt.Sprint(v)
	case string:
		if v != "auto" {
			p.Fail("early_stopping", "is %q; allowed: auto, true, false", v)
		}
		e.EarlyStopping = v
	default:
		p.Fail("early_stopping", "must be auto, true or false, got %T %v", v, v)
	}
	if e.Loss == "poisson" || e.Loss == "gamma" {
		p.Fail("loss", "%s is not supported yet; use squared_error or absolute_error", e.Loss)
	}
	if e.RandomState < 0 {
		p.Fail("random_state", "must be >= 0 or null, got %v", e.RandomState)
	}
	if p.Err() == nil {
		if _, err := e.params(2, 1); err != nil {
			return e, fmt.Errorf("%s: %w", GBDTName, err)
		}
	}
	return e, p.Err()
}

// classification reports whether the loss is a classification loss.
func (e *GBDT) classification() bool {
	return e.Loss == gbdt.LossLogLoss || e.Loss == gbdt.LossSoftmax
}

// Name returns "gbdt".
func (e *GBDT) Name() string { return GBDTName }

// params converts to gbdt.Params for rows training rows and nClass
// classes (used to pick softmax).
func (e *GBDT) params(rows, nClass int) (gbdt.Params, error) {
	p := gbdt.Params{
		NIter: e.NEstimators, LearningRate: e.LearningRate, MaxLeafNodes: e.MaxLeafNodes,
		MaxDepth: e.MaxDepth, MinSamplesLeaf: e.MinSamplesLeaf, L2Regularization: e.L2Regularization,
		MaxBins: e.MaxBins, Loss: e.Loss, ValidationFraction: e.ValidationFraction,
		NIterNoChange: e.NIterNoChange, RandomState: e.RandomState, Threads: e.Threads,
	}
	switch e.EarlyStopping {
	case "auto":
		p.EarlyStopping = rows > gbdtAutoEarlyStoppingRows
	case "true":
		p.EarlyStopping = true
	case "false":
	default:
		return p, fmt.Errorf("early_stopping %q; allowed: auto, true, false", e.EarlyStopping)
	}
	if e.Loss == gbdt.LossLogLoss && nClass > 2 {
		p.Loss = gbdt.LossSoftmax
	}
	// Zero fields mean defaults to gbdt; reject them here instead.
	switch {
	case e.NEstimators < 1:
		return p, fmt.Errorf("n_estimators %d < 1", e.NEstimators)
	case !(e.LearningRate > 0):
		return p, fmt.Errorf("learning_rate %v must be > 0", e.LearningRate)
	case e.MaxLeafNodes < 2:
		return p, fmt.Errorf("max_leaf_nodes %d < 2", e.MaxLeafNodes)
	case e.MinSamplesLeaf < 1:
		return p, fmt.Errorf("min_samples_leaf %d < 1", e.MinSamplesLeaf)
	case e.MaxBins < 2:
		return p, fmt.Errorf("max_bins %d < 2", e.MaxBins)
	case !(e.ValidationFraction > 0 && e.ValidationFraction < 1):
		return p, fmt.Errorf("validation_fraction %v outside (0, 1)", e.ValidationFraction)
	case e.NIterNoChange < 1:
		return p, fmt.Errorf("n_iter_no_change %d < 1", e.NIterNoChange)
	case e.Loss != gbdt.LossSquaredError && e.Loss != gbdt.LossAbsoluteError && !e.classification():
		return p, fmt.Errorf("loss %q not supported", e.Loss)
	}
	return p, p.Validate()
}

// Fit fits the model: y is the target, or class indexes for log_loss.
func (e *GBDT) Fit(X *Matrix, y []float64) error {
	if err := checkTrainingShape(X, y); err != nil {
		return fmt.Errorf("%s: fit: %w", GBDTName, err)
	}
	if err := X.Check(); err != nil {
		return fmt.Errorf("%s: fit: %w", GBDTName, err)
	}
	nClass := 0
	if e.classification() {
		for _, v := range y {
			if v >= 0 && v < 1<<20 {
				nClass = max(nClass, int(v)+1)
			}
		}
	}
	p, err := e.params(X.Rows, nClass)
	if err != nil {
		return fmt.Errorf("%s: fit: %w", GBDTName, err)
	}
	if p.Loss == gbdt.LossSoftmax {
		p.NumClass = nClass
	}
	m, err := gbdt.Fit(X.Data, X.Rows, X.Cols, y, p)
	if err != nil {
		return fmt.Errorf("%s: fit: %w", GBDTName, err)
	}
	e.model = m
	return nil
}

func (e *GBDT) checkPredict(X *Matrix) error {
	if e.model == nil {
		return fmt.Errorf("%s: predict: model is not fitted", GBDTName)
	}
	if err := CheckPredictData(X, e.model.NumFeatures()); err != nil {
		return fmt.Errorf("%s: predict: %w", GBDTName, err)
	}
	return nil
}

// Predict returns the prediction for each row of X, or its most probable
// class index for log_loss.
func (e *GBDT) Predict(X *Matrix) ([]float64, error) {
	if err := e.checkPredict(X); err != nil {
		return nil, err
	}
	if e.model.Loss() == gbdt.LossLogLoss {
		p := e.model.Predict(X.Data, X.Rows, X.Cols) // P(class 1)
		out := make([]float64, len(p))
		for i, v := range p {
			if v > 0.5 {
				out[i] = 1
			}
		}
		return out, nil
	}
	return e.model.Predict(X.Data, X.Rows, X.Cols), nil
}

// PredictProba returns the class probabilities of each row of X (log_loss
// only).
func (e *GBDT) PredictProba(X *Matrix) (*Matrix, error) {
	if err := e.checkPredict(X); err != nil {
		return nil, err
	}
	k := e.model.NumClass()
	if k == 0 {
		return nil, fmt.Errorf("%s: predict_proba: a regression model (loss %s) has no class probabilities", GBDTName, e.Loss)
	}
	return &Matrix{Rows: X.Rows, Cols: k, Data: e.model.PredictProba(X.Data, X.Rows, X.Cols)}, nil
}

// Classes returns the number of classes of a fitted log_loss model, else 0.
func (e *GBDT) Classes() int {
	if e.model == nil {
		return 0
	}
	return e.model.NumClass()
}

// FeatureImportances returns each feature's share of the total split gain,
// or nil before Fit.
func (e *GBDT) FeatureImportances() []float64 {
	if e.model == nil {
		return nil
	}
	return e.model.FeatureImportances()
}

type gbdtAlias GBDT

type gbdtJSON struct {
	*gbdtAlias
	Model []byte `json:"model,omitempty"`
}

// MarshalJSON encodes the params and the fitted model (its binary
// encoding).
func (e *GBDT) MarshalJSON() ([]byte, error) {
	var b []byte
	if e.model != nil {
		var err error
		if b, err = e.model.MarshalBinary(); err != nil {
			return nil, err
		}
	}
	return json.Marshal(gbdtJSON{(*gbdtAlias)(e), b})
}

// UnmarshalJSON decodes what MarshalJSON wrote.
func (e *GBDT) UnmarshalJSON(data []byte) error {
	w := gbdtJSON{gbdtAlias: (*gbdtAlias)(e)}
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	e.model = nil
	if len(w.Model) > 0 {
		m := new(gbdt.Model)
		if err := m.UnmarshalBinary(w.Model); err != nil {
			return err
		}
		e.model = m
	}
	return nil
}

// Validate checks decoded state.
func (e *GBDT) Validate() error {
	if _, err := e.params(2, 3); err != nil {
		return err
	}
	if e.model != nil && (e.model.NumClass() > 0) != e.classification() {
		return fmt.Errorf("model has %d classes but loss is %s", e.model.NumClass(), e.Loss)
	}
	return nil
}
