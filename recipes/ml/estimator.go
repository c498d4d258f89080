package ml

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
)

// Estimator is a model that learns y from the rows of X.
//
// Implementations must be pointers whose state (params and fitted values)
// round-trips through encoding/json, since MarshalEstimator and
// UnmarshalEstimator are json.Marshal and json.Unmarshal; they may implement
// json.Marshaler and json.Unmarshaler to control the encoding, and
// Validate() error to check decoded state.
type Estimator interface {
	// Fit learns from X (n×p) and y (n values). It returns an error, and
	// leaves the estimator as it was, for an empty X, mismatched lengths, a
	// non-finite value, or a fit that would not be finite. It never panics.
	Fit(X *Matrix, y []float64) error
	// Predict returns one prediction per row of X. X must have as many
	// columns as the X given to Fit and hold finite values; predicting before
	// Fit is an error.
	Predict(X *Matrix) ([]float64, error)
	// FeatureImportances returns one non-negative weight per column of X,
	// summing to 1 (or all zero), or nil before Fit. Each estimator documents
	// what its weights mean.
	FeatureImportances() []float64
	// Name is the name the estimator is registered under.
	Name() string
}

// Factory returns a new, unfitted estimator configured by params. It rejects
// unknown or mistyped params with an error naming them and the allowed ones
// (see Params). UnmarshalEstimator calls it with nil params.
type Factory func(params map[string]any) (Estimator, error)

var registry = struct {
	sync.RWMutex
	m map[string]Factory
}{m: make(map[string]Factory)}

// Register makes an estimator available to NewEstimator and
// UnmarshalEstimator under name. It panics if name is empty, factory is nil
// or name is already registered, like database/sql.Register; call it from
// an init function.
func Register(name string, factory Factory) {
	if name == "" || factory == nil {
		panic("ml: Register: empty name or nil factory")
	}
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.m[name]; dup {
		panic("ml: Register called twice for estimator " + name)
	}
	registry.m[name] = factory
}

// Estimators returns the registered estimator names, sorted.
func Estimators() []string {
	registry.RLock()
	defer registry.RUnlock()
	names := make([]string, 0, len(registry.m))
	for n := range registry.m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func factory(name string) (Factory, error) {
	registry.RLock()
	f, ok := registry.m[name]
	registry.RUnlock()
	if !ok {
		return nil, fmt.Errorf("ml: unknown estimator %q; registered: %s", name, strings.Join(Estimators(), ", "))
	}
	return f, nil
}

// NewEstimator returns a new, unfitted estimator of the registered name.
func NewEstimator(name string, params map[string]any) (Estimator, error) {
	f, err := factory(name)
	if err != nil {
		return nil, err
	}
	e, err := f(params)
	if err != nil {
		return nil, fmt.Errorf("ml: %w", err)
	}
	return e, nil
}

// MarshalEstimator encodes e's params and fitted state as JSON.
func MarshalEstimator(e Estimator) (json.RawMessage, error) {
	if e == nil {
		return nil, errors.New("ml: marshal estimator: nil estimator")
	}
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("ml: marshal estimator %s: %w", e.Name(), err)
	}
	return b, nil
}

// UnmarshalEstimator decodes state written by MarshalEstimator for the
// estimator registered as name.
func UnmarshalEstimator(name string, data []byte) (Estimator, error) {
	f, err := factory(name)
	if err != nil {
		return nil, err
	}
	e, err := f(nil)
	if err != nil {
		return nil, fmt.Errorf("ml: unmarshal estimator %s: %w", name, err)
	}
	if err := json.Unmarshal(data, e); err != nil {
		return nil, fmt.Errorf("ml: unmarshal estimator %s: %w", name, err)
	}
	if v, ok := e.(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			return nil, fmt.Errorf("ml: unmarshal estimator %s: %w", name, err)
		}
	}
	return e, nil
}

// CheckTrainingData returns an error for an empty or malformed X, a y whose
// length is not X.Rows, or a non-finite value in either, naming the row.
// Estimators call it first in Fit.
func CheckTrainingData(X *Matrix, y []float64) error {
	if err := checkTrainingShape(X, y); err != nil {
		return err
	}
	return X.Check()
}

// checkTrainingShape is CheckTrainingData without the scan of X for
// non-finite values, for estimators that detect those in their own pass.
func checkTrainingShape(X *Matrix, y []float64) error {
	if X == nil || X.Rows == 0 {
		return errors.New("X is empty")
	}
	if X.Cols == 0 {
		return errors.New("X has no columns")
	}
	if X.Rows < 0 || len(X.Data) != X.Rows*X.Cols {
		return fmt.Errorf("matrix is %d×%d but holds %d values", X.Rows, X.Cols, len(X.Data))
	}
	if len(y) != X.Rows {
		return fmt.Errorf("X has %d rows but y has %d values", X.Rows, len(y))
	}
	for i, v := range y {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("y[%d] is %v; the target must be finite", i, v)
		}
	}
	return nil
}

// CheckPredictData returns an error for a malformed X, one with other than
// cols columns, or a non-finite value.
func CheckPredictData(X *Matrix, cols int) error {
	if X == nil {
		return errors.New("X is nil")
	}
	if X.Cols != cols {
		return fmt.Errorf("X has %d columns, the model was fitted on %d", X.Cols, cols)
	}
	return X.Check()
}

// normalisedAbs returns |w| / sum|w|, or zeros when w is all zero.
func normalisedAbs(w []float64) []float64 {
	out := make([]float64, len(w))
	var s float64
	for _, v := range w {
		s += math.Abs(v)
	}
	if s == 0 || math.IsInf(s, 0) || math.IsNaN(s) {
		return out
	}
	for i, v := range w {
		out[i] = math.Abs(v) / s
	}
	return out
}
