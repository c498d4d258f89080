package gbdt

import (
	"math"
	"sync"
)

// minParallelRows is the smallest node whose partition is split across
// goroutines.
const minParallelRows = 16384

// treeNode is an internal node of a fitted tree. left and right are
// internal node indexes, or ^leaf for leaves; children always have larger
// indexes than their parent.
type treeNode struct {
	feat        int32
	bin         uint8 // rows with bin <= bin go left (NaN by missLeft)
	missLeft    bool
	left, right int32
	thr         float64 // raw threshold: x <= thr goes left
	gain        float64
}

// tree is one fitted tree; with no nodes it is the single leaf 0.
type tree struct {
	nodes  []treeNode
	leaves []float64
}

// gnode is a node while a tree grows.
type gnode struct {
	start, end int
	depth      int
	sums       nodeSums
	hist       []featHist
	best       split
	canSplit   bool
	left       int // gnode indexes once split
	right      int
	internal   int32 // treeNode index once split
	leaf       int32 // leaf index once final
}

// grower grows the trees of one Fit. It owns the row index partition and
// the histogram buffers.
type grower struct {
	colBins []uint8 // column-major binned training rows
	n, cols int
	nbins   []int
	thr     [][]float64
	threads int
	maxLeaf int
	maxDep  int
	lr      float64
	sp      splitParams

	idx, tmp []int32
	ordG     []int64  // packed gradients gathered in node row order
	ordGH    []ghPair // the same for losses with varying hessian
	pool     [][]featHist
	nodes    []gnode
	hj       histJob
	// leafRanges holds the index range of each leaf of the last tree.
	leafRanges [][2]int
}

func newGrower(colBins []uint8, n, cols int, bm *binMapper, p Params, l lossKind) *grower {
	gw := &grower{
		colBins: colBins, n: n, cols: cols,
		nbins: make([]int, cols), thr: bm.thr,
		threads: p.Threads, maxLeaf: p.MaxLeafNodes, maxDep: p.MaxDepth, lr: p.LearningRate,
		sp: splitParams{
			lambda:       p.L2Regularization,
			minLeaf:      int64(p.MinSamplesLeaf),
			constHessian: l.constHessian(),
		},
		idx: make([]int32, n),
		tmp: make([]int32, n),
	}
	if shift, _ := packing(n); l.constHessian() && shift > 0 {
		gw.ordG = make([]int64, n)
	} else {
		gw.ordGH = make([]ghPair, n)
	}
	for f := range gw.nbins {
		gw.nbins[f] = bm.nbins(f)
	}
	return gw
}

func (gw *grower) getHist() []featHist {
	if k := len(gw.pool); k > 0 {
		h := gw.pool[k-1]
		gw.pool = gw.pool[:k-1]
		return h
	}
	return make([]featHist, gw.cols)
}

func (gw *grower) putHist(h []featHist) {
	if h != nil {
		gw.pool = append(gw.pool, h)
	}
}

// minParallelUpdates is the smallest histogram (rows x features) built on
// more than one goroutine.
const minParallelUpdates = 1 << 17

// histJob is the histogram work of one split (or of the root): build the
// histogram of rows idx[start:end] into build, turn derive (the parent's
// histogram) into the sibling's by subtracting build, and find the best
// split of each per feature when asked.
type histJob struct {
	build          []featHist
	start, end     int
	derive         []featHist
	evalB, evalD   bool
	evB, evD       splitEval
	candB, candD   []split
	termsB, termsD []float64
}

// runHist does a histJob four features at a time: their histograms (6 KiB
// each) stay in L1 cache while the rows stream past, and the subtraction
// and split search follow while they are still there. Feature groups are
// shared among goroutines, and histogram sums are integers, so the result
// does not depend on the thread count.
func (gw *grower) runHist(j *histJob, gr *gradients) {
	n := j.end - j.start
	t := 1
	if n*gw.cols >= minParallelUpdates {
		t = gw.threads
	}
	var idx []int32
	og, ogh := gr.gp, gr.gh
	if j.start != 0 || j.end != gw.n {
		// Gather the gradients into row order once for all features.
		idx = gw.idx[j.start:j.end]
		if og != nil {
			og = gw.ordG[:n]
			parallelFor(n, t, func(lo, hi int) {
				for i, r := range idx[lo:hi] {
					og[lo+i] = gr.gp[r]
				}
			})
		} else {
			ogh = gw.ordGH[:n]
			parallelFor(n, t, func(lo, hi int) {
				for i, r := range idx[lo:hi] {
					ogh[lo+i] = gr.gh[r]
				}
			})
		}
	}
	// Features go four at a time, sharing the loads of rows and gradients;
	// each feature's histogram (6 KiB) stays in L1 cache.
	forEach((gw.cols+3)/4, t, func(gi int) {
		f := 4 * gi
		w := min(4, gw.cols-f)
		for i := f; i < f+w; i++ {
			clear(j.build[i][:])
		}
		switch {
		case w == 4 && og != nil:
			buildCol4Packed(&[4]*featHist{&j.build[f], &j.build[f+1], &j.build[f+2], &j.build[f+3]},
				&[4][]uint8{gw.col(f), gw.col(f + 1), gw.col(f + 2), gw.col(f + 3)}, idx, og)
		case w == 4:
			buildCol4Hess(&[4]*featHist{&j.build[f], &j.build[f+1], &j.build[f+2], &j.build[f+3]},
				&[4][]uint8{gw.col(f), gw.col(f + 1), gw.col(f + 2), gw.col(f + 3)}, idx, ogh)
		default:
			for i := f; i < f+w; i++ {
				if og != nil {
					buildColPacked(&j.build[i], gw.col(i), idx, og)
				} else {
					buildColHess(&j.build[i], gw.col(i), idx, ogh)
				}
			}
		}
		for i := f; i < f+w; i++ {
			if og != nil {
				unpack(&j.build[i], gr.packShift)
			}
			gw.finishFeature(j, i)
		}
	})
}

// col returns the binned column of feature f.
func (gw *grower) col(f int) []uint8 { return gw.colBins[f*gw.n : (f+1)*gw.n] }

// finishFeature derives the sibling's histogram of feature f and searches
// both for splits, while the histograms are in cache.
func (gw *grower) finishFeature(j *histJob, f int) {
	fh := &j.build[f]
	if j.derive != nil {
		d := &j.derive[f]
		for b := range d {
			d[b].g -= fh[b].g
			d[b].h -= fh[b].h
			d[b].c -= fh[b].c
		}
	}
	if j.evalB {
		j.candB[f], j.termsB[f] = bestFeatureSplit(fh, gw.nbins[f], f, &j.evB, &gw.sp)
	}
	if j.evalD {
		j.candD[f], j.termsD[f] = bestFeatureSplit(&j.derive[f], gw.nbins[f], f, &j.evD, &gw.sp)
	}
}

// partition reorders idx[start:end] stably so that rows going left by the
// lookup table come first, and returns where the right rows start.
func (gw *grower) partition(start, end, feat int, lut *[256]uint8) int {
	n := end - start
	t := min(gw.threads, n/minParallelRows)
	if t <= 1 {
		l := partitionRange(gw.idx[start:end], gw.tmp[start:end], gw.col(feat), lut)
		copy(gw.idx[start+l:end], gw.tmp[start:end-l])
		return start + l
	}
	chunk := (n + t - 1) / t
	nl := make([]int, t)
	var wg sync.WaitGroup
	for i := range t {
		lo, hi := start+i*chunk, min(start+(i+1)*chunk, end)
		wg.Go(func() {
			nl[i] = partitionRange(gw.idx[lo:hi], gw.tmp[lo:hi], gw.col(feat), lut)
		})
	}
	wg.Wait()
	// Each chunk now has its left rows first in idx and its right rows
	// first in tmp. Gather the left rows (moving down only), then the
	// right rows.
	dst := start
	for i := range t {
		lo := start + i*chunk
		dst += copy(gw.idx[dst:], gw.idx[lo:lo+nl[i]])
	}
	mid := dst
	for i := range t {
		lo, hi := start+i*chunk, min(start+(i+1)*chunk, end)
		dst += copy(gw.idx[dst:], gw.tmp[lo:lo+(hi-lo-nl[i])])
	}
	return mid
}

// partitionRange moves the left rows of idx to its front, in order, and
// the right rows to the front of tmp, and returns the left count.
func partitionRange(idx, tmp []int32, col []uint8, lut *[256]uint8) int {
	l, r := 0, 0
	tmp = tmp[:len(idx)]
	for _, row := range idx {
		goLeft := int(lut[col[row]])
		idx[l] = row
		tmp[r] = row
		l += goLeft
		r += 1 - goLeft
	}
	return l
}

// grow fits one tree to the gradients gr and returns it; gw.leafRanges
// then holds the rows of each leaf.
func (gw *grower) grow(gr *gradients) *tree {
	gw.sp.invG = 1 / gr.gScale
	gw.sp.invH = 1 / gr.hScale
	for i := range gw.idx {
		gw.idx[i] = int32(i)
	}
	gw.nodes = gw.nodes[:0]
	gw.nodes = append(gw.nodes, gnode{start: 0, end: gw.n, internal: -1, leaf: -1})
	root := &gw.nodes[0]
	root.sums = gw.rootSums(gr)
	if gw.splittable(root.sums.c, 0) {
		root.hist = gw.getHist()
		j := gw.job()
		j.build, j.start, j.end = root.hist, 0, gw.n
		j.evalB, j.evB = true, newSplitEval(root.sums, &gw.sp)
		gw.runHist(j, gr)
		root.best, root.canSplit = pickSplit(j.candB, j.termsB)
		gw.release(0)
	}

	t := &tree{}
	nLeaves := 1
	for nLeaves < gw.maxLeaf {
		// Best-first: split the open leaf of largest gain (the first one
		// on ties, so growth is deterministic).
		bi := -1
		for i := range gw.nodes {
			nd := &gw.nodes[i]
			if nd.canSplit && nd.internal < 0 && (bi < 0 || nd.best.gain > gw.nodes[bi].best.gain) {
				bi = i
			}
		}
		if bi < 0 {
			break
		}
		gw.splitNode(t, bi, gr, nLeaves+1 < gw.maxLeaf)
		nLeaves++
	}
	// Every unsplit node is a leaf, numbered in creation order.
	gw.leafRanges = gw.leafRanges[:0]
	for i := range gw.nodes {
		nd := &gw.nodes[i]
		if nd.internal >= 0 {
			continue
		}
		gw.putHist(nd.hist)
		nd.hist = nil
		nd.leaf = int32(len(t.leaves))
		ev := newSplitEval(nd.sums, &gw.sp)
		v := 0.0
		if ev.H+gw.sp.lambda > 0 {
			v = -ev.G / (ev.H + gw.sp.lambda) * gw.lr
		}
		t.leaves = append(t.leaves, v)
		gw.leafRanges = append(gw.leafRanges, [2]int{nd.start, nd.end})
	}
	ref := func(i int) int32 {
		if nd := &gw.nodes[i]; nd.internal >= 0 {
			return nd.internal
		}
		return ^gw.nodes[i].leaf
	}
	for i := range gw.nodes {
		nd := &gw.nodes[i]
		if nd.internal >= 0 {
			tn := &t.nodes[nd.internal]
			tn.left, tn.right = ref(nd.left), ref(nd.right)
		}
	}
	return t
}

// rootSums returns the sums over all rows.
func (gw *grower) rootSums(gr *gradients) nodeSums {
	t := min(gw.threads, max(1, gw.n/minChunk))
	parts := make([]nodeSums, t)
	chunk := (gw.n + t - 1) / t
	forEach(t, t, func(i int) {
		lo, hi := i*chunk, min((i+1)*chunk, gw.n)
		var s nodeSums
		if gr.gp != nil {
			for _, v := range gr.gp[lo:hi] {
				s.g += v >> gr.packShift
			}
		} else {
			for _, p := range gr.gh[lo:hi] {
				s.g += int64(p.g)
				s.h += int64(p.h)
			}
		}
		parts[i] = s
	})
	s := nodeSums{c: int64(gw.n)}
	for _, p := range parts {
		s.g += p.g
		s.h += p.h
	}
	return s
}

// job returns the reusable histJob with candidate buffers.
func (gw *grower) job() *histJob {
	j := &gw.hj
	if j.candB == nil {
		j.candB, j.candD = make([]split, gw.cols), make([]split, gw.cols)
		j.termsB, j.termsD = make([]float64, gw.cols), make([]float64, gw.cols)
	}
	*j = histJob{candB: j.candB, candD: j.candD, termsB: j.termsB, termsD: j.termsD}
	return j
}

// release returns node i's histogram to the pool unless it may split.
func (gw *grower) release(i int) {
	if nd := &gw.nodes[i]; !nd.canSplit {
		gw.putHist(nd.hist)
		nd.hist = nil
	}
}

// splittable reports whether a node of this size and depth may split.
func (gw *grower) splittable(count int64, depth int) bool {
	return count >= 2*gw.sp.minLeaf && (gw.maxDep == 0 || depth < gw.maxDep)
}

// splitNode splits node pi by its best split, records it in t and
// prepares the children. more reports whether further splits may follow.
func (gw *grower) splitNode(t *tree, pi int, gr *gradients, more bool) {
	p := &gw.nodes[pi]
	s := p.best
	var lut [256]uint8
	for b := 0; b <= s.bin; b++ {
		lut[b] = 1
	}
	if s.missLeft {
		lut[MissingBin] = 1
	}
	mid := gw.partition(p.start, p.end, s.feat, &lut)
	thr := math.Inf(1)
	if s.bin < len(gw.thr[s.feat]) {
		thr = gw.thr[s.feat][s.bin]
	}
	p.internal = int32(len(t.nodes))
	t.nodes = append(t.nodes, treeNode{
		feat: int32(s.feat), bin: uint8(s.bin), missLeft: s.missLeft,
		thr: thr, gain: s.gain,
	})
	ls := nodeSums{g: s.lg, h: s.lh, c: s.lc}
	rs := nodeSums{g: p.sums.g - s.lg, h: p.sums.h - s.lh, c: p.sums.c - s.lc}
	left := gnode{start: p.start, end: mid, depth: p.depth + 1, sums: ls, internal: -1, leaf: -1}
	right := gnode{start: mid, end: p.end, depth: p.depth + 1, sums: rs, internal: -1, leaf: -1}
	parentHist := p.hist
	p.hist = nil
	li, ri := len(gw.nodes), len(gw.nodes)+1
	p.left, p.right = li, ri
	gw.nodes = append(gw.nodes, left, right) // p is stale from here
	okL := more && gw.splittable(ls.c, left.depth)
	okR := more && gw.splittable(rs.c, right.depth)
	if !okL && !okR {
		gw.putHist(parentHist)
		return
	}
	// Build the smaller child, derive the larger by subtraction, and
	// search both for splits in the same pass.
	small, large := li, ri
	okS, okG := okL, okR
	if rs.c < ls.c {
		small, large = ri, li
		okS, okG = okR, okL
	}
	sn, ln := &gw.nodes[small], &gw.nodes[large]
	sn.hist, ln.hist = gw.getHist(), parentHist
	j := gw.job()
	j.build, j.start, j.end, j.derive = sn.hist, sn.start, sn.end, ln.hist
	j.evalB, j.evB = okS, newSplitEval(sn.sums, &gw.sp)
	j.evalD, j.evD = okG, newSplitEval(ln.sums, &gw.sp)
	gw.runHist(j, gr)
	if okS {
		sn.best, sn.canSplit = pickSplit(j.candB, j.termsB)
	}
	if okG {
		ln.best, ln.canSplit = pickSplit(j.candD, j.termsD)
	}
	gw.release(small)
	gw.release(large)
}
