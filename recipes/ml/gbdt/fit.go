package gbdt

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
)

// ErrSingleClass is returned by Fit when a classification target holds
// fewer than two classes.
var ErrSingleClass = errors.New("gbdt: target has a single class")

// Fit trains a model on the rows x cols row-major matrix X and target y.
// For log_loss and softmax y holds class indexes 0..k-1. NaN in X means
// missing; infinite values in X and NaN or infinite targets are errors.
func Fit(X []float64, rows, cols int, y []float64, p Params) (*Model, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	p = p.withDefaults()
	l, _ := parseLoss(p.Loss)
	if err := checkShape(X, rows, cols); err != nil {
		return nil, err
	}
	if cols >= maxFeatures {
		return nil, fmt.Errorf("gbdt: %d columns, at most %d supported", cols, maxFeatures-1)
	}
	if len(y) != rows {
		return nil, fmt.Errorf("gbdt: len(y) = %d, want rows = %d", len(y), rows)
	}
	if rows > math.MaxInt32 {
		return nil, fmt.Errorf("gbdt: %d rows, at most %d supported", rows, math.MaxInt32)
	}
	nClass, err := checkTarget(y, l, p.NumClass)
	if err != nil {
		return nil, err
	}
	k := 1
	if l == lossSoftmax {
		k = nClass
	}

	var trainIdx, valIdx []int32
	if p.EarlyStopping {
		trainIdx, valIdx = splitRows(y, l.classification(), nClass, p.ValidationFraction, p.RandomState)
		if len(trainIdx) == 0 || len(valIdx) == 0 {
			return nil, fmt.Errorf("gbdt: %d rows are too few to hold out a validation fraction of %v", rows, p.ValidationFraction)
		}
	}
	tm := newTeam(min(p.Threads, runtime.GOMAXPROCS(0)))
	defer tm.close()
	bm := fitBins(X, cols, trainIdx, rows, p.MaxBins, p.RandomState, tm)
	nTrain := rows
	ytr := y
	if trainIdx != nil {
		nTrain = len(trainIdx)
		ytr = gather(y, trainIdx)
	}
	colBins := make([]uint8, nTrain*cols)
	// The records' gradient words are filled in for each tree (see
	// gradientRule).
	rs := panels(cols) + 1
	rec := make([]uint64, nTrain*rs)
	adviseHugePages(colBins)
	adviseHugePages(rec)
	if err := bm.transform(binSink{cols: colBins, words: rec, wordStride: rs}, X, trainIdx, rows, tm); err != nil {
		return nil, err
	}
	var vbins []uint8
	var yval, vraw []float64
	if valIdx != nil {
		vbins = make([]uint8, len(valIdx)*cols)
		if err := bm.transform(binSink{rows: vbins}, X, valIdx, rows, tm); err != nil {
			return nil, err
		}
		yval = gather(y, valIdx)
	}
	if l == lossLog {
		if err := checkBothClasses(ytr); err != nil {
			return nil, err
		}
	}

	base := baseline(l, ytr, k)
	raw := make([]float64, nTrain*k)
	adviseHugePages(raw)
	for i := range raw {
		raw[i] = base[i%k]
	}
	if yval != nil {
		vraw = make([]float64, len(yval)*k)
		for i := range vraw {
			vraw[i] = base[i%k]
		}
	}
	var prob, resid []float64
	if l == lossSoftmax {
		prob = make([]float64, nTrain*k)
	}
	if l == lossAbsolute {
		resid = make([]float64, nTrain)
	}

	gw := newGrower(colBins, rec, nTrain, cols, bm, p, l, tm)
	m := &Model{loss: l, k: k, nClass: nClass, nFeatures: cols, baseline: base}
	var trees []*tree
	bestIter, sinceBest := 0, 0
	bestScore := math.Inf(1)
	if yval != nil {
		bestScore = score(l, vraw, yval, k)
		m.valScores = append(m.valScores, bestScore)
	}
	var gr gradients
	for it := 0; it < p.NIter; it++ {
		if l == lossSoftmax {
			softmaxProbs(prob, raw, k, tm)
		}
		for c := range k {
			// The root's histogram build fills in the gradients, but for
			// squared error after the first tree (see grower.step).
			var fill func(lo, hi int) nodeSums
			switch {
			case !gw.recur:
				gr, fill = gradientRule(l, rec[rs-1:], rs, raw, ytr, prob, c, k, tm)
			case it == 0:
				gr = computeGradients(l, rec[rs-1:], rs, raw, ytr, prob, c, k, tm)
			}
			t := gw.grow(&gr, fill)
			switch {
			case gw.recur:
				gw.step(t, &gr, it+1 < p.NIter)
			case l == lossAbsolute:
				gw.medianLeaves(t, raw, ytr, resid)
				fallthrough
			default:
				gw.applyLeaves(t, raw, c, k)
			}
			if yval != nil {
				t.predictBinned(vbins, cols, vraw, c, k)
			}
			trees = append(trees, t)
		}
		if yval == nil {
			bestIter = it + 1
			continue
		}
		s := score(l, vraw, yval, k)
		m.valScores = append(m.valScores, s)
		if s < bestScore-p.Tol {
			bestScore, bestIter, sinceBest = s, it+1, 0
		} else if sinceBest++; sinceBest >= p.NIterNoChange {
			break
		}
	}
	m.nIter = bestIter
	m.setTrees(trees[:bestIter*k])
	return m, nil
}

func checkShape(X []float64, rows, cols int) error {
	if rows <= 0 || cols <= 0 {
		return fmt.Errorf("gbdt: shape %d x %d, want positive rows and columns", rows, cols)
	}
	if cols > math.MaxInt32 || rows > math.MaxInt/cols || len(X) != rows*cols {
		return fmt.Errorf("gbdt: len(X) = %d, want rows*cols = %d*%d", len(X), rows, cols)
	}
	return nil
}

// checkTarget validates y for the loss and returns the number of classes
// (0 for regression).
func checkTarget(y []float64, l lossKind, numClass int) (int, error) {
	maxClass := 0
	for i, v := range y {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, &InputError{Row: i, Col: -1, Value: v, Reason: "the target must be finite"}
		}
		if !l.classification() {
			continue
		}
		if v < 0 || v != math.Trunc(v) || v > 1<<20 {
			return 0, &InputError{Row: i, Col: -1, Value: v, Reason: "class labels must be integers 0..k-1"}
		}
		maxClass = max(maxClass, int(v))
	}
	switch l {
	case lossLog:
		if maxClass > 1 {
			return 0, fmt.Errorf("gbdt: log_loss needs classes 0 and 1, y has class %d (use softmax)", maxClass)
		}
		if err := checkBothClasses(y); err != nil {
			return 0, err
		}
		return 2, nil
	case lossSoftmax:
		k := numClass
		if k == 0 {
			k = maxClass + 1
		}
		if maxClass >= k {
			return 0, fmt.Errorf("gbdt: y has class %d, NumClass is %d", maxClass, k)
		}
		seen := make([]bool, k)
		distinct := 0
		for _, v := range y {
			if !seen[int(v)] {
				seen[int(v)] = true
				distinct++
			}
		}
		if distinct < 2 {
			return 0, fmt.Errorf("%w: softmax needs at least two classes, y has only class %v", ErrSingleClass, y[0])
		}
		return k, nil
	}
	return 0, nil
}

func checkBothClasses(y []float64) error {
	for _, v := range y[1:] {
		if v != y[0] {
			return nil
		}
	}
	return fmt.Errorf("%w: log_loss needs classes 0 and 1, y has only class %v", ErrSingleClass, y[0])
}

// splitRows returns sorted training and validation row indexes, holding
// out frac of the rows (of each class when stratify), chosen by seed.
func splitRows(y []float64, stratify bool, nClass int, frac float64, seed int64) (train, val []int32) {
	rng := newRNG(seed, 2)
	groups := [][]int32{nil}
	if stratify {
		groups = make([][]int32, nClass)
	}
	for i, v := range y {
		g := 0
		if stratify {
			g = int(v)
		}
		groups[g] = append(groups[g], int32(i))
	}
	for _, g := range groups {
		rng.Shuffle(len(g), func(i, j int) { g[i], g[j] = g[j], g[i] })
		nv := int(math.Round(frac * float64(len(g))))
		if stratify && len(g) >= 2 {
			nv = max(1, min(nv, len(g)-1))
		}
		val = append(val, g[:nv]...)
		train = append(train, g[nv:]...)
	}
	slices.Sort(train)
	slices.Sort(val)
	return train, val
}

func gather(v []float64, idx []int32) []float64 {
	out := make([]float64, len(idx))
	for i, r := range idx {
		out[i] = v[r]
	}
	return out
}

// medianLeaves sets each leaf of t to the learning rate times the median
// residual of its rows, as absolute error's leaf estimate.
func (gw *grower) medianLeaves(t *tree, raw, y, resid []float64) {
	// Leaf j's residuals go to resid[off[j]:], after the other leaves'.
	off := make([]int, len(gw.leafRows))
	for j := 1; j < len(off); j++ {
		off[j] = off[j-1] + len(gw.leafRows[j-1])
	}
	gw.tm.each(len(t.leaves), func(_, j int) {
		rows := gw.leafRows[j]
		res := resid[off[j] : off[j]+len(rows)]
		for i, r := range rows {
			res[i] = y[r] - raw[r]
		}
		t.leaves[j] = gw.lr * median(res)
	})
}

// applyLeaves adds each leaf value of t to the raw predictions of output c
// of its training rows.
func (gw *grower) applyLeaves(t *tree, raw []float64, c, k int) {
	gw.leafParts(k*8, func(lo, hi int) {
		touchSeq(raw[lo*k : hi*k])
	}, func(_, j int, rows []int32) {
		v := t.leaves[j]
		for _, r := range rows {
			raw[int(r)*k+c] += v
		}
	})
}

// leafParts calls fn(w, j, rows) for the rows of every leaf j of the last
// tree, in parts of consecutive row numbers: a leaf's rows are sorted, so
// a part holds a run of each leaf's rows. A part covers about partBytes of
// the per-row data fn updates (bytesPerRow each), and prefetch(lo, hi)
// first reads that data in order, so the leaves' scattered updates hit in
// cache: the data comes from memory once, sequentially, instead of a cache
// miss per row. Goroutines take parts, which are disjoint.
func (gw *grower) leafParts(bytesPerRow int, prefetch func(lo, hi int), fn func(w, j int, rows []int32)) {
	const partBytes = 256 << 10
	size := max(1024, partBytes/bytesPerRow)
	parts := (gw.n + size - 1) / size
	gw.tm.each(parts, func(w, p int) {
		lo, hi := p*size, min((p+1)*size, gw.n)
		prefetch(lo, hi)
		for j, rows := range gw.leafRows {
			a, _ := slices.BinarySearch(rows, int32(lo))
			b, _ := slices.BinarySearch(rows[a:], int32(hi))
			if b > 0 {
				fn(w, j, rows[a:a+b])
			}
		}
	})
}

// predictBinned adds t's predictions for the binned rows to output c of
// raw.
func (t *tree) predictBinned(bins []uint8, cols int, raw []float64, c, k int) {
	n := len(bins) / cols
	for i := range n {
		row := bins[i*cols : i*cols+cols]
		ref := int32(-1)
		if len(t.nodes) > 0 {
			ref = 0
		}
		for ref >= 0 {
			nd := &t.nodes[ref]
			b := row[nd.feat]
			if (b == MissingBin && nd.missLeft) || (b != MissingBin && b <= nd.bin) {
				ref = nd.left
			} else {
				ref = nd.right
			}
		}
		raw[i*k+c] += t.leaves[^ref]
	}
}
