package cards

import (
	"math"
	"math/bits"
	"slices"
	"time"

	"github.com/sous-ml/sous/recipes/frame"
)

// Profile bounds.
const (
	// DefaultSampleRows is the most rows a profile reads for quantiles and
	// for the exact distinct count; bigger columns are sampled (stratified, with
	// a fixed seed) and their distinct count is estimated.
	DefaultSampleRows = 100_000
	// DefaultTopValues is how many most frequent values a profile keeps for
	// String and Bool columns.
	DefaultTopValues = 5
	// profileBins is the number of histogram bins of a numeric column profile.
	profileBins = 20
)

// ColumnProfile summarizes one column of a frame.
//
// The numeric statistics (Count through Hist) are filled for Float, Int and
// Time columns and are computed over the finite non-null values: nulls are
// counted in Nulls, and NaN or ±Inf floats in NonFinite. Min, Max, Mean, Std,
// Zeros and Hist read every row; the quantiles read at most
// DefaultSampleRows rows (Sampled reports when they were sampled).
type ColumnProfile struct {
	Name string
	Kind frame.Kind
	// Rows is the number of rows, nulls included.
	Rows int
	// Nulls is the number of null rows.
	Nulls int
	// NonFinite is the number of NaN and ±Inf values in a Float column.
	NonFinite int
	// Distinct is the number of distinct non-null values (NaN excluded). It
	// is exact when DistinctExact and a HyperLogLog estimate (about 1% error) otherwise.
	Distinct      int
	DistinctExact bool

	// Count is the number of values the numeric statistics cover.
	Count int
	// Min and Max are exact. For a Time column they are nanoseconds; see MinTime and MaxTime.
	Min, Max float64
	// Mean is the arithmetic mean; for a Bool column, the share of true values.
	Mean float64
	// Std is the sample standard deviation (n-1 in the denominator; 0 for one value).
	Std float64
	// Zeros is the number of values equal to zero.
	Zeros int
	// P5 through P95 are quantiles (linear interpolation between order statistics).
	P5, P25, Median, P75, P95 float64
	// Sampled reports that the quantiles come from a sample of SampleRows rows.
	Sampled    bool
	SampleRows int
	// Hist counts values in equal-width bins from HistLo to HistHi.
	Hist           []int
	HistLo, HistHi float64
	// MinTime and MaxTime are Min and Max of a Time column.
	MinTime, MaxTime time.Time

	// Top holds the most frequent values of a String or Bool column, by
	// count (descending) then value (ascending).
	Top []ValueCount
	// Empty is the number of empty strings in a String column.
	Empty int
}

// ValueCount is one value and how many rows hold it.
type ValueCount struct {
	Value string
	Count int
}

// Profile computes the profile of every column of f, in column order. A nil
// or empty frame has an empty profile. The cost is linear in the number of
// rows, plus sorting at most DefaultSampleRows values per numeric column.
func Profile(f *frame.Frame) []ColumnProfile {
	if f == nil {
		return nil
	}
	out := make([]ColumnProfile, len(f.Cols))
	for i, c := range f.Cols {
		out[i] = profileColumn(c)
	}
	return out
}

func profileColumn(c *frame.Column) ColumnProfile {
	p := ColumnProfile{Name: c.Name, Kind: c.Kind, Rows: c.Len()}
	valid := c.Valid
	if valid != nil && len(valid) != p.Rows {
		valid = nil // inconsistent column: read it as having no nulls rather than panic
	}
	if valid != nil {
		p.Nulls = c.NullCount()
	}
	switch c.Kind {
	case frame.Float:
		profileNumeric(&p, c.Floats, valid, false)
		if p.Sampled {
			p.Distinct = hllFloats(c.Floats, valid)
		}
	case frame.Int, frame.Time:
		profileNumeric(&p, c.Ints, valid, true)
		if p.Sampled {
			p.Distinct = hllInts(c.Ints, valid)
		}
		if c.Kind == frame.Time && p.Count > 0 {
			lo, hi := exactMinMax(c.Ints, valid)
			p.MinTime, p.MaxTime = time.Unix(0, lo).UTC(), time.Unix(0, hi).UTC()
		}
	case frame.Bool:
		profileBool(&p, c.Bools, valid)
	case frame.String:
		profileString(&p, c.Codes, c.Dict, valid)
	}
	return p
}

type number interface{ ~float64 | ~int64 }

// profileNumeric fills the numeric statistics from vals. integral asks for
// one bin per value when the range is narrow.
func profileNumeric[T number](p *ColumnProfile, vals []T, valid []bool, integral bool) {
	// Pass 1: count, sum, min, max, zeros.
	var sum float64
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, v := range vals {
		if valid != nil && !valid[i] {
			continue
		}
		x := float64(v)
		if x-x != 0 { // NaN or ±Inf
			p.NonFinite++
			continue
		}
		p.Count++
		sum += x
		if x < lo {
			lo = x
		}
		if x > hi {
			hi = x
		}
		if x == 0 {
			p.Zeros++
		}
	}
	if p.Count == 0 {
		p.Min, p.Max, p.Mean, p.Std = math.NaN(), math.NaN(), math.NaN(), math.NaN()
		p.P5, p.P25, p.Median, p.P75, p.P95 = math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN()
		p.DistinctExact = true
		return
	}
	p.Min, p.Max = lo, hi
	mean := sum / float64(p.Count)
	if math.IsInf(mean, 0) { // the sum overflowed
		mean = 0
		for i, v := range vals {
			if x := float64(v); (valid == nil || valid[i]) && x-x == 0 {
				mean += x / float64(p.Count)
			}
		}
	}
	p.Mean = mean

	// Pass 2: squared deviations and the histogram.
	bins := profileBins
	p.HistLo, p.HistHi = lo, hi
	if hi == lo {
		bins = 1
	} else if integral && hi-lo < profileBins {
		bins = int(hi-lo) + 1
		p.HistLo, p.HistHi = lo-0.5, hi+0.5
	}
	p.Hist = make([]int, bins)
	scale, half := binScale(p.HistLo, p.HistHi, bins)
	var ss float64
	for i, v := range vals {
		if valid != nil && !valid[i] {
			continue
		}
		x := float64(v)
		if x-x != 0 {
			continue
		}
		d := x - mean
		ss += d * d
		p.Hist[bin(x, half, scale, bins)]++
	}
	if p.Count > 1 {
		p.Std = math.Sqrt(ss / float64(p.Count-1))
	}

	// Quantiles, and the exact distinct count when every row fits the sample.
	sample := sampleFinite(vals, valid, DefaultSampleRows)
	slices.Sort(sample)
	p.Sampled = len(vals) > DefaultSampleRows
	if p.Sampled {
		p.SampleRows = DefaultSampleRows
	} else {
		p.SampleRows = len(vals)
		p.DistinctExact = true
		for i := range sample {
			if i == 0 || sample[i] != sample[i-1] {
				p.Distinct++
			}
		}
	}
	q := func(prob float64) float64 { return quantile(sample, prob) }
	p.P5, p.P25, p.Median, p.P75, p.P95 = q(0.05), q(0.25), q(0.5), q(0.75), q(0.95)
}

// binScale returns what bin needs to put values in bins equal-width bins
// over [lo, hi]. It works on halves so that a range as wide as ±MaxFloat64
// stays finite.
func binScale(lo, hi float64, bins int) (scale, halfLo float64) {
	if w := hi/2 - lo/2; w > 0 {
		scale = float64(bins) / w
	}
	return scale, lo / 2
}

// bin is the bin of x, clamped to [0, bins).
func bin(x, halfLo, scale float64, bins int) int {
	b := int((x/2 - halfLo) * scale)
	if b < 0 { // with min below, this clamps whatever int(NaN) turns out to be
		return 0
	}
	return min(b, bins-1)
}

// sampleFinite returns the finite non-null values of vals: all of them when
// there are at most limit rows, otherwise those among limit rows picked one
// per equal stratum with a fixed seed.
func sampleFinite[T number](vals []T, valid []bool, limit int) []T {
	n := len(vals)
	keep := func(i int) bool {
		x := float64(vals[i])
		return (valid == nil || valid[i]) && x-x == 0
	}
	if n <= limit {
		out := make([]T, 0, n)
		for i := range vals {
			if keep(i) {
				out = append(out, vals[i])
			}
		}
		return out
	}
	out := make([]T, 0, limit)
	for _, i := range strata(n, limit) {
		if keep(i) {
			out = append(out, vals[i])
		}
	}
	return out
}

// strata picks k of the row indices [0, n), one from each of k equal
// strata, deterministically, in increasing order. It requires k <= n.
func strata(n, k int) []int {
	idx := make([]int, k)
	for j := range k {
		lo := j * n / k
		hi := (j + 1) * n / k
		idx[j] = lo + int(splitmix(uint64(j)+0x5eed)%uint64(hi-lo))
	}
	return idx
}

// quantile interpolates the prob quantile of sorted values (NaN when there are none).
func quantile[T number](sorted []T, prob float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	h := prob * float64(len(sorted)-1)
	i := int(h)
	if i >= len(sorted)-1 {
		return float64(sorted[len(sorted)-1])
	}
	a, b := float64(sorted[i]), float64(sorted[i+1])
	return a + (h-float64(i))*(b-a)
}

func exactMinMax(vals []int64, valid []bool) (lo, hi int64) {
	lo, hi = math.MaxInt64, math.MinInt64
	for i, v := range vals {
		if valid != nil && !valid[i] {
			continue
		}
		lo, hi = min(lo, v), max(hi, v)
	}
	return lo, hi
}

func profileBool(p *ColumnProfile, vals []bool, valid []bool) {
	var t, f int
	for i, v := range vals {
		switch {
		case valid != nil && !valid[i]:
		case v:
			t++
		default:
			f++
		}
	}
	p.Count = t + f
	p.DistinctExact = true
	p.Min, p.Max, p.Mean, p.Std = math.NaN(), math.NaN(), math.NaN(), math.NaN()
	p.P5, p.P25, p.Median, p.P75, p.P95 = math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN()
	if p.Count > 0 {
		p.Mean = float64(t) / float64(p.Count)
	}
	for _, vc := range []ValueCount{{"true", t}, {"false", f}} {
		if vc.Count > 0 {
			p.Distinct++
			p.Top = insertTop(p.Top, vc, DefaultTopValues)
		}
	}
}

func profileString(p *ColumnProfile, codes []int32, dict []string, valid []bool) {
	counts := make([]int, len(dict))
	for i, code := range codes {
		if valid != nil && !valid[i] {
			continue
		}
		if code >= 0 && int(code) < len(counts) {
			counts[code]++
		}
	}
	p.DistinctExact = true
	p.Min, p.Max, p.Mean, p.Std = math.NaN(), math.NaN(), math.NaN(), math.NaN()
	p.P5, p.P25, p.Median, p.P75, p.P95 = math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN()
	// A dictionary may hold a string under two codes: merge by value.
	used := 0
	for _, n := range counts {
		if n > 0 {
			used++
		}
	}
	byValue := make(map[string]int, used)
	for code, n := range counts {
		if n > 0 {
			byValue[dict[code]] += n
			p.Count += n
		}
	}
	p.Distinct = len(byValue)
	p.Empty = byValue[""]
	for v, n := range byValue { // insertTop's order is total, so map order does not matter
		p.Top = insertTop(p.Top, ValueCount{v, n}, DefaultTopValues)
	}
}

// insertTop adds vc to top, kept sorted by count descending then value
// ascending and cut to k entries.
func insertTop(top []ValueCount, vc ValueCount, k int) []ValueCount {
	less := func(a, b ValueCount) bool { // a ranks before b
		return a.Count > b.Count || a.Count == b.Count && a.Value < b.Value
	}
	if len(top) == k && !less(vc, top[k-1]) {
		return top
	}
	i := len(top)
	for i > 0 && less(vc, top[i-1]) {
		i--
	}
	if len(top) < k {
		top = append(top, ValueCount{})
	}
	copy(top[i+1:], top[i:len(top)-1])
	top[i] = vc
	return top
}

// splitmix is the SplitMix64 finalizer: a fast, well mixed 64-bit hash.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// hllP is the HyperLogLog precision: 2^14 registers, about 0.8% standard error.
const hllP = 14

type hll [1 << hllP]uint8

func (h *hll) add(x uint64) {
	x = splitmix(x)
	j := x >> (64 - hllP)
	r := uint8(bits.LeadingZeros64(x<<hllP|1<<(hllP-1)) + 1)
	if r > h[j] {
		h[j] = r
	}
}

func (h *hll) estimate() int {
	const m = float64(len(h))
	var sum float64
	zeros := 0
	for _, r := range h {
		sum += math.Ldexp(1, -int(r))
		if r == 0 {
			zeros++
		}
	}
	e := 0.7213 / (1 + 1.079/m) * m * m / sum
	if e <= 2.5*m && zeros > 0 {
		e = m * math.Log(m/float64(zeros))
	}
	return int(math.Round(e))
}

func hllFloats(vals []float64, valid []bool) int {
	var h hll
	for i, x := range vals {
		if (valid == nil || valid[i]) && x-x == 0 {
			h.add(math.Float64bits(x + 0)) // x+0 turns -0 into +0
		}
	}
	return h.estimate()
}

func hllInts(vals []int64, valid []bool) int {
	var h hll
	for i, x := range vals {
		if valid == nil || valid[i] {
			h.add(uint64(x))
		}
	}
	return h.estimate()
}
