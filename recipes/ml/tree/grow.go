package tree

import (
	"math/bits"
	"math/rand/v2"
)

// node is one node of a compiled tree. Nodes are stored in preorder: the
// left child of internal node i is i+1 and right is the index of its right
// child. A leaf has feat -1 and right is the offset of its value(s).
type node struct {
	thr   float64 // x[feat] <= thr goes left
	feat  int32
	right int32
}

// treeModel is one fitted tree in flat arrays.
type treeModel struct {
	nodes  []node
	values []float64 // one per leaf (regression) or nClass per leaf
}

// stats summarises the rows of a node.
type stats struct {
	n          int     // distinct rows
	w          float64 // total weight (bootstrap counts)
	s, ss      float64 // regression: Σ w·y, Σ w·y²
	ymin, ymax float64 // regression: target range, for an exact purity test
	c          []float64
}

// proxy is Σ_children weight·(−impurity) up to a constant shared by all
// splits of a node: the improvement of a split is proxy(children) −
// proxy(parent), the weighted impurity decrease.
func (s *stats) proxy() float64 {
	if s.c == nil {
		return s.s * s.s / s.w
	}
	var q float64
	for _, c := range s.c {
		q += c * c
	}
	return q / s.w
}

func (s *stats) pure() bool {
	if s.c == nil {
		return s.ymin == s.ymax
	}
	for _, c := range s.c {
		if c == s.w {
			return true
		}
	}
	return false
}

type rowWeight struct{ w, wy float64 }

type stackEntry struct {
	start, end, depth int
	parent            int // index of the parent node, -1 for the root
	isLeft            bool
	st                stats
}

// grower grows one tree on the shared bins; a grower is reused across the
// trees one goroutine fits.
type grower struct {
	b      *bins
	p      Params
	k      int         // classes, 0 for regression
	mtry   int         // features tried per split
	y      []float64   // regression target
	cls    []int32     // classification codes
	rw     []rowWeight // per row: weight and w·y for the current tree
	idx    []int32     // rows in the bag; a node owns idx[start:end]
	tmp    []int32
	feats  []int
	rng    *rand.Rand
	imp    []float64
	counts []int32 // bootstrap draws per row

	hist    [MaxBins]binSums
	hc      []float64 // MaxBins×k class weights
	cl      []float64 // k
	touched bitset    // the bins the node's rows fall in

	nodes  []node
	values []float64
	stack  []stackEntry
}

func newGrower(b *bins, p Params, k int, y []float64, cls []int32) *grower {
	n := b.rows
	g := &grower{
		b: b, p: p, k: k, mtry: p.nFeaturesPerSplit(b.cols), y: y, cls: cls,
		rw: make([]rowWeight, n), idx: make([]int32, 0, n), tmp: make([]int32, n),
		feats: make([]int, b.cols), imp: make([]float64, b.cols),
	}
	if k > 0 {
		g.hc = make([]float64, MaxBins*k)
		g.cl = make([]float64, k)
	}
	if p.Bootstrap {
		g.counts = make([]int32, n)
	}
	return g
}

// grow fits tree number t and returns it with its feature importances
// (normalised to sum 1, or all zero for a single leaf).
func (g *grower) grow(t int) (treeModel, []float64) {
	n := g.b.rows
	g.rng = rand.New(rand.NewPCG(g.p.Seed, uint64(t)))
	g.idx = g.idx[:0]
	if g.p.Bootstrap {
		clear(g.counts)
		for range n {
			g.counts[g.rng.IntN(n)]++
		}
		for i, c := range g.counts {
			g.rw[i].w = float64(c)
			if c > 0 {
				g.idx = append(g.idx, int32(i))
			}
		}
	} else {
		for i := range n {
			g.rw[i].w = 1
			g.idx = append(g.idx, int32(i))
		}
	}
	if g.k == 0 {
		for i := range g.rw {
			g.rw[i].wy = g.rw[i].w * g.y[i]
		}
	}
	for f := range g.feats {
		g.feats[f] = f
	}
	clear(g.imp)
	// Size the new tree's arrays like the last one's (they are handed over
	// with the tree, not reused).
	g.nodes = make([]node, 0, len(g.nodes)+len(g.nodes)/16)
	g.values = make([]float64, 0, len(g.values)+len(g.values)/16)

	g.stack = append(g.stack[:0], stackEntry{start: 0, end: len(g.idx), parent: -1, st: g.rowStats(g.idx)})
	for len(g.stack) > 0 {
		e := g.stack[len(g.stack)-1]
		g.stack = g.stack[:len(g.stack)-1]
		id := len(g.nodes)
		g.nodes = append(g.nodes, node{})
		if e.parent >= 0 && !e.isLeft {
			g.nodes[e.parent].right = int32(id)
		}
		m := e.end - e.start
		leaf := g.p.MaxDepth > 0 && e.depth >= g.p.MaxDepth ||
			m < g.p.MinSamplesSplit || m < 2*g.p.MinSamplesLeaf || e.st.pure()
		var f, bin int
		var score float64
		if !leaf {
			var ok bool
			f, bin, score, ok = g.findSplit(&e)
			leaf = !ok
		}
		if leaf {
			g.nodes[id] = node{feat: -1, right: int32(len(g.values))}
			if g.k == 0 {
				g.values = append(g.values, e.st.s/e.st.w)
			} else {
				for _, c := range e.st.c {
					g.values = append(g.values, c/e.st.w)
				}
			}
			continue
		}
		mid := g.partition(e.start, e.end, f, uint8(bin))
		left, right := g.rowStats(g.idx[e.start:mid]), g.rowStats(g.idx[mid:e.end])
		if d := score - e.st.proxy(); d > 0 {
			g.imp[f] += d
		}
		g.nodes[id] = node{thr: g.b.thr[f][bin], feat: int32(f)}
		g.stack = append(g.stack,
			stackEntry{start: mid, end: e.end, depth: e.depth + 1, parent: id, st: right},
			stackEntry{start: e.start, end: mid, depth: e.depth + 1, parent: id, isLeft: true, st: left})
	}
	imp := make([]float64, len(g.imp))
	var sum float64
	for _, v := range g.imp {
		sum += v
	}
	if sum > 0 {
		for f, v := range g.imp {
			imp[f] = v / sum
		}
	}
	return treeModel{nodes: g.nodes, values: g.values}, imp
}

// rowStats computes the stats of rows.
func (g *grower) rowStats(rows []int32) stats {
	st := stats{n: len(rows)}
	if g.k > 0 {
		st.c = make([]float64, g.k)
		for _, i := range rows {
			st.w += g.rw[i].w
			st.c[g.cls[i]] += g.rw[i].w
		}
		return st
	}
	if len(rows) > 0 {
		st.ymin, st.ymax = g.y[rows[0]], g.y[rows[0]]
	}
	for _, i := range rows {
		w, y := g.rw[i].w, g.y[i]
		st.w += w
		st.s += g.rw[i].wy
		st.ss += w * y * y
		st.ymin = min(st.ymin, y)
		st.ymax = max(st.ymax, y)
	}
	return st
}

// partition reorders idx[start:end] stably so that rows whose feature f
// bin is <= bin come first, and returns the boundary.
func (g *grower) partition(start, end, f int, bin uint8) int {
	col := g.b.col(f)
	l, r := start, 0
	for _, i := range g.idx[start:end] {
		if col[i] <= bin {
			g.idx[l] = i
			l++
		} else {
			g.tmp[r] = i
			r++
		}
	}
	copy(g.idx[l:end], g.tmp[:r])
	return l
}

// findSplit draws features without replacement until mtry features that
// are not constant in the node have been tried (as scikit-learn does) and
// returns the best split: rows with bin <= bin go left. score is the
// children's proxy.
func (g *grower) findSplit(e *stackEntry) (bestF, bestBin int, bestScore float64, ok bool) {
	rows := g.idx[e.start:e.end]
	cols := len(g.feats)
	visited := 0
	for i := 0; i < cols && visited < g.mtry; i++ {
		j := i + g.rng.IntN(cols-i)
		g.feats[i], g.feats[j] = g.feats[j], g.feats[i]
		f := g.feats[i]
		var bin int
		var score float64
		var constant, found bool
		if g.k == 0 {
			bin, score, constant, found = g.splitRegression(f, rows, &e.st)
		} else {
			bin, score, constant, found = g.splitClassification(f, rows, &e.st)
		}
		if constant {
			continue
		}
		visited++
		if found && (!ok || score > bestScore) {
			bestF, bestBin, bestScore, ok = f, bin, score, true
		}
	}
	return
}

// binSums accumulates a node's rows that fall in one bin.
type binSums struct {
	n    int64   // rows
	w, s float64 // Σw, Σw·y (regression)
}

// bitset is a set of bins, iterated in increasing order.
type bitset [MaxBins / 64]uint64

func (b *bitset) add(i uint8) { b[i>>6] |= 1 << (i & 63) }

func (b *bitset) count() int {
	return bits.OnesCount64(b[0]) + bits.OnesCount64(b[1]) + bits.OnesCount64(b[2]) + bits.OnesCount64(b[3])
}

// markTouched adds the non-empty bins of the histogram to the touched set.
func (g *grower) markTouched(nb int) {
	for b := range nb {
		if g.hist[b].n > 0 {
			g.touched.add(uint8(b))
		}
	}
}

// The split scans below visit the touched bins in increasing order and
// empty the set and the histogram as they go. The last bin leaves no row
// on the right, which the MinSamplesLeaf test (>= 1) rejects.

func (g *grower) splitRegression(f int, rows []int32, st *stats) (bin int, score float64, constant, found bool) {
	col := g.b.col(f)
	h := &g.hist
	if nb := g.b.nbins(f); len(rows) > nb {
		// Many rows: build, then find the touched bins in one pass.
		for _, i := range rows {
			r := &g.rw[i]
			hb := &h[col[i]]
			hb.n++
			hb.w += r.w
			hb.s += r.wy
		}
		g.markTouched(nb)
	} else {
		for _, i := range rows {
			b := col[i]
			g.touched.add(b)
			r := &g.rw[i]
			hb := &h[b]
			hb.n++
			hb.w += r.w
			hb.s += r.wy
		}
	}
	constant = g.touched.count() == 1
	minLeaf := int64(g.p.MinSamplesLeaf)
	nR0 := int64(st.n)
	var nL int64
	var wL, sL float64
	for w := range g.touched {
		x := g.touched[w]
		g.touched[w] = 0
		for x != 0 {
			b := w<<6 | bits.TrailingZeros64(x)
			x &= x - 1
			hb := &h[b]
			nL += hb.n
			wL += hb.w
			sL += hb.s
			*hb = binSums{}
			if nL >= minLeaf && nR0-nL >= minLeaf {
				sR, wR := st.s-sL, st.w-wL
				if s := sL*sL/wL + sR*sR/wR; !found || s > score {
					bin, score, found = b, s, true
				}
			}
		}
	}
	return bin, score, constant, found && !constant
}

func (g *grower) splitClassification(f int, rows []int32, st *stats) (bin int, score float64, constant, found bool) {
	col := g.b.col(f)
	k := g.k
	h := &g.hist
	small := len(rows) <= g.b.nbins(f)
	for _, i := range rows {
		b := col[i]
		if small {
			g.touched.add(b)
		}
		w := g.rw[i].w
		h[b].n++
		h[b].w += w
		g.hc[int(b)*k+int(g.cls[i])] += w
	}
	if !small {
		g.markTouched(g.b.nbins(f))
	}
	constant = g.touched.count() == 1
	minLeaf := int64(g.p.MinSamplesLeaf)
	nR0 := int64(st.n)
	clear(g.cl)
	var nL int64
	var wL float64
	for w := range g.touched {
		x := g.touched[w]
		g.touched[w] = 0
		for x != 0 {
			b := w<<6 | bits.TrailingZeros64(x)
			x &= x - 1
			hc := g.hc[b*k : b*k+k]
			nL += h[b].n
			wL += h[b].w
			h[b] = binSums{}
			for c, v := range hc {
				g.cl[c] += v
			}
			clear(hc)
			if nL >= minLeaf && nR0-nL >= minLeaf {
				wR := st.w - wL
				var qL, qR float64
				for c, v := range g.cl {
					r := st.c[c] - v
					qL += v * v
					qR += r * r
				}
				if s := qL/wL + qR/wR; !found || s > score {
					bin, score, found = b, s, true
				}
			}
		}
	}
	return bin, score, constant, found && !constant
}
