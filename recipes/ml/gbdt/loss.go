package gbdt

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
)

type lossKind uint8

const (
	lossSquared lossKind = iota + 1
	lossAbsolute
	lossLog
	lossSoftmax
)

func parseLoss(s string) (lossKind, error) {
	switch s {
	case LossSquaredError:
		return lossSquared, nil
	case LossAbsoluteError:
		return lossAbsolute, nil
	case LossLogLoss:
		return lossLog, nil
	case LossSoftmax:
		return lossSoftmax, nil
	}
	return 0, fmt.Errorf("gbdt: unknown loss %q (want %s, %s, %s or %s)", s,
		LossSquaredError, LossAbsoluteError, LossLogLoss, LossSoftmax)
}

func (l lossKind) String() string {
	switch l {
	case lossSquared:
		return LossSquaredError
	case lossAbsolute:
		return LossAbsoluteError
	case lossLog:
		return LossLogLoss
	case lossSoftmax:
		return LossSoftmax
	}
	return fmt.Sprintf("loss(%d)", uint8(l))
}

// constHessian reports whether every hessian is 1, so that a histogram's
// hessian sum is its row count.
func (l lossKind) constHessian() bool { return l == lossSquared || l == lossAbsolute }

func (l lossKind) classification() bool { return l == lossLog || l == lossSoftmax }

// baseline returns the initial raw prediction per output.
func baseline(l lossKind, y []float64, k int) []float64 {
	switch l {
	case lossSquared:
		var s float64
		for _, v := range y {
			s += v
		}
		return []float64{s / float64(len(y))}
	case lossAbsolute:
		return []float64{median(slices.Clone(y))}
	case lossLog:
		var s float64
		for _, v := range y {
			s += v
		}
		p := clampProb(s / float64(len(y)))
		return []float64{math.Log(p / (1 - p))}
	default:
		counts := make([]float64, k)
		for _, v := range y {
			counts[int(v)]++
		}
		out := make([]float64, k)
		for c := range out {
			out[c] = math.Log(clampProb(counts[c] / float64(len(y))))
		}
		return out
	}
}

func clampProb(p float64) float64 {
	const eps = 1e-15
	return min(max(p, eps), 1-eps)
}

// median returns the median of v, reordering it.
func median(v []float64) float64 {
	n := len(v)
	if n == 0 {
		return 0
	}
	m := quickselect(v, n/2)
	if n%2 == 1 {
		return m
	}
	// The lower middle is the largest value left of n/2.
	lo := v[0]
	for _, x := range v[1 : n/2] {
		lo = max(lo, x)
	}
	return (lo + m) / 2
}

// quickselect places the k-th smallest value of v at v[k] with smaller
// values left of it, and returns it.
func quickselect(v []float64, k int) float64 {
	lo, hi := 0, len(v)-1
	for lo < hi {
		// Median of three pivot.
		mid := lo + (hi-lo)/2
		if v[mid] < v[lo] {
			v[mid], v[lo] = v[lo], v[mid]
		}
		if v[hi] < v[lo] {
			v[hi], v[lo] = v[lo], v[hi]
		}
		if v[hi] < v[mid] {
			v[hi], v[mid] = v[mid], v[hi]
		}
		pivot := v[mid]
		i, j := lo, hi
		for i <= j {
			for v[i] < pivot {
				i++
			}
			for v[j] > pivot {
				j--
			}
			if i <= j {
				v[i], v[j] = v[j], v[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return v[k]
		}
	}
	return v[k]
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// Constants of fastExp.
const (
	log2e   = 1.4426950408889634
	ln2Hi   = 6.93147180369123816490e-01
	ln2Lo   = 1.90821492927058770002e-10
	shifter = 0x1.8p52 // adding it rounds to an integer
)

// fastExp returns e^x to within 1e-9 relative error without branches on x,
// for the gradients of the logistic losses. It clamps x to [-708, 709].
func fastExp(x float64) float64 {
	if x < -708 {
		x = -708
	}
	if x > 709 {
		x = 709
	}
	k := (x*log2e + shifter) - shifter
	r := x - k*ln2Hi - k*ln2Lo
	// Taylor series to degree 9 on |r| <= ln2/2.
	p := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720+r*(1.0/5040+r*(1.0/40320+r*(1.0/362880)))))))))
	return math.Float64frombits(math.Float64bits(p) + uint64(int64(k))<<52)
}

// fastSigmoid is sigmoid through fastExp, for gradients.
func fastSigmoid(x float64) float64 { return 1 / (1 + fastExp(-x)) }

// softmaxFast writes the softmax of raw into p through fastExp.
func softmaxFast(p, raw []float64) {
	m := raw[0]
	for _, v := range raw[1:] {
		m = max(m, v)
	}
	var s float64
	for i, v := range raw {
		e := fastExp(v - m)
		p[i] = e
		s += e
	}
	inv := 1 / s
	for i := range p {
		p[i] *= inv
	}
}

// softmaxInto writes the softmax of raw into p.
func softmaxInto(p, raw []float64) {
	m := raw[0]
	for _, v := range raw[1:] {
		m = max(m, v)
	}
	var s float64
	for i, v := range raw {
		e := math.Exp(v - m)
		p[i] = e
		s += e
	}
	inv := 1 / s
	for i := range p {
		p[i] *= inv
	}
}

// score returns the mean loss of raw predictions (rows*k) against y; lower
// is better.
func score(l lossKind, raw, y []float64, k int) float64 {
	var s float64
	switch l {
	case lossSquared:
		for i, v := range y {
			d := raw[i] - v
			s += d * d
		}
	case lossAbsolute:
		for i, v := range y {
			s += math.Abs(raw[i] - v)
		}
	case lossLog:
		for i, v := range y {
			r := raw[i]
			// log(1+exp(r)) - y*r, computed stably.
			s += max(r, 0) + math.Log1p(math.Exp(-math.Abs(r))) - v*r
		}
	case lossSoftmax:
		for i, v := range y {
			row := raw[i*k : i*k+k]
			m := row[0]
			for _, r := range row[1:] {
				m = max(m, r)
			}
			var e float64
			for _, r := range row {
				e += math.Exp(r - m)
			}
			s += m + math.Log(e) - row[int(v)]
		}
	}
	return s / float64(len(y))
}

// quantScale returns a power of two that maps [-maxAbs, maxAbs] into
// int32 with 30 bits of magnitude.
func quantScale(maxAbs float64) float64 {
	if !(maxAbs > 0) || math.IsInf(maxAbs, 0) {
		return 1
	}
	_, e := math.Frexp(maxAbs)
	return math.Ldexp(1, 30-e)
}

func quantize(v, scale float64) int32 {
	return int32(math.Floor(v*scale + 0.5))
}

// gradients holds one output's quantized gradients (and hessians when the
// loss's hessian is not constant) for the training rows. Histograms sum
// them as int64, which is exact, so sums do not depend on the order rows
// are added in and sibling subtraction loses nothing.
//
// With a constant hessian the histogram needs only the gradient sum and the
// row count, and both fit in one int64 when the rows are few enough
// (packShift > 0): gp holds g<<packShift + 1 per row, so one addition per
// bin adds both, and a bin's sum unpacks to G = v>>packShift (arithmetic)
// and count = v & (1<<packShift - 1). Otherwise gh holds (g, 1) pairs.
type gradients struct {
	gp        []int64  // packed gradient and count (const hessian, packShift > 0)
	gh        []ghPair // gradient and hessian
	packShift uint
	gScale    float64
	hScale    float64
}

type ghPair struct{ g, h int32 }

// packing returns the shift that packs a gradient sum above a row count of
// n rows, and the bits of magnitude each row's gradient may have so that a
// sum over all rows fits; shift is 0 when that leaves under 16 bits.
func packing(n int) (shift uint, gbits int) {
	cb := bits.Len(uint(n)) // count < 2^cb
	gbits = min(30, 62-2*cb)
	if gbits < minPackedBits {
		return 0, 30
	}
	return uint(cb), gbits
}

// minPackedBits is the least gradient precision packing may leave (a
// variable for tests).
var minPackedBits = 16

// unpack turns packed bin sums (gradient in g) into gradient and count.
func unpack(fh *featHist, shift uint) {
	mask := int64(1)<<shift - 1
	for b := range fh {
		v := fh[b].g
		fh[b].c = v & mask
		fh[b].g = v >> shift
	}
}

// computeGradients fills gr[k] for every output from the raw predictions.
// prob is scratch of len(y)*k for the classification losses.
func computeGradients(l lossKind, gr []gradients, raw, y, prob []float64, k, threads int) {
	n := len(y)
	switch l {
	case lossSquared, lossAbsolute:
		shift, gbits := packing(n)
		s := 1.0
		if l == lossSquared {
			maxAbs := parallelMax(n, threads, func(lo, hi int) float64 {
				var m float64
				for i := lo; i < hi; i++ {
					m = max(m, math.Abs(raw[i]-y[i]))
				}
				return m
			})
			// A power of two mapping maxAbs below 2^gbits.
			s = quantScale(maxAbs) / float64(int64(1)<<(30-gbits))
		}
		gr[0].gScale, gr[0].hScale, gr[0].packShift = s, 1, shift
		gp, gh := gr[0].gp, gr[0].gh
		parallelFor(n, threads, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				d := raw[i] - y[i]
				var q int32
				if l == lossAbsolute {
					if d > 0 {
						q = 1
					} else if d < 0 {
						q = -1
					}
				} else {
					q = quantize(d, s)
				}
				if shift > 0 {
					gp[i] = int64(q)<<shift + 1
				} else {
					gh[i] = ghPair{q, 1}
				}
			}
		})
	case lossLog:
		parallelFor(n, threads, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				prob[i] = fastSigmoid(raw[i])
			}
		})
		quantizeProbs(&gr[0], prob, y, 1, 0, threads)
	case lossSoftmax:
		parallelFor(n, threads, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				softmaxFast(prob[i*k:i*k+k], raw[i*k:i*k+k])
			}
		})
		for c := range k {
			quantizeProbs(&gr[c], prob, y, k, c, threads)
		}
	}
}

// quantizeProbs sets gradient p - t and hessian p(1-p) of output c, where
// the target t is y itself for the binary loss (k == 1) and [y == c] for
// softmax.
func quantizeProbs(gr *gradients, prob, y []float64, k, c, threads int) {
	n := len(y)
	// |g| < 1 and h <= 1/4, so fixed scales lose nothing worth keeping.
	gs, hs := quantScale(1), quantScale(0.25)
	gr.gScale, gr.hScale = gs, hs
	gh := gr.gh
	parallelFor(n, threads, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			p := prob[i*k+c]
			t := y[i]
			if k > 1 {
				t = 0
				if int(y[i]) == c {
					t = 1
				}
			}
			gh[i] = ghPair{quantize(p-t, gs), quantize(p*(1-p), hs)}
		}
	})
}
