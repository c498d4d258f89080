package gbdt

import (
	"fmt"
	"math"
	"unsafe"
)

// minParallelRows is the fewest rows of a partition chunk handed to
// another goroutine.
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
	start, end int   // the node's rows are rows[buf][start:end]
	buf        uint8 // which of grower.rows
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
	// rec holds the training rows' records (see hist.go): stride words of
	// bins and a gradient word each.
	rec     []uint64
	stride  int
	n, cols int
	nbins   []int
	thr     [][]float64
	tm      *team
	maxLeaf int
	maxDep  int
	lr      float64
	sp      splitParams
	layout  histLayout

	// rows holds two row index buffers: a node's rows (sorted) are a range
	// of one, and partition writes its children's to the same range of
	// either (see partition).
	rows  [2][]int32
	pool  [][]featHist
	nodes []gnode
	hj    histJob
	// work holds one histBuf per goroutine building histograms.
	work []*histBuf
	// leafRows holds the rows of each leaf of the last tree.
	leafRows [][]int32
	// recur (squared error) keeps every leaf's histogram until step,
	// which makes nextRoot, the next tree's root histogram, from them.
	recur    bool
	nextRoot []featHist
}

// histBuf is one goroutine's histogram scratch: a panel of bins per bin
// word of a record, and a block of staged records.
type histBuf struct {
	// One of these per layout, a panel per bin word.
	packed []packedPanel
	hess   []packedHessPanel
	wide   []widePanel
	recs   []uint64
}

// blockRows is the number of records staged at a time: a block
// (blockRows*(stride+1)*8 bytes) stays in L2 cache while every panel
// passes over it.
const blockRows = 2048

func newGrower(colBins []uint8, rec []uint64, n, cols int, bm *binMapper, p Params, l lossKind, tm *team) *grower {
	gw := &grower{
		colBins: colBins, rec: rec, stride: panels(cols), n: n, cols: cols,
		nbins: make([]int, cols), thr: bm.thr,
		tm: tm, maxLeaf: p.MaxLeafNodes, maxDep: p.MaxDepth, lr: p.LearningRate,
		sp: splitParams{
			lambda:       p.L2Regularization,
			minLeaf:      int64(p.MinSamplesLeaf),
			constHessian: l.constHessian(),
		},
		rows: [2][]int32{make([]int32, n), make([]int32, n)},
	}
	adviseHugePages(gw.rows[0])
	adviseHugePages(gw.rows[1])
	switch shift, _ := packing(n); {
	case shift == 0:
		gw.layout = layoutWide
	case l.constHessian():
		gw.layout = layoutPacked
		gw.recur = l == lossSquared
	default:
		gw.layout = layoutPackedHess
	}
	for f := range gw.nbins {
		gw.nbins[f] = bm.nbins(f)
	}
	return gw
}

// panels returns the bin words of a record for cols features.
func panels(cols int) int { return (cols + panelWidth - 1) / panelWidth }

// buf returns goroutine i's histBuf.
func (gw *grower) buf(i int) *histBuf {
	for len(gw.work) <= i {
		hb := &histBuf{recs: make([]uint64, blockRows*(gw.stride+1))}
		switch gw.layout {
		case layoutPacked:
			hb.packed = make([]packedPanel, gw.stride)
		case layoutPackedHess:
			hb.hess = make([]packedHessPanel, gw.stride)
		default:
			hb.wide = make([]widePanel, gw.stride)
		}
		gw.work = append(gw.work, hb)
	}
	return gw.work[i]
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
// histogram of the n rows idx (all rows, for the root, when idx is nil)
// into build, turn derive (the parent's histogram) into the sibling's by
// subtracting build, and find the best split of each per feature when
// asked.
type histJob struct {
	build []featHist
	built bool // build already holds the histogram
	// fill, when not nil, computes the gradients of the rows (all of them:
	// this is the root) before they are added; runHist sets *sums and
	// evB from their sums.
	fill           func(lo, hi int) nodeSums
	sums           *nodeSums
	idx            []int32
	n              int
	derive         []featHist
	evalB, evalD   bool
	evB, evD       splitEval
	candB, candD   []split
	termsB, termsD []float64
}

// runHist does a histJob. The team's goroutines take blocks of the node's
// rows, each into its own scratch; the scratch sums are integers, so
// adding them up gives the same histogram for any thread count and block
// order. Then each feature's sums are unpacked into the node's histogram,
// the sibling's is derived, and both are searched for splits while still
// in cache.
func (gw *grower) runHist(j *histJob, gr *gradients) {
	if j.built {
		gw.tm.each(gw.cols, func(_, f int) { gw.finishFeature(j, f) })
		return
	}
	n, idx := j.n, j.idx
	t := 1
	if n*gw.cols >= minParallelUpdates && n >= 2*blockRows {
		t = gw.tm.size
	}
	gw.buf(t - 1)
	bufs := gw.work[:t]
	for _, hb := range bufs {
		clear(hb.packed)
		clear(hb.hess)
		clear(hb.wide)
	}
	nb := (n + blockRows - 1) / blockRows
	var fillSums []nodeSums
	if j.fill != nil {
		fillSums = make([]nodeSums, t)
	}
	build := func(w, b int) {
		lo, hi := b*blockRows, min((b+1)*blockRows, n)
		if j.fill != nil {
			s := j.fill(lo, hi)
			fillSums[w].g += s.g
			fillSums[w].h += s.h
		}
		gw.buildBlock(bufs[w], idx, lo, hi, gr)
	}
	finish := func(_, f int) {
		unpackFeature(&j.build[f], bufs, f/panelWidth, f%panelWidth, gr.packShift)
		gw.finishFeature(j, f)
	}
	if t == 1 {
		for b := range nb {
			build(0, b)
		}
	} else {
		gw.tm.each(nb, build)
	}
	if j.fill != nil {
		s := nodeSums{c: int64(n)}
		for _, p := range fillSums {
			s.g += p.g
			s.h += p.h
		}
		*j.sums = s
		j.evB = newSplitEval(s, &gw.sp)
	}
	if t == 1 {
		for f := range gw.cols {
			finish(0, f)
		}
	} else {
		gw.tm.each(gw.cols, finish)
	}
}

// col returns the binned column of feature f.
func (gw *grower) col(f int) []uint8 { return gw.colBins[f*gw.n : (f+1)*gw.n] }

// buildBlock adds rows lo..hi-1 of a node (positions in idx, or row
// numbers when idx is nil, for the root), at most blockRows of them, to
// hb's panels. A node's rows are first staged, their records copied into a
// contiguous buffer: the scattered loads are then done once per row rather
// than once per panel, in a tight loop that keeps many of them in flight.
func (gw *grower) buildBlock(hb *histBuf, idx []int32, lo, hi int, gr *gradients) {
	rs := gw.stride + 1
	var recs []uint64
	if idx == nil {
		recs = gw.rec[lo*rs : hi*rs]
	} else {
		recs = gw.stage(hb, idx[lo:hi], gw.sparse(len(idx), sparseRecords))
	}
	for p := range gw.stride {
		width := min(panelWidth, gw.cols-p*panelWidth)
		switch gw.layout {
		case layoutPacked:
			addPacked(&hb.packed[p], recs, rs, p, width, hi-lo)
		case layoutPackedHess:
			addPackedHess(&hb.hess[p], recs, rs, p, width, hi-lo, gr.packShift)
		default:
			addWide(&hb.wide[p], recs, rs, p, width, hi-lo)
		}
	}
}

// stage copies the records of rows into hb's block buffer.
//
// When the rows are sparse it first only loads each record (touch). A
// store whose value (or address) comes from a load that misses waits in
// the store queue, which holds few rows' worth of stores, so a loop that
// gathers and stores has few misses in flight; a loop of loads alone has
// many, and the copy then hits in cache. On the benchmark's classification
// data the two loops took half the time of the copy alone.
func (gw *grower) stage(hb *histBuf, rows []int32, sparse bool) []uint64 {
	rs := gw.stride + 1
	dst := hb.recs[:len(rows)*rs]
	src := gw.rec
	if sparse {
		touch(src, rows, rs, 0)
	}
	switch rs {
	case 2:
		for i, r := range rows {
			o := int(r) * 2
			dst[2*i], dst[2*i+1] = src[o], src[o+1]
		}
	case 3:
		for i, r := range rows {
			o := int(r) * 3
			dst[3*i], dst[3*i+1], dst[3*i+2] = src[o], src[o+1], src[o+2]
		}
	case 4:
		for i, r := range rows {
			o := int(r) * 4
			d, s := dst[4*i:4*i+4:4*i+4], src[o:o+4:o+4]
			d[0], d[1], d[2], d[3] = s[0], s[1], s[2], s[3]
		}
	default:
		for i, r := range rows {
			copy(dst[i*rs:i*rs+rs], src[int(r)*rs:])
		}
	}
	return dst
}

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

// partition stably partitions the rows of node nd by the lookup table,
// left rows first, and returns the buffer (see grower.rows) that holds
// them, in nd's range; nl is the number of left rows, known from the
// histogram.
//
// On one goroutine it writes them to the other buffer in one pass, each
// row straight to its place. On more, each chunk of the rows is first
// partitioned within its own range of the other buffer (left rows from
// the front, right rows from the back), and a second pass, sequential
// and cheap, copies the chunks' parts to their places back in nd's
// buffer: the rows' bins, scattered loads, are read only once.
func (gw *grower) partition(nd *gnode, nl int, feat int, lut *[256]uint8) uint8 {
	start, end := nd.start, nd.end
	src, dst := gw.rows[nd.buf][start:end], gw.rows[1-nd.buf][start:end]
	col := gw.col(feat)
	n := end - start
	sparse := gw.sparse(n, sparseBins)
	k := 1
	if gw.tm.size > 1 {
		k = max(1, min(2*gw.tm.size, n/minParallelRows))
	}
	if k == 1 {
		if l := scatter(dst, src, 0, nl, col, lut, sparse); l != nl {
			panic(fmt.Sprintf("gbdt: partition sent %d rows left, the histogram %d", l, nl))
		}
		return 1 - nd.buf
	}
	chunk := (n + k - 1) / k
	lefts := make([]int, k)
	gw.tm.each(k, func(_, i int) {
		lo, hi := min(i*chunk, n), min((i+1)*chunk, n)
		lefts[i] = split2(dst[lo:hi], src[lo:hi], col, lut, sparse)
	})
	if l := sum(lefts); l != nl {
		panic(fmt.Sprintf("gbdt: partition sent %d rows left, the histogram %d", l, nl))
	}
	gw.tm.each(k, func(_, i int) {
		lo, hi := min(i*chunk, n), min((i+1)*chunk, n)
		l := sum(lefts[:i]) // left rows before the chunk
		r := nl + lo - l    // where the chunk's right rows go
		c := lefts[i]
		copy(src[l:l+c], dst[lo:lo+c])
		right := dst[lo+c : hi]
		out := src[r : r+len(right)]
		for j, row := range right {
			out[len(out)-1-j] = row
		}
	})
	return nd.buf
}

func sum(v []int) int {
	s := 0
	for _, x := range v {
		s += x
	}
	return s
}

// split2 partitions rows into dst, which has the same length: left rows
// from the front, in order, and right rows from the back, in reverse
// order. It returns the left count. Each row is stored at both ends and
// only one end advances: the other store lands in a slot still to be
// filled. Blocks are as in scatter.
func split2(dst, rows []int32, col []uint8, lut *[256]uint8, sparse bool) int {
	l, r := 0, len(rows)-1
	dst = dst[:len(rows)]
	for b0 := 0; b0 < len(rows); b0 += touchBlock {
		block := rows[b0:min(b0+touchBlock, len(rows))]
		if sparse {
			touch(col, block, 1, 0)
		}
		for _, row := range block {
			f := int(lut[col[row]])
			dst[l] = row
			dst[r] = row
			l += f
			r -= 1 - f
		}
	}
	return l
}

// scatter writes rows to dst by the lookup table, left rows from dst[l]
// on and right rows from dst[r] on, each in order, and returns the left
// count. When the rows are sparse it goes a block at a time, loading the
// block's bins before using them: the stores' addresses depend on the bins
// (see touch).
func scatter(dst, rows []int32, l, r int, col []uint8, lut *[256]uint8, sparse bool) int {
	l0 := l
	for b0 := 0; b0 < len(rows); b0 += touchBlock {
		block := rows[b0:min(b0+touchBlock, len(rows))]
		if sparse {
			touch(col, block, 1, 0)
		}
		for _, row := range block {
			f := int(lut[col[row]])
			dst[r+(l-r)*f] = row
			l += f
			r += 1 - f
		}
	}
	return l - l0
}

// A node's rows are sparse, and worth touching before use, when they are
// fewer than 1/div of all rows (div below), so that consecutive ones are
// more than a cache line apart in the data read: records, of 16 or more
// bytes, and the column bins, one byte.
const (
	sparseRecords = 4
	sparseBins    = 64
)

// sparse reports whether m of the training rows are sparse for data of
// which one cache line holds about div rows' worth.
func (gw *grower) sparse(m, div int) bool { return m*div < gw.n }

// touchSeq reads one word of every cache line of s, in order, which the
// hardware prefetcher streams from memory at full speed.
//
//go:noinline
func touchSeq[T any](s []T) (x byte) {
	var z T
	step := max(1, 64/int(unsafe.Sizeof(z)))
	for i := 0; i < len(s); i += step {
		x ^= *(*byte)(unsafe.Pointer(&s[i]))
	}
	return x
}

// touchBlock is the number of rows whose scattered data a loop loads
// before using it.
const touchBlock = 2048

// touch loads s[r*stride+off] for each of rows, so that a loop that then
// uses them hits in cache. The loads alone have many cache misses in
// flight; see stage for why a loop that stores what it loads does not.
// It is not inlined so that the loads, whose values nothing uses, stay.
//
//go:noinline
func touch[T any](s []T, rows []int32, stride, off int) (x byte) {
	for _, r := range rows {
		x ^= *(*byte)(unsafe.Pointer(&s[int(r)*stride+off]))
	}
	return x
}

// grow fits one tree to the gradients gr and returns it; gw.leafRows
// then holds the rows of each leaf.
//
// When fill is not nil, it computes the gradients (see gradientRule): the
// root's histogram build calls it on each block of rows first, and sets
// gr.sums.
func (gw *grower) grow(gr *gradients, fill func(lo, hi int) nodeSums) *tree {
	gw.sp.invG = 1 / gr.gScale
	gw.sp.invH = 1 / gr.hScale
	gw.tm.chunks(gw.n, minChunk, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			gw.rows[0][i] = int32(i)
		}
	})
	gw.nodes = gw.nodes[:0]
	gw.nodes = append(gw.nodes, gnode{start: 0, end: gw.n, internal: -1, leaf: -1})
	root := &gw.nodes[0]
	if ok := gw.splittable(int64(gw.n), 0); ok || gw.recur {
		j := gw.job()
		j.evalB, j.evB = ok, newSplitEval(gr.sums, &gw.sp)
		switch {
		case gw.nextRoot != nil:
			root.hist, gw.nextRoot = gw.nextRoot, nil
			j.build, j.built = root.hist, true
		default:
			root.hist = gw.getHist()
			j.build, j.n = root.hist, gw.n
			j.fill, j.sums = fill, &gr.sums
		}
		gw.runHist(j, gr)
		if j.evalB {
			root.best, root.canSplit = pickSplit(j.candB, j.termsB)
		}
		gw.release(0)
	} else if fill != nil {
		gr.sums = gw.tm.parallelSums(gw.n, func(_, lo, hi int) nodeSums { return fill(lo, hi) })
		gr.sums.c = int64(gw.n)
	}
	root.sums = gr.sums

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
	gw.leafRows = gw.leafRows[:0]
	for i := range gw.nodes {
		nd := &gw.nodes[i]
		if nd.internal >= 0 {
			continue
		}
		if !gw.recur {
			gw.putHist(nd.hist)
			nd.hist = nil
		}
		nd.leaf = int32(len(t.leaves))
		ev := newSplitEval(nd.sums, &gw.sp)
		v := 0.0
		if ev.H+gw.sp.lambda > 0 {
			v = -ev.G / (ev.H + gw.sp.lambda) * gw.lr
		}
		t.leaves = append(t.leaves, v)
		gw.leafRows = append(gw.leafRows, gw.rows[nd.buf][nd.start:nd.end])
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

// release returns node i's histogram to the pool unless it may split, or
// may be a leaf that step needs.
func (gw *grower) release(i int) {
	if nd := &gw.nodes[i]; !nd.canSplit && !gw.recur {
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
	buf := gw.partition(p, int(s.lc), s.feat, &lut)
	mid := p.start + int(s.lc)
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
	left := gnode{start: p.start, end: mid, buf: buf, depth: p.depth + 1, sums: ls, internal: -1, leaf: -1}
	right := gnode{start: mid, end: p.end, buf: buf, depth: p.depth + 1, sums: rs, internal: -1, leaf: -1}
	parentHist := p.hist
	p.hist = nil
	li, ri := len(gw.nodes), len(gw.nodes)+1
	p.left, p.right = li, ri
	gw.nodes = append(gw.nodes, left, right) // p is stale from here
	okL := more && gw.splittable(ls.c, left.depth)
	okR := more && gw.splittable(rs.c, right.depth)
	if !okL && !okR && !gw.recur {
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
	j.build, j.idx, j.n, j.derive = sn.hist, gw.rows[sn.buf][sn.start:sn.end], sn.end-sn.start, ln.hist
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
