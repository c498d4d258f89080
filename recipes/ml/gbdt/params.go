package gbdt

import (
	"fmt"
	"math"
	"runtime"
)

// Loss names accepted in Params.Loss.
const (
	LossSquaredError  = "squared_error"
	LossAbsoluteError = "absolute_error"
	LossLogLoss       = "log_loss"
	LossSoftmax       = "softmax"
)

// Defaults applied by Fit to zero-valued Params fields.
const (
	DefaultNIter              = 100
	DefaultLearningRate       = 0.1
	DefaultMaxLeafNodes       = 31
	DefaultMinSamplesLeaf     = 20
	DefaultMaxBins            = 255
	DefaultLoss               = LossSquaredError
	DefaultValidationFraction = 0.1
	DefaultNIterNoChange      = 10
	DefaultTol                = 1e-7

	// MissingBin is the bin that holds NaN values; value bins are 0..MaxBins-1.
	MissingBin = 255

	// maxLeafNodes and maxFeatures keep the prediction layout's 32-bit
	// byte offsets in range.
	maxLeafNodes = 1 << 24
	maxFeatures  = 1 << 28

	// binSubsample is the number of rows the bin thresholds are computed from.
	binSubsample = 200_000
	// minHessian is the smallest hessian sum a child may have (sklearn's
	// min_hessian_to_split).
	minHessian = 1e-3
)

// Params configures Fit. A zero field takes the Default value named after
// it (L2Regularization, MaxDepth, RandomState and EarlyStopping default to
// their zero values).
type Params struct {
	// NIter is the number of boosting iterations (n_estimators). Softmax
	// grows NumClass trees per iteration.
	NIter int
	// LearningRate shrinks every leaf value.
	LearningRate float64
	// MaxLeafNodes bounds the leaves of each tree (best-first growth).
	MaxLeafNodes int
	// MaxDepth bounds the depth of each tree; 0 means unlimited.
	MaxDepth int
	// MinSamplesLeaf is the fewest training rows a leaf may hold.
	MinSamplesLeaf int
	// L2Regularization is the lambda added to hessian sums.
	L2Regularization float64
	// MaxBins is the number of value bins per feature, at most 255; NaN
	// values go to the extra bin MissingBin.
	MaxBins int
	// Loss is one of the Loss* constants.
	Loss string
	// NumClass is the number of classes for softmax (0 infers max(y)+1); it
	// must be 0 or 2 for log_loss and is ignored for regression.
	NumClass int
	// EarlyStopping holds out ValidationFraction of the rows and stops after
	// NIterNoChange iterations without a validation-loss improvement of Tol,
	// keeping the best iteration.
	EarlyStopping      bool
	ValidationFraction float64
	NIterNoChange      int
	Tol                float64
	// RandomState seeds the binning subsample and the validation split.
	RandomState int64
	// Threads bounds the goroutines Fit uses; 0 means GOMAXPROCS. The model
	// does not depend on it.
	Threads int
}

// DefaultParams returns Params with every default filled in.
func DefaultParams() Params {
	return Params{}.withDefaults()
}

func (p Params) withDefaults() Params {
	if p.NIter == 0 {
		p.NIter = DefaultNIter
	}
	if p.LearningRate == 0 {
		p.LearningRate = DefaultLearningRate
	}
	if p.MaxLeafNodes == 0 {
		p.MaxLeafNodes = DefaultMaxLeafNodes
	}
	if p.MinSamplesLeaf == 0 {
		p.MinSamplesLeaf = DefaultMinSamplesLeaf
	}
	if p.MaxBins == 0 {
		p.MaxBins = DefaultMaxBins
	}
	if p.Loss == "" {
		p.Loss = DefaultLoss
	}
	if p.ValidationFraction == 0 {
		p.ValidationFraction = DefaultValidationFraction
	}
	if p.NIterNoChange == 0 {
		p.NIterNoChange = DefaultNIterNoChange
	}
	if p.Tol == 0 {
		p.Tol = DefaultTol
	}
	if p.Threads == 0 {
		p.Threads = runtime.GOMAXPROCS(0)
	}
	return p
}

// Validate reports the first invalid field of p after defaults are applied.
func (p Params) Validate() error {
	p = p.withDefaults()
	switch {
	case p.NIter < 1:
		return fmt.Errorf("gbdt: NIter %d < 1", p.NIter)
	case !(p.LearningRate > 0) || math.IsInf(p.LearningRate, 0):
		return fmt.Errorf("gbdt: LearningRate %v must be positive and finite", p.LearningRate)
	case p.MaxLeafNodes < 2 || p.MaxLeafNodes > maxLeafNodes:
		return fmt.Errorf("gbdt: MaxLeafNodes %d outside [2, %d]", p.MaxLeafNodes, maxLeafNodes)
	case p.MaxDepth < 0:
		return fmt.Errorf("gbdt: MaxDepth %d < 0", p.MaxDepth)
	case p.MinSamplesLeaf < 1:
		return fmt.Errorf("gbdt: MinSamplesLeaf %d < 1", p.MinSamplesLeaf)
	case !(p.L2Regularization >= 0) || math.IsInf(p.L2Regularization, 0):
		return fmt.Errorf("gbdt: L2Regularization %v must be >= 0 and finite", p.L2Regularization)
	case p.MaxBins < 2 || p.MaxBins > 255:
		return fmt.Errorf("gbdt: MaxBins %d outside [2, 255]", p.MaxBins)
	case p.NumClass < 0:
		return fmt.Errorf("gbdt: NumClass %d < 0", p.NumClass)
	case p.EarlyStopping && !(p.ValidationFraction > 0 && p.ValidationFraction < 1):
		return fmt.Errorf("gbdt: ValidationFraction %v outside (0, 1)", p.ValidationFraction)
	case p.NIterNoChange < 1:
		return fmt.Errorf("gbdt: NIterNoChange %d < 1", p.NIterNoChange)
	case !(p.Tol >= 0):
		return fmt.Errorf("gbdt: Tol %v < 0", p.Tol)
	case p.Threads < 1:
		return fmt.Errorf("gbdt: Threads %d < 0", p.Threads)
	}
	if _, err := parseLoss(p.Loss); err != nil {
		return err
	}
	if p.Loss == LossLogLoss && p.NumClass != 0 && p.NumClass != 2 {
		return fmt.Errorf("gbdt: NumClass %d with log_loss, want 2 (use softmax)", p.NumClass)
	}
	return nil
}
