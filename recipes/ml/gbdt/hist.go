package gbdt

// Rows are binned twice: column-major bytes (grower.colBins), which the
// partition reads one feature at a time, and row records (grower.rec),
// which histograms are built from. A record is panels(cols) words of bins,
// word p holding the bins of features 8p..8p+7 one byte each (zero past
// the last feature), followed by a word with the row's quantized gradient
// (see gradients). One load brings eight features' bins, and a record (16
// or 32 bytes for up to 24 features) sits in one cache line, so gathering
// a node's scattered rows costs a cache miss per row rather than one per
// feature plus one for the gradient: that is what made small nodes slow.
//
// A histogram is built into scratch bins, eight features (a panel) at a
// time, so that the panel's bins (16 or 32 KiB) stay in L1 cache while rows
// stream past. Scratch bins use the fewest words the gradients allow (see
// histLayout) because a bin update is a load, an add and a store per word
// and stores are what bound the loop. The scratch is then unpacked into the
// node's featHist, where split finding and sibling subtraction work.

// hbin is one histogram bin: the sums of the quantized gradients and
// hessians of its rows and the row count. With a constant hessian the
// count stands in for the hessian sum (h is unused).
type hbin struct{ g, c, h int64 }

// featHist is the histogram of one feature; bin MissingBin holds NaN rows.
type featHist [256]hbin

// panelWidth is the number of features in one bin word of a record.
const panelWidth = 8

// histLayout is what a scratch bin holds.
type histLayout uint8

const (
	// layoutPacked: one word, the sum of g<<shift + 1 (constant hessian;
	// see gradients).
	layoutPacked histLayout = iota + 1
	// layoutPackedHess: the packed gradient and count word and the hessian
	// sum.
	layoutPackedHess
	// layoutWide: gradient, count and hessian sums, for data sets too
	// large to pack.
	layoutWide
)

type (
	packedPanel     [panelWidth][256]int64
	packedHessPanel [panelWidth][256][2]int64
	widePanel       [panelWidth][256][3]int64
)

// addPacked adds n records to a packed panel: record i is
// recs[i*rs:(i+1)*rs], with the panel's bin word at p and the packed
// gradient at rs-1. Only the first width bytes of the bin word are used (4
// or 8). Shifting w by a byte per feature, rather than by 8j, keeps few
// values live: with addPackedHess's two sums per bin the other way spilled
// to the stack and ran a third slower.
func addPacked(h *packedPanel, recs []uint64, rs, p, width, n int) {
	if n == 0 {
		return
	}
	recs = recs[:n*rs]
	gi := rs - 1
	if width <= 4 {
		for off := 0; off+gi < len(recs); off += rs {
			w, g := recs[off+p], int64(recs[off+gi])
			h[0][uint8(w)] += g
			w >>= 8
			h[1][uint8(w)] += g
			w >>= 8
			h[2][uint8(w)] += g
			w >>= 8
			h[3][uint8(w)] += g
		}
		return
	}
	for off := 0; off+gi < len(recs); off += rs {
		w, g := recs[off+p], int64(recs[off+gi])
		h[0][uint8(w)] += g
		w >>= 8
		h[1][uint8(w)] += g
		w >>= 8
		h[2][uint8(w)] += g
		w >>= 8
		h[3][uint8(w)] += g
		w >>= 8
		h[4][uint8(w)] += g
		w >>= 8
		h[5][uint8(w)] += g
		w >>= 8
		h[6][uint8(w)] += g
		w >>= 8
		h[7][uint8(w)] += g
	}
}

// addPackedHess is addPacked for a gradient and hessian pair per row (see
// gradients): the gradient is packed with the count on the fly (g<<shift |
// 1 equals g<<shift + 1, and the OR keeps the compiler from splitting the
// addition in two).
func addPackedHess(h *packedHessPanel, recs []uint64, rs, p, width, n int, shift uint) {
	if n == 0 {
		return
	}
	recs = recs[:n*rs]
	gi := rs - 1
	shift &= 63
	if width <= 4 {
		for off := 0; off+gi < len(recs); off += rs {
			w, q := recs[off+p], recs[off+gi]
			g, hh := int64(int32(q))<<shift|1, int64(q>>32)
			e := &h[0][uint8(w)]
			e[0] += g
			e[1] += hh
			w >>= 8
			e = &h[1][uint8(w)]
			e[0] += g
			e[1] += hh
			w >>= 8
			e = &h[2][uint8(w)]
			e[0] += g
			e[1] += hh
			w >>= 8
			e = &h[3][uint8(w)]
			e[0] += g
			e[1] += hh
		}
		return
	}
	for off := 0; off+gi < len(recs); off += rs {
		w, q := recs[off+p], recs[off+gi]
		g, hh := int64(int32(q))<<shift|1, int64(q>>32)
		e := &h[0][uint8(w)]
		e[0] += g
		e[1] += hh
		w >>= 8
		e = &h[1][uint8(w)]
		e[0] += g
		e[1] += hh
		w >>= 8
		e = &h[2][uint8(w)]
		e[0] += g
		e[1] += hh
		w >>= 8
		e = &h[3][uint8(w)]
		e[0] += g
		e[1] += hh
		w >>= 8
		e = &h[4][uint8(w)]
		e[0] += g
		e[1] += hh
		w >>= 8
		e = &h[5][uint8(w)]
		e[0] += g
		e[1] += hh
		w >>= 8
		e = &h[6][uint8(w)]
		e[0] += g
		e[1] += hh
		w >>= 8
		e = &h[7][uint8(w)]
		e[0] += g
		e[1] += hh
	}
}

// addWide adds records to a wide panel. It only runs on data sets of more
// than about eight million rows, so it is kept simple.
func addWide(h *widePanel, recs []uint64, rs, p, width, n int) {
	for off := 0; off < n*rs; off += rs {
		w, q := recs[off+p], recs[off+rs-1]
		g, hh := int64(int32(q)), int64(q>>32)
		for j := range width {
			e := &h[j][uint8(w>>(8*j))]
			e[0] += g
			e[1]++
			e[2] += hh
		}
	}
}

// unpackFeature sets fh to the sum of the scratch bins of feature k of
// panel p over bufs.
func unpackFeature(fh *featHist, bufs []*histBuf, p, k int, shift uint) {
	mask := int64(1)<<shift - 1
	switch {
	case bufs[0].packed != nil:
		h := &bufs[0].packed[p][k]
		for b := range fh {
			v := h[b]
			for _, o := range bufs[1:] {
				v += o.packed[p][k][b]
			}
			fh[b] = hbin{g: v >> shift, c: v & mask}
		}
	case bufs[0].hess != nil:
		h := &bufs[0].hess[p][k]
		for b := range fh {
			v, hh := h[b][0], h[b][1]
			for _, o := range bufs[1:] {
				e := &o.hess[p][k][b]
				v += e[0]
				hh += e[1]
			}
			fh[b] = hbin{g: v >> shift, c: v & mask, h: hh}
		}
	default:
		h := &bufs[0].wide[p][k]
		for b := range fh {
			e := h[b]
			for _, o := range bufs[1:] {
				f := &o.wide[p][k][b]
				e[0] += f[0]
				e[1] += f[1]
				e[2] += f[2]
			}
			fh[b] = hbin{g: e[0], c: e[1], h: e[2]}
		}
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
