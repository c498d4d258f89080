package tree

import (
	"fmt"
	"runtime"
	"sync"
)

// predictBlock is the number of rows each tree walks before the next tree:
// the block of X stays in cache while every tree visits it.
const predictBlock = 512

// leaf returns the value offset of the leaf row x falls in. NaN compares
// false and goes right.
func (t *treeModel) leaf(x []float64) int32 {
	nodes := t.nodes
	i := int32(0)
	for {
		n := &nodes[i]
		if n.feat < 0 {
			return n.right
		}
		if x[n.feat] <= n.thr {
			i++
		} else {
			i = n.right
		}
	}
}

func (m *Model) checkInput(X []float64, rows, cols int) error {
	if m == nil || len(m.trees) == 0 {
		return fmt.Errorf("tree: model is not fitted")
	}
	if cols != m.nFeatures {
		return fmt.Errorf("tree: X has %d columns, the model was fitted on %d", cols, m.nFeatures)
	}
	if rows < 0 || len(X) != rows*cols {
		return fmt.Errorf("tree: X is %d×%d but holds %d values", rows, cols, len(X))
	}
	return nil
}

// raw fills out (rows×width) with the mean over trees of the leaf values,
// width 1 for regression and NumClass for classification, over blocks of
// rows in parallel.
func (m *Model) raw(X []float64, rows, cols int) []float64 {
	width := max(m.nClass, 1)
	out := make([]float64, rows*width)
	nblocks := (rows + predictBlock - 1) / predictBlock
	threads := min(runtime.GOMAXPROCS(0), nblocks)
	scale := 1 / float64(len(m.trees))
	work := func(blk int) {
		lo := blk * predictBlock
		hi := min(lo+predictBlock, rows)
		for ti := range m.trees {
			t := &m.trees[ti]
			for i := lo; i < hi; i++ {
				off := t.leaf(X[i*cols : (i+1)*cols])
				if width == 1 {
					out[i] += t.values[off]
					continue
				}
				o := out[i*width : (i+1)*width]
				for c, v := range t.values[off : int(off)+width] {
					o[c] += v
				}
			}
		}
		for i := lo * width; i < hi*width; i++ {
			out[i] *= scale
		}
	}
	if threads <= 1 {
		for blk := range nblocks {
			work(blk)
		}
		return out
	}
	var wg sync.WaitGroup
	next := make(chan int, nblocks)
	for blk := range nblocks {
		next <- blk
	}
	close(next)
	for range threads {
		wg.Go(func() {
			for blk := range next {
				work(blk)
			}
		})
	}
	wg.Wait()
	return out
}

// Predict returns one prediction per row of X (row-major, rows×cols): the
// mean of the trees' leaf values for regression, and for classification
// the class code with the highest mean probability (the lowest code on a
// tie). A NaN feature goes to the right child of every split on it.
func (m *Model) Predict(X []float64, rows, cols int) ([]float64, error) {
	if err := m.checkInput(X, rows, cols); err != nil {
		return nil, err
	}
	r := m.raw(X, rows, cols)
	if m.task == Regression {
		return r, nil
	}
	k := m.nClass
	out := make([]float64, rows)
	for i := range out {
		p := r[i*k : (i+1)*k]
		best := 0
		for c, v := range p {
			if v > p[best] {
				best = c
			}
		}
		out[i] = float64(best)
	}
	return out, nil
}

// PredictProba returns the class probabilities of a classification model,
// rows×NumClass row-major: the mean over trees of the leaf class
// frequencies.
func (m *Model) PredictProba(X []float64, rows, cols int) ([]float64, error) {
	if err := m.checkInput(X, rows, cols); err != nil {
		return nil, err
	}
	if m.task != Classification {
		return nil, fmt.Errorf("tree: PredictProba on a %v model", m.task)
	}
	return m.raw(X, rows, cols), nil
}
