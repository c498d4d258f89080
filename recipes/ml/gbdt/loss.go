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

// quantize returns v*scale rounded to the nearest integer (ties to even),
// for |v*scale| < 2^31: adding 1.5*2^52 leaves the rounded value in the
// low bits of the sum, which is cheaper than math.Floor.
func quantize(v, scale float64) int32 {
	return int32(uint32(math.Float64bits(v*scale + 0x1.8p52)))
}

// gradients describes one output's quantized gradients (and hessians when
// the loss's hessian is not constant), which computeGradients writes into
// the training rows' records. Histograms sum them as int64, which is exact,
// so sums do not depend on the order rows are added in and sibling
// subtraction loses nothing.
//
// Histograms also count rows, and the count shares a word with the
// gradient sum when the rows are few enough (packShift > 0): a row adds
// g<<packShift + 1, so one addition per bin adds both, and a bin's sum
// unpacks to G = v>>packShift (arithmetic) and count = v & (1<<packShift -
// 1). The gradient then has fewer bits (see packing): 22 at a million
// rows, where rounding it moves no metric. A record's gradient word is
// that packed value with a constant hessian, and otherwise the pair
// uint32(g) | uint64(h)<<32, which the histogram kernel packs as it goes.
type gradients struct {
	packShift uint
	gScale    float64
	hScale    float64
	sums      nodeSums // over all rows
}

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

// pairWord encodes a gradient and hessian pair.
func pairWord(g, h int32) uint64 { return uint64(uint32(g)) | uint64(uint32(h))<<32 }

// gradWord encodes the gradient of a loss with a constant hessian: packed
// with the count when shift > 0, else paired with hessian 1.
func gradWord(q int64, shift uint) uint64 {
	if shift > 0 {
		return uint64(q<<shift + 1)
	}
	return pairWord(int32(q), 1)
}

// wordGrad decodes gradWord.
func wordGrad(w uint64, shift uint) int64 {
	if shift > 0 {
		return int64(w) >> shift
	}
	return int64(int32(w))
}

// computeGradients writes the quantized gradients of output c into
// dst[i*rs] for every row i and returns their scales and sums; see
// gradientRule.
func computeGradients(l lossKind, dst []uint64, rs int, raw, y, prob []float64, c, k int, tm *team) gradients {
	gr, fill := gradientRule(l, dst, rs, raw, y, prob, c, k, tm)
	gr.sums = tm.parallelSums(len(y), func(_, lo, hi int) nodeSums { return fill(lo, hi) })
	gr.sums.c = int64(len(y))
	return gr
}

// gradientRule returns the scales of output c's quantized gradients and
// fill, which writes them for rows lo..hi-1 into dst[i*rs] and returns
// their sums (with a zero count). The gradients come from the raw
// predictions (rows*k) or, for softmax, the probabilities prob (rows*k).
// Squared error needs them only for the first tree; later trees update
// them (see grower.step). grow can call fill on the root's blocks of rows
// just before adding them to the root's histogram, while they are in cache.
func gradientRule(l lossKind, dst []uint64, rs int, raw, y, prob []float64, c, k int, tm *team) (gr gradients, fill func(lo, hi int) nodeSums) {
	n := len(y)
	shift, gbits := packing(n)
	gr.packShift = shift
	switch l {
	case lossSquared, lossAbsolute:
		s := 1.0
		if l == lossSquared {
			maxAbs := tm.parallelMax(n, func(lo, hi int) float64 {
				var m float64
				for i := lo; i < hi; i++ {
					m = max(m, math.Abs(raw[i]-y[i]))
				}
				return m
			})
			// A power of two mapping maxAbs below 2^(gbits-1), leaving a
			// bit for the residuals to grow (see grower.step).
			s = quantScale(maxAbs) / float64(int64(1)<<(31-gbits))
		}
		gr.gScale, gr.hScale = s, 1
		return gr, func(lo, hi int) (sum nodeSums) {
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
				sum.g += int64(q)
				dst[i*rs] = gradWord(int64(q), shift)
			}
			return sum
		}
	case lossLog:
		gs, hs := probScales(gbits)
		gr.gScale, gr.hScale = gs, hs
		return gr, func(lo, hi int) (sum nodeSums) {
			for i := lo; i < hi; i++ {
				p := fastSigmoid(raw[i])
				g, h := quantize(p-y[i], gs), quantize(p*(1-p), hs)
				sum.g += int64(g)
				sum.h += int64(h)
				dst[i*rs] = pairWord(g, h)
			}
			return sum
		}
	default:
		gs, hs := probScales(gbits)
		gr.gScale, gr.hScale = gs, hs
		return gr, func(lo, hi int) (sum nodeSums) {
			for i := lo; i < hi; i++ {
				p := prob[i*k+c]
				t := 0.0
				if int(y[i]) == c {
					t = 1
				}
				g, h := quantize(p-t, gs), quantize(p*(1-p), hs)
				sum.g += int64(g)
				sum.h += int64(h)
				dst[i*rs] = pairWord(g, h)
			}
			return sum
		}
	}
}

// softmaxProbs sets prob to the softmax of each row of raw (rows*k).
func softmaxProbs(prob, raw []float64, k int, tm *team) {
	tm.chunks(len(raw)/k, minChunk, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			softmaxFast(prob[i*k:i*k+k], raw[i*k:i*k+k])
		}
	})
}

// probScales returns the quantization scales of the probability losses'
// gradients p - t, with |g| < 1 kept to gbits bits, and hessians p(1-p) <=
// 1/4, kept to 30 bits (their sums have a word of their own).
func probScales(gbits int) (gs, hs float64) {
	return quantScale(1) / float64(int64(1)<<(30-gbits)), quantScale(0.25)
}
