package gbdt

// hbin is one histogram bin: the sums of the quantized gradients and
// hessians of its rows and the row count. With a constant hessian the
// count stands in for the hessian sum (h is unused).
type hbin struct{ g, c, h int64 }

// featHist is the histogram of one feature; bin MissingBin holds NaN rows.
type featHist [256]hbin

// buildColPacked adds rows to the histogram of one feature for a loss
// with constant hessian: row idx[i] has bin col[idx[i]] and packed gradient
// and count og[i] (gathered in idx order; see gradients). With idx nil the
// rows are 0..len(og)-1. The bins' g fields hold packed sums until unpack.
func buildColPacked(fh *featHist, col []uint8, idx []int32, og []int64) {
	if idx == nil {
		col = col[:len(og)]
		for i, g := range og {
			fh[col[i]].g += g
		}
		return
	}
	og = og[:len(idx)]
	for i, r := range idx {
		fh[col[r]].g += og[i]
	}
}

// buildColHess is buildColPacked for gradient and hessian pairs.
func buildColHess(fh *featHist, col []uint8, idx []int32, og []ghPair) {
	if idx == nil {
		col = col[:len(og)]
		for i, p := range og {
			e := &fh[col[i]]
			e.g += int64(p.g)
			e.h += int64(p.h)
			e.c++
		}
		return
	}
	og = og[:len(idx)]
	for i, r := range idx {
		e := &fh[col[r]]
		p := og[i]
		e.g += int64(p.g)
		e.h += int64(p.h)
		e.c++
	}
}

// buildCol4Hess is buildColHess for four features at once: the loads of
// the row indexes and gradients are shared, and the four column reads of
// a row are independent, so their cache misses overlap.
func buildCol4Hess(fh *[4]*featHist, col *[4][]uint8, idx []int32, og []ghPair) {
	f0, f1, f2, f3 := fh[0], fh[1], fh[2], fh[3]
	if idx == nil {
		c0, c1, c2, c3 := col[0][:len(og)], col[1][:len(og)], col[2][:len(og)], col[3][:len(og)]
		for i, p := range og {
			g, h := int64(p.g), int64(p.h)
			e0, e1, e2, e3 := &f0[c0[i]], &f1[c1[i]], &f2[c2[i]], &f3[c3[i]]
			e0.g += g
			e0.h += h
			e0.c++
			e1.g += g
			e1.h += h
			e1.c++
			e2.g += g
			e2.h += h
			e2.c++
			e3.g += g
			e3.h += h
			e3.c++
		}
		return
	}
	og = og[:len(idx)]
	n := len(col[0])
	c0, c1, c2, c3 := col[0][:n], col[1][:n], col[2][:n], col[3][:n]
	for i, r := range idx {
		e0, e1, e2, e3 := &f0[c0[r]], &f1[c1[r]], &f2[c2[r]], &f3[c3[r]]
		p := og[i]
		g, h := int64(p.g), int64(p.h)
		e0.g += g
		e0.h += h
		e0.c++
		e1.g += g
		e1.h += h
		e1.c++
		e2.g += g
		e2.h += h
		e2.c++
		e3.g += g
		e3.h += h
		e3.c++
	}
}

// buildCol4Packed is buildColPacked for four features at once.
func buildCol4Packed(fh *[4]*featHist, col *[4][]uint8, idx []int32, og []int64) {
	f0, f1, f2, f3 := fh[0], fh[1], fh[2], fh[3]
	if idx == nil {
		c0, c1, c2, c3 := col[0][:len(og)], col[1][:len(og)], col[2][:len(og)], col[3][:len(og)]
		for i, g := range og {
			f0[c0[i]].g += g
			f1[c1[i]].g += g
			f2[c2[i]].g += g
			f3[c3[i]].g += g
		}
		return
	}
	og = og[:len(idx)]
	n := len(col[0])
	c0, c1, c2, c3 := col[0][:n], col[1][:n], col[2][:n], col[3][:n]
	for i, r := range idx {
		g := og[i]
		f0[c0[r]].g += g
		f1[c1[r]].g += g
		f2[c2[r]].g += g
		f3[c3[r]].g += g
	}
}

// split is a candidate split of a node: rows with bin <= bin go left, and
// NaN rows go left when missLeft. lg, lh, lc are the left child's sums.
type split struct {
	gain       float64
	feat       int
	bin        int
	missLeft   bool
	lg, lh, lc int64
}

// splitParams are the constraints and scales split finding works with.
type splitParams struct {
	lambda       float64
	minLeaf      int64
	invG, invH   float64
	constHessian bool
}

// nodeSums are the gradient, hessian and count sums of a node.
type nodeSums struct{ g, h, c int64 }

// splitEval holds what evaluating one node's splits needs besides the
// histogram: its sums and the parent term G²/(H+λ) of the gain.
type splitEval struct {
	sums   nodeSums
	G, H   float64
	parent float64
}

func newSplitEval(s nodeSums, sp *splitParams) splitEval {
	G := float64(s.g) * sp.invG
	H := float64(s.c)
	if !sp.constHessian {
		H = float64(s.h) * sp.invH
	}
	return splitEval{sums: s, G: G, H: H, parent: G * G / (H + sp.lambda)}
}

// bestFeatureSplit returns the split of feature f of a node with the
// largest gain
//
//	G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ)
//
// over its bins, trying both directions for NaN rows when the node has
// any. gain is 0 when no split satisfies the constraints; terms is the
// winner's G_L²/(H_L+λ) + G_R²/(H_R+λ).
func bestFeatureSplit(fh *featHist, nb, f int, ev *splitEval, sp *splitParams) (best split, terms float64) {
	lam := sp.lambda
	sc := ev.sums.c
	consider := func(b int, missLeft bool, lg, lh, lc int64) {
		GL := float64(lg) * sp.invG
		HL := float64(lc)
		if !sp.constHessian {
			HL = float64(lh) * sp.invH
		}
		GR, HR := ev.G-GL, ev.H-HL
		if HL < minHessian || HR < minHessian {
			return
		}
		t := GL*GL/(HL+lam) + GR*GR/(HR+lam)
		if gain := t - ev.parent; gain > best.gain {
			best = split{gain: gain, feat: f, bin: b, missLeft: missLeft, lg: lg, lh: lh, lc: lc}
			terms = t
		}
	}
	miss := fh[MissingBin]
	// NaN rows (if any) go right: left is bins 0..b.
	last := nb - 2
	if miss.c > 0 {
		last = nb - 1
	}
	var lg, lh, lc int64
	for b := 0; b <= last; b++ {
		e := &fh[b]
		lg += e.g
		lh += e.h
		lc += e.c
		if lc < sp.minLeaf || e.c == 0 {
			continue
		}
		if sc-lc < sp.minLeaf {
			break
		}
		// With no NaN rows here, send future NaN to the larger child.
		consider(b, miss.c == 0 && lc >= sc-lc, lg, lh, lc)
	}
	if miss.c == 0 {
		return best, terms
	}
	// NaN rows go left: left is the missing bin plus bins 0..b.
	lg, lh, lc = miss.g, miss.h, miss.c
	for b := 0; b <= nb-2; b++ {
		e := &fh[b]
		lg += e.g
		lh += e.h
		lc += e.c
		if lc < sp.minLeaf || e.c == 0 {
			continue
		}
		if sc-lc < sp.minLeaf {
			break
		}
		consider(b, true, lg, lh, lc)
	}
	return best, terms
}

// pickSplit returns the best of the per-feature candidates (the lowest
// feature on ties), and ok false when it has no gain beyond rounding.
func pickSplit(cands []split, terms []float64) (best split, ok bool) {
	bi := -1
	for f := range cands {
		if cands[f].gain > 0 && (bi < 0 || cands[f].gain > cands[bi].gain) {
			bi = f
		}
	}
	// A gain within rounding of zero is no gain.
	if bi < 0 || cands[bi].gain <= 1e-10*terms[bi] {
		return split{}, false
	}
	return cands[bi], true
}
