package tree

import (
	"slices"
	"sort"
	"sync"
)

// binSubsample is the most rows the bin thresholds of a feature are
// computed from; larger inputs use an evenly strided subsample.
const binSubsample = 200_000

// bins is the training matrix quantised once per fit and shared read-only by
// every tree: feature f of row i is in bin col(f)[i], and x <= thr[f][b]
// exactly when its bin is <= b.
type bins struct {
	rows, cols int
	data       []uint8     // column-major, cols×rows
	thr        [][]float64 // per feature, ascending, len = number of bins - 1
}

func (b *bins) col(f int) []uint8 { return b.data[f*b.rows : (f+1)*b.rows] }

// nbins returns the number of bins of feature f.
func (b *bins) nbins(f int) int { return len(b.thr[f]) + 1 }

// binMatrix computes the thresholds of every feature and bins X, one
// feature per goroutine up to threads.
func binMatrix(X []float64, rows, cols, maxBins, threads int) *bins {
	b := &bins{rows: rows, cols: cols, data: make([]uint8, rows*cols), thr: make([][]float64, cols)}
	stride := 1
	if rows > binSubsample {
		stride = (rows + binSubsample - 1) / binSubsample
	}
	var wg sync.WaitGroup
	next := make(chan int, cols)
	for f := range cols {
		next <- f
	}
	close(next)
	for range min(threads, cols) {
		wg.Go(func() {
			vals := make([]float64, 0, (rows+stride-1)/stride)
			for f := range next {
				vals = vals[:0]
				for i := 0; i < rows; i += stride {
					vals = append(vals, X[i*cols+f])
				}
				slices.Sort(vals)
				t := thresholds(vals, maxBins)
				b.thr[f] = t
				c := b.col(f)
				for i := range rows {
					c[i] = uint8(sort.SearchFloat64s(t, X[i*cols+f]))
				}
			}
		})
	}
	wg.Wait()
	return b
}

// thresholds returns the split thresholds of sorted finite values: the
// midpoints between consecutive distinct values when there are at most
// maxBins of them (exact CART splits, as scikit-learn), else midpoints at
// the boundaries of maxBins quantile bins.
func thresholds(sorted []float64, maxBins int) []float64 {
	var uniq []float64
	var cum []int // rows <= uniq[i]
	for i, v := range sorted {
		if len(uniq) > 0 && v == uniq[len(uniq)-1] {
			cum[len(cum)-1] = i + 1
			continue
		}
		uniq = append(uniq, v)
		cum = append(cum, i+1)
	}
	if len(uniq) <= 1 {
		return nil
	}
	if len(uniq) <= maxBins {
		t := make([]float64, len(uniq)-1)
		for i := range t {
			t[i] = midpoint(uniq[i], uniq[i+1])
		}
		return t
	}
	n := len(sorted)
	t := make([]float64, 0, maxBins-1)
	k := 1
	for j := 0; j < len(uniq)-1 && k < maxBins; j++ {
		target := (k*n + maxBins - 1) / maxBins
		if cum[j] < target {
			continue
		}
		t = append(t, midpoint(uniq[j], uniq[j+1]))
		for k < maxBins && (k*n+maxBins-1)/maxBins <= cum[j] {
			k++
		}
	}
	return t
}

// midpoint returns a threshold m with a <= m < b.
func midpoint(a, b float64) float64 {
	m := a/2 + b/2
	if m >= b || m < a {
		m = a
	}
	return m
}
