package gbdt

import (
	"math"
	"math/bits"
	"slices"
)

// Squared error's gradient is the residual raw - y, and a tree adds its
// leaf value v to the raw value of each of the leaf's rows, so the next
// gradient is the old one plus v. With the gradients kept quantized at a
// fixed scale s, adding round(v*s) to each row's quantized gradient is
// exact integer arithmetic, and so is the effect on any histogram: the
// next tree's root histogram is, bin by bin, the sum over this tree's
// leaves of the leaf's gradient sum plus round(v*s) times its count.
// Every leaf's histogram is at hand (grow keeps them when gw.recur is
// set), so the next root costs leaves*features*bins additions instead of
// a pass over every row, and the gradients need no pass of their own: the
// update rides along with what applyLeaves does for the other losses.
//
// The quantized gradients then differ from round((raw - y)*s) by the
// rounding of the leaf values, at most half a unit per tree, where a unit
// starts at 2^-21 of the largest residual (at a million rows). When the
// largest gradient outgrows its bits, or shrinks enough to waste some,
// step rescales them by a power of two. It needs the packed layout: a
// wide gradient word has no room for growth.

// step updates the quantized gradients of the training rows for tree t
// (see above), and, when more trees follow, prepares the next root.
func (gw *grower) step(t *tree, gr *gradients, more bool) {
	qv := make([]int64, len(t.leaves))
	for j, v := range t.leaves {
		qv[j] = int64(math.RoundToEven(v * gr.gScale))
	}
	maxQ := gw.addLeafGradients(qv, gr.packShift)
	gw.releaseLeaves(more, qv, gr)
	if !more {
		return
	}
	_, gbits := packing(gw.n)
	switch l := bits.Len64(uint64(maxQ)); {
	case l >= gbits:
		// Histogram sums could overflow: halve the gradients until the
		// largest has gbits-1 bits. The sums change by the rounding, so
		// the next root is built from the rows.
		gw.rescaleGradients(gr, l-(gbits-1))
		gw.putHist(gw.nextRoot)
		gw.nextRoot = nil
	case maxQ > 0 && l < gbits-3:
		// Double them until the largest has gbits-2 bits; that is exact.
		k := uint(gbits - 2 - l)
		gw.rescaleGradients(gr, -int(k))
		for f := range gw.nextRoot {
			for b := range gw.nextRoot[f] {
				gw.nextRoot[f][b].g <<= k
			}
		}
	}
}

// addLeafGradients adds qv[j] to the quantized gradient of every row of
// leaf j and returns the largest |gradient|.
func (gw *grower) addLeafGradients(qv []int64, shift uint) int64 {
	rs := gw.stride + 1
	words := gw.rec[rs-1:]
	maxes := make([]int64, gw.tm.size)
	gw.leafParts(rs*8, func(lo, hi int) {
		touchSeq(gw.rec[lo*rs : hi*rs])
	}, func(w, j int, rows []int32) {
		d := qv[j]
		m := maxes[w]
		for _, r := range rows {
			o := int(r) * rs
			q := wordGrad(words[o], shift) + d
			words[o] = gradWord(q, shift)
			m = max(m, q, -q)
		}
		maxes[w] = m
	})
	return slices.Max(maxes)
}

// rescaleGradients divides the quantized gradients by 2^k (multiplies
// for negative k), rounding to nearest, and updates gr's scale and sums.
func (gw *grower) rescaleGradients(gr *gradients, k int) {
	rs := gw.stride + 1
	words := gw.rec[rs-1:]
	shift := gr.packShift
	gr.gScale = math.Ldexp(gr.gScale, -k)
	g := gw.tm.parallelSums(gw.n, func(_, lo, hi int) (s nodeSums) {
		for i := lo; i < hi; i++ {
			q := wordGrad(words[i*rs], shift)
			if k > 0 {
				q = (q + 1<<(k-1)) >> k
			} else {
				q <<= -k
			}
			words[i*rs] = gradWord(q, shift)
			s.g += q
		}
		return s
	}).g
	gr.sums.g = g
}

// releaseLeaves returns the leaves' histograms to the pool, first adding
// them up, when more trees follow, into the next tree's root histogram
// and sums: leaf j's gradient sums move by qv[j] times its counts.
func (gw *grower) releaseLeaves(more bool, qv []int64, gr *gradients) {
	if more {
		var leaves []*gnode
		var sums nodeSums
		for i := range gw.nodes {
			if nd := &gw.nodes[i]; nd.internal < 0 {
				leaves = append(leaves, nd)
				d := qv[nd.leaf]
				sums.g += nd.sums.g + d*nd.sums.c
				sums.c += nd.sums.c
			}
		}
		next := gw.getHist()
		gw.tm.each(gw.cols, func(_, f int) {
			dst := &next[f]
			*dst = featHist{}
			for _, nd := range leaves {
				src, d := &nd.hist[f], qv[nd.leaf]
				for b := range dst {
					dst[b].g += src[b].g + d*src[b].c
					dst[b].c += src[b].c
				}
			}
		})
		gw.nextRoot = next
		gr.sums = sums
	}
	for i := range gw.nodes {
		nd := &gw.nodes[i]
		gw.putHist(nd.hist)
		nd.hist = nil
	}
}
