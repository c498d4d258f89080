package tree

import (
	"errors"
	"fmt"
	"math"
	"sync"

	"golang.org/x/sync/errgroup"
)

// Model is a fitted tree or forest. It is safe for concurrent use once
// fitted or unmarshalled.
type Model struct {
	task        Task
	nClass      int
	nFeatures   int
	trees       []treeModel
	importances []float64
}

// Task returns what the model predicts.
func (m *Model) Task() Task { return m.task }

// NumClass returns the number of classes, or 0 for regression.
func (m *Model) NumClass() int { return m.nClass }

// NumFeatures returns the number of columns the model was fitted on.
func (m *Model) NumFeatures() int { return m.nFeatures }

// NumTrees returns the number of trees.
func (m *Model) NumTrees() int { return len(m.trees) }

// NumNodes returns the total number of nodes of all trees.
func (m *Model) NumNodes() int {
	n := 0
	for _, t := range m.trees {
		n += len(t.nodes)
	}
	return n
}

// FeatureImportances returns the impurity-based (mean decrease in impurity)
// importance of each feature: per tree, the total weighted impurity decrease
// of the splits on it, normalised to sum 1; for a forest the mean over trees,
// normalised again. All zero when no tree has a split.
func (m *Model) FeatureImportances() []float64 {
	return append([]float64(nil), m.importances...)
}

// FitTree fits one CART tree on all rows of X (row-major, rows×cols): p's
// NEstimators and Bootstrap are ignored.
func FitTree(X []float64, rows, cols int, y []float64, p Params) (*Model, error) {
	p.NEstimators = 1
	p.Bootstrap = false
	return Fit(X, rows, cols, y, p)
}

// Fit fits a forest of p.NEstimators trees on X (row-major, rows×cols) and
// y. For Classification y holds class codes 0..NumClass-1.
//
// X must be finite: NaN or ±Inf is an error naming the row and column, as is
// a non-finite y, a classification y that is not a class code, or an empty
// X. A single row, or a constant feature, is fine (it gives a one-leaf tree,
// or is never split on).
func Fit(X []float64, rows, cols int, y []float64, p Params) (*Model, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	p = p.withDefaults()
	if err := checkShape(X, rows, cols); err != nil {
		return nil, err
	}
	if len(y) != rows {
		return nil, fmt.Errorf("tree: X has %d rows but y has %d values", rows, len(y))
	}
	for k, v := range X {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("tree: X[%d][%d] is %v; features must be finite", k/cols, k%cols, v)
		}
	}
	k := 0
	var cls []int32
	if p.Task == Classification {
		var err error
		if cls, k, err = classCodes(y, p.NumClass); err != nil {
			return nil, err
		}
	} else {
		for i, v := range y {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("tree: y[%d] is %v; the target must be finite", i, v)
			}
		}
	}

	b := binMatrix(X, rows, cols, p.MaxBins, p.Threads)
	m := &Model{task: p.Task, nClass: k, nFeatures: cols, trees: make([]treeModel, p.NEstimators)}
	imps := make([][]float64, p.NEstimators)
	pool := sync.Pool{New: func() any { return newGrower(b, p, k, y, cls) }}
	var eg errgroup.Group
	eg.SetLimit(p.Threads)
	for t := range p.NEstimators {
		eg.Go(func() error {
			g := pool.Get().(*grower)
			m.trees[t], imps[t] = g.grow(t)
			pool.Put(g)
			return nil
		})
	}
	_ = eg.Wait() // growers return no errors
	m.importances = meanImportances(imps, cols)
	return m, nil
}

func meanImportances(imps [][]float64, cols int) []float64 {
	out := make([]float64, cols)
	for _, imp := range imps {
		for f, v := range imp {
			out[f] += v
		}
	}
	var s float64
	for _, v := range out {
		s += v
	}
	if s > 0 {
		for f := range out {
			out[f] /= s
		}
	}
	return out
}

func checkShape(X []float64, rows, cols int) error {
	switch {
	case rows <= 0:
		return errors.New("tree: X is empty")
	case cols <= 0:
		return errors.New("tree: X has no columns")
	case rows > math.MaxInt32:
		return fmt.Errorf("tree: %d rows, at most %d supported", rows, math.MaxInt32)
	case cols > math.MaxInt32/2 || rows > math.MaxInt/cols || len(X) != rows*cols:
		return fmt.Errorf("tree: X is %d×%d but holds %d values", rows, cols, len(X))
	}
	return nil
}

// classCodes converts y to class codes and returns the number of classes.
func classCodes(y []float64, numClass int) ([]int32, int, error) {
	cls := make([]int32, len(y))
	k := numClass
	hi := numClass
	if hi == 0 {
		hi = MaxClasses
	}
	for i, v := range y {
		if !(v >= 0 && v < float64(hi)) || v != math.Trunc(v) {
			return nil, 0, fmt.Errorf("tree: y[%d] is %v; classification needs class codes 0..%d", i, v, hi-1)
		}
		cls[i] = int32(v)
		if numClass == 0 {
			k = max(k, int(v)+1)
		}
	}
	return cls, k, nil
}
