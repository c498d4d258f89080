package gbdt

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// binMapper maps raw feature values to uint8 bins. Feature f has
// len(thr[f])+1 value bins: a value x falls in bin #{t in thr[f] : t < x},
// so bin <= b exactly when x <= thr[f][b]. NaN falls in MissingBin.
type binMapper struct {
	cols int
	thr  [][]float64
	// table holds each feature's thresholds padded with +Inf to 256
	// entries, for a branch-free binary search.
	table []float64
}

// newRNG returns the generator for one use of the seed.
func newRNG(seed int64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), 0x5bd1e995_9e3779b9^stream))
}

// fitBins computes the thresholds from up to binSubsample of the given
// rows of X (all rows when rowIdx is nil).
func fitBins(X []float64, cols int, rowIdx []int32, rows, maxBins int, seed int64, tm *team) *binMapper {
	sample := rowIdx
	if sample == nil {
		sample = make([]int32, rows)
		for i := range sample {
			sample[i] = int32(i)
		}
	}
	if len(sample) > binSubsample {
		s := slices.Clone(sample)
		rng := newRNG(seed, 1)
		// Partial Fisher-Yates: the first binSubsample entries become a
		// uniform sample without replacement.
		for i := range binSubsample {
			j := i + rng.IntN(len(s)-i)
			s[i], s[j] = s[j], s[i]
		}
		sample = s[:binSubsample]
		slices.Sort(sample)
	}
	m := &binMapper{cols: cols, thr: make([][]float64, cols), table: make([]float64, cols*256)}
	// One set of buffers per goroutine keeps the garbage (and so the peak
	// heap) small.
	bufs := make([]*sortBuf, tm.size)
	tm.each(cols, func(w, f int) {
		sb := bufs[w]
		if sb == nil {
			sb = &sortBuf{vals: make([]float64, 0, len(sample))}
			bufs[w] = sb
		}
		vals := sb.vals[:0]
		for _, r := range sample {
			if v := X[int(r)*cols+f]; !math.IsNaN(v) {
				vals = append(vals, v)
			}
		}
		m.thr[f] = thresholds(vals, maxBins, sb)
		tab := m.table[f*256 : f*256+256]
		copy(tab, m.thr[f])
		for i := len(m.thr[f]); i < 256; i++ {
			tab[i] = math.Inf(1)
		}
	})
	return m
}

// thresholds returns at most maxBins-1 ascending thresholds: midpoints
// between distinct values when there are at most maxBins of them,
// otherwise midpoint quantiles (numpy's "midpoint" percentiles, as
// scikit-learn's binning does), deduplicated.
func thresholds(vals []float64, maxBins int, sb *sortBuf) []float64 {
	if len(vals) == 0 {
		return nil
	}
	sortFloats(vals, sb)
	distinct := 1
	for i := 1; i < len(vals) && distinct <= maxBins; i++ {
		if vals[i] != vals[i-1] {
			distinct++
		}
	}
	var out []float64
	if distinct <= maxBins {
		out = make([]float64, 0, distinct-1)
		for i := 1; i < len(vals); i++ {
			if vals[i] != vals[i-1] {
				out = append(out, vals[i-1]+(vals[i]-vals[i-1])/2)
			}
		}
		return out
	}
	n := len(vals)
	out = make([]float64, 0, maxBins-1)
	for i := 1; i < maxBins; i++ {
		pos := float64(i) / float64(maxBins) * float64(n-1)
		lo := int(math.Floor(pos))
		hi := int(math.Ceil(pos))
		t := vals[lo] + (vals[hi]-vals[lo])/2
		if len(out) == 0 || t > out[len(out)-1] {
			out = append(out, t)
		}
	}
	return out
}

// sortBuf holds reusable buffers for thresholds.
type sortBuf struct {
	vals      []float64
	keys, tmp []uint64
}

// sortFloats sorts NaN-free values ascending with an LSD radix sort on
// their order-preserving bit patterns, falling back to pdqsort for short
// inputs; len(v) < 2^32. sb may be nil. Digits are 11 bits, so all six
// digits' counts (48 KiB) fit in L1 cache and one pass counts them; a
// digit that is the same for every value (often a high one) costs no pass.
func sortFloats(v []float64, sb *sortBuf) {
	if len(v) < 4096 {
		slices.Sort(v)
		return
	}
	if sb == nil {
		sb = &sortBuf{}
	}
	if cap(sb.keys) < len(v) {
		sb.keys, sb.tmp = make([]uint64, len(v)), make([]uint64, len(v))
	}
	const (
		digitBits = 11
		digits    = (64 + digitBits - 1) / digitBits
		mask      = 1<<digitBits - 1
	)
	keys := sb.keys[:len(v)]
	var count [digits][1 << digitBits]uint32
	for i, x := range v {
		b := math.Float64bits(x)
		if b>>63 == 1 {
			b = ^b
		} else {
			b |= 1 << 63
		}
		keys[i] = b
		for d := range digits {
			count[d][(b>>(d*digitBits))&mask]++
		}
	}
	tmp := sb.tmp[:len(v)]
	for d := range digits {
		shift := uint(d * digitBits)
		c := &count[d]
		if c[(keys[0]>>shift)&mask] == uint32(len(keys)) {
			continue
		}
		var sum uint32
		for i, n := range c {
			c[i] = sum
			sum += n
		}
		for _, k := range keys {
			x := (k >> shift) & mask
			tmp[c[x]] = k
			c[x]++
		}
		keys, tmp = tmp, keys
	}
	for i, b := range keys {
		if b>>63 == 1 {
			b &^= 1 << 63
		} else {
			b = ^b
		}
		v[i] = math.Float64frombits(b)
	}
}

// nbins returns the number of value bins of feature f.
func (m *binMapper) nbins(f int) int { return len(m.thr[f]) + 1 }

// binValue returns the bin of a finite or NaN value of feature f: a binary
// search without branches (each step's comparison becomes a flag that
// moves p), so random values cost no mispredictions.
func binValue(tab *[256]float64, x float64) uint8 {
	if x != x {
		return MissingBin
	}
	p := b2i(tab[127] < x) << 7
	p += b2i(tab[p+63] < x) << 6
	p += b2i(tab[(p+31)&255] < x) << 5
	p += b2i(tab[(p+15)&255] < x) << 4
	p += b2i(tab[(p+7)&255] < x) << 3
	p += b2i(tab[(p+3)&255] < x) << 2
	p += b2i(tab[(p+1)&255] < x) << 1
	p += b2i(tab[p&255] < x)
	return uint8(p)
}

// b2i returns 1 for true and 0 for false; the compiler turns it into a
// SETcc instruction.
func b2i(b bool) int {
	var i int
	if b {
		i = 1
	}
	return i
}

// InputError reports an invalid value in the input to Fit or Predict.
type InputError struct {
	Row, Col int // Col is -1 for the target
	Value    float64
	Reason   string
}

func (e *InputError) Error() string {
	if e.Col < 0 {
		return fmt.Sprintf("gbdt: target y at row %d is %v: %s", e.Row, e.Value, e.Reason)
	}
	return fmt.Sprintf("gbdt: X at row %d, column %d is %v: %s", e.Row, e.Col, e.Value, e.Reason)
}

// binSink says where transform writes the bins of row i (the i-th row it
// bins); nil layouts are skipped.
type binSink struct {
	rows  []uint8  // row-major, one byte per feature
	cols  []uint8  // column-major
	words []uint64 // records: the words of panelWidth features first (see hist.go)
	// wordStride is the words per record.
	wordStride int
}

// transform bins the given rows of X (all rows when rowIdx is nil) into
// the layouts of dst. It rejects infinite values.
func (m *binMapper) transform(dst binSink, X []float64, rowIdx []int32, rows int, tm *team) error {
	cols := m.cols
	n := rows
	if rowIdx != nil {
		n = len(rowIdx)
	}
	chunk := minChunk
	t := (n + chunk - 1) / chunk
	errs := make([]error, t)
	tm.each(t, func(_, ci int) {
		lo, hi := ci*chunk, min((ci+1)*chunk, n)
		bins := make([]uint8, cols)
		for i := lo; i < hi; i++ {
			r := i
			if rowIdx != nil {
				r = int(rowIdx[i])
			}
			x := X[r*cols : r*cols+cols]
			var w uint64 // the current word of bins
			for f, v := range x {
				if math.IsInf(v, 0) {
					errs[ci] = &InputError{Row: r, Col: f, Value: v, Reason: "infinite values are not supported (use NaN for missing)"}
					return
				}
				b := binValue((*[256]float64)(m.table[f*256:f*256+256]), v)
				bins[f] = b
				w |= uint64(b) << (8 * (f % panelWidth))
				if dst.words != nil && (f%panelWidth == panelWidth-1 || f == cols-1) {
					dst.words[i*dst.wordStride+f/panelWidth] = w
					w = 0
				}
			}
			if dst.rows != nil {
				copy(dst.rows[i*cols:i*cols+cols], bins)
			}
			if dst.cols != nil {
				for f, b := range bins {
					dst.cols[f*n+i] = b
				}
			}
		}
	})
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
