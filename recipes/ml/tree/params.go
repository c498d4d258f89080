package tree

import (
	"fmt"
	"math"
	"runtime"
)

// Task is what a model predicts.
type Task uint8

const (
	// Regression fits squared-error (variance reduction) trees; a leaf
	// predicts the mean target of its training rows.
	Regression Task = iota
	// Classification fits Gini trees on class codes 0..NumClass-1; a leaf
	// holds the class frequencies of its training rows.
	Classification
)

func (t Task) String() string {
	switch t {
	case Regression:
		return "regression"
	case Classification:
		return "classification"
	}
	return fmt.Sprintf("Task(%d)", uint8(t))
}

// Rules for Params.MaxFeatures.
const (
	MaxFeaturesAll  = ""     // every feature at every split
	MaxFeaturesSqrt = "sqrt" // max(1, floor(sqrt(p)))
	MaxFeaturesLog2 = "log2" // max(1, floor(log2(p)))
)

// Limits.
const (
	// MaxBins is the largest number of bins a feature is quantised into.
	MaxBins = 256
	// MaxClasses bounds NumClass.
	MaxClasses = 1 << 16
)

// Params configures Fit and FitTree. The zero value is one CART tree with
// unlimited depth (scikit-learn's DecisionTreeRegressor defaults).
type Params struct {
	Task Task
	// NumClass is the number of classes for Classification; 0 infers
	// max(y)+1.
	NumClass int
	// NEstimators is the number of trees Fit grows; 0 means 1 (FitTree
	// always grows one).
	NEstimators int
	// MaxDepth bounds the depth of each tree (the root is depth 0); 0
	// means unlimited.
	MaxDepth int
	// MinSamplesLeaf is the fewest distinct training rows a leaf may hold;
	// 0 means 1.
	MinSamplesLeaf int
	// MinSamplesSplit is the fewest distinct training rows a node needs to
	// be split; 0 means 2.
	MinSamplesSplit int
	// MaxFeatures is the rule for the number of features tried at each
	// split: MaxFeaturesAll, MaxFeaturesSqrt or MaxFeaturesLog2. It is
	// ignored when MaxFeaturesFraction is set.
	MaxFeatures string
	// MaxFeaturesFraction in (0, 1] tries max(1, floor(f·p)) features at
	// each split; 0 means use MaxFeatures.
	MaxFeaturesFraction float64
	// Bootstrap fits each tree of Fit on n rows drawn with replacement.
	// The zero value (false) fits every tree on all rows; FitTree ignores it.
	Bootstrap bool
	// Seed makes the fit deterministic: the same data, Params and Seed give
	// the same model whatever Threads is.
	Seed uint64
	// Threads bounds the goroutines Fit uses (one tree each); 0 means
	// GOMAXPROCS.
	Threads int
	// MaxBins is the number of quantile bins per feature, 2..256; 0 means
	// 256.
	MaxBins int
}

// DefaultForestParams returns scikit-learn's RandomForest defaults for
// task: 100 bootstrapped trees, all features per split for regression and
// sqrt(p) for classification.
func DefaultForestParams(task Task) Params {
	p := Params{Task: task, NEstimators: 100, Bootstrap: true}
	if task == Classification {
		p.MaxFeatures = MaxFeaturesSqrt
	}
	return p
}

func (p Params) withDefaults() Params {
	if p.NEstimators == 0 {
		p.NEstimators = 1
	}
	if p.MinSamplesLeaf == 0 {
		p.MinSamplesLeaf = 1
	}
	if p.MinSamplesSplit == 0 {
		p.MinSamplesSplit = 2
	}
	if p.Threads == 0 {
		p.Threads = runtime.GOMAXPROCS(0)
	}
	if p.MaxBins == 0 {
		p.MaxBins = MaxBins
	}
	return p
}

// Validate reports the first invalid field of p after defaults are applied.
func (p Params) Validate() error {
	p = p.withDefaults()
	switch {
	case p.Task != Regression && p.Task != Classification:
		return fmt.Errorf("tree: unknown %v", p.Task)
	case p.NumClass < 0 || p.NumClass > MaxClasses:
		return fmt.Errorf("tree: NumClass %d outside [0, %d]", p.NumClass, MaxClasses)
	case p.NEstimators < 1:
		return fmt.Errorf("tree: NEstimators %d < 1", p.NEstimators)
	case p.MaxDepth < 0:
		return fmt.Errorf("tree: MaxDepth %d < 0", p.MaxDepth)
	case p.MinSamplesLeaf < 1:
		return fmt.Errorf("tree: MinSamplesLeaf %d < 1", p.MinSamplesLeaf)
	case p.MinSamplesSplit < 2:
		return fmt.Errorf("tree: MinSamplesSplit %d < 2", p.MinSamplesSplit)
	case p.MaxFeatures != MaxFeaturesAll && p.MaxFeatures != MaxFeaturesSqrt && p.MaxFeatures != MaxFeaturesLog2:
		return fmt.Errorf("tree: MaxFeatures %q, want \"\", \"sqrt\" or \"log2\"", p.MaxFeatures)
	case math.IsNaN(p.MaxFeaturesFraction) || p.MaxFeaturesFraction < 0 || p.MaxFeaturesFraction > 1:
		return fmt.Errorf("tree: MaxFeaturesFraction %v outside (0, 1]", p.MaxFeaturesFraction)
	case p.Threads < 1:
		return fmt.Errorf("tree: Threads %d < 1", p.Threads)
	case p.MaxBins < 2 || p.MaxBins > MaxBins:
		return fmt.Errorf("tree: MaxBins %d outside [2, %d]", p.MaxBins, MaxBins)
	}
	return nil
}

// nFeaturesPerSplit resolves the max_features rule for cols features.
func (p Params) nFeaturesPerSplit(cols int) int {
	k := cols
	switch {
	case p.MaxFeaturesFraction > 0:
		k = int(p.MaxFeaturesFraction * float64(cols))
	case p.MaxFeatures == MaxFeaturesSqrt:
		k = int(math.Sqrt(float64(cols)))
	case p.MaxFeatures == MaxFeaturesLog2:
		k = int(math.Log2(float64(cols)))
	}
	return min(max(k, 1), cols)
}
