package expr

import (
	"encoding/binary"
	"unsafe"

	"github.com/sous-ml/sous/recipes/frame"
)

// typ is a type of the language: the column kinds plus duration and the
// type of the bare null literal.
type typ uint8

const (
	tNull typ = iota // the literal null before it meets a typed operand; always a constant
	tBool
	tInt
	tFloat
	tString
	tTime
	tDur
)

func (t typ) String() string {
	switch t {
	case tNull:
		return "null"
	case tBool:
		return "bool"
	case tInt:
		return "int"
	case tFloat:
		return "float"
	case tString:
		return "string"
	case tTime:
		return "timestamp"
	case tDur:
		return "duration"
	}
	return "?"
}

func (t typ) numeric() bool { return t == tInt || t == tFloat }

func typOf(k frame.Kind) (typ, bool) {
	switch k {
	case frame.Float:
		return tFloat, true
	case frame.Int:
		return tInt, true
	case frame.Bool:
		return tBool, true
	case frame.String:
		return tString, true
	case frame.Time:
		return tTime, true
	}
	return tNull, false
}

func (t typ) kind() frame.Kind {
	switch t {
	case tFloat:
		return frame.Float
	case tInt:
		return frame.Int
	case tBool:
		return frame.Bool
	case tString:
		return frame.String
	case tTime:
		return frame.Time
	}
	return 0
}

// scalar is one constant value.
type scalar struct {
	null bool
	f    float64
	i    int64 // int, timestamp (ns since epoch) and duration (ns)
	b    bool
	s    string
}

// vec is one chunk of values of a single type, laid out like a frame.Column:
// f for float, i for int, timestamp and duration, b for bool, c indexing
// dict for string. valid is nil when the chunk has no nulls. A string vec's
// dict is never empty, so every code indexes it, null rows included.
//
// Slices a node returns may alias a column or another node's buffer: a
// node never writes into the vecs its children return.
type vec struct {
	f     []float64
	i     []int64
	b     []bool
	c     []int32
	dict  []string
	valid []bool
}

// head returns the first n rows of v.
func (v vec) head(n int) vec {
	out := vec{dict: v.dict}
	if v.f != nil {
		out.f = v.f[:n]
	}
	if v.i != nil {
		out.i = v.i[:n]
	}
	if v.b != nil {
		out.b = v.b[:n]
	}
	if v.c != nil {
		out.c = v.c[:n]
	}
	if v.valid != nil {
		out.valid = v.valid[:n]
	}
	return out
}

// evalFn evaluates a node on rows [lo, hi) and returns hi-lo values.
type evalFn func(lo, hi int) vec

// chunkSize is the number of rows evaluated at a time: small enough that the
// intermediate vectors of a program stay in cache, large enough to amortise
// the calls between nodes.
const chunkSize = 1024

// ones is a read-only chunk of true, standing in for a nil validity.
var ones = func() []bool {
	b := make([]bool, chunkSize)
	for i := range b {
		b[i] = true
	}
	return b
}()

// validOr returns v, or all-true when v is nil.
func validOr(v []bool, n int) []bool {
	if v == nil {
		return ones[:n]
	}
	return v
}

// and2 returns the validity of a value computed from two values with
// validities a and b, writing into dst only when both are non-nil.
func and2(dst, a, b []bool) []bool {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	dst = dst[:len(a)]
	b = b[:len(dst)]
	andBools(dst, a, b)
	return dst
}

// asBytes views a []bool as bytes; Go stores bools as 0 or 1.
func asBytes(b []bool) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(b))), len(b))
}

// The bool kernels work on eight rows at a time: as bools are bytes holding
// 0 or 1, the bitwise operators on a 64-bit word are the logical operators on
// eight rows, and ^ with lsb flips them.
const lsb = 0x0101010101010101

func word(b []byte, i int) uint64       { return binary.LittleEndian.Uint64(b[i:]) }
func putWord(b []byte, i int, w uint64) { binary.LittleEndian.PutUint64(b[i:], w) }

// andBools sets dst[i] = a[i] && b[i].
func andBools(dst, a, b []bool) {
	d, x, y := asBytes(dst), asBytes(a), asBytes(b)
	x, y = x[:len(d)], y[:len(d)]
	i := 0
	for ; i+8 <= len(d); i += 8 {
		putWord(d, i, word(x, i)&word(y, i))
	}
	for ; i < len(d); i++ {
		d[i] = x[i] & y[i]
	}
}

// orBools sets dst[i] = a[i] || b[i].
func orBools(dst, a, b []bool) {
	d, x, y := asBytes(dst), asBytes(a), asBytes(b)
	x, y = x[:len(d)], y[:len(d)]
	i := 0
	for ; i+8 <= len(d); i += 8 {
		putWord(d, i, word(x, i)|word(y, i))
	}
	for ; i < len(d); i++ {
		d[i] = x[i] | y[i]
	}
}

// notBools sets dst[i] = !a[i].
func notBools(dst, a []bool) {
	d, x := asBytes(dst), asBytes(a)
	x = x[:len(d)]
	i := 0
	for ; i+8 <= len(d); i += 8 {
		putWord(d, i, word(x, i)^lsb)
	}
	for ; i < len(d); i++ {
		d[i] = x[i] ^ 1
	}
}

// logic3 is && (and) or || with SQL's three-valued logic over values p, q
// with validities vp, vq, writing values to o and validity to vo. A null
// row's value is false.
func logic3(and bool, o, vo, p, vp, q, vq []bool) {
	ob, vob := asBytes(o), asBytes(vo)
	pb, vpb, qb, vqb := asBytes(p), asBytes(vp), asBytes(q), asBytes(vq)
	n := len(ob)
	vob, pb, vpb, qb, vqb = vob[:n], pb[:n], vpb[:n], qb[:n], vqb[:n]
	i := 0
	if and {
		for ; i+8 <= n; i += 8 {
			a, va, b, vb := word(pb, i), word(vpb, i), word(qb, i), word(vqb, i)
			x, y := a&va, b&vb // known true
			// Known: both sides known, or either side known false.
			putWord(ob, i, x&y)
			putWord(vob, i, va&vb|va&^a|vb&^b)
		}
	} else {
		for ; i+8 <= n; i += 8 {
			a, va, b, vb := word(pb, i), word(vpb, i), word(qb, i), word(vqb, i)
			x, y := a&va, b&vb
			// Known: both sides known, or either side known true.
			putWord(ob, i, x|y)
			putWord(vob, i, va&vb|x|y)
		}
	}
	for ; i < n; i++ {
		a, va, b, vb := pb[i], vpb[i], qb[i], vqb[i]
		x, y := a&va, b&vb
		if and {
			ob[i] = x & y
			vob[i] = va&vb | va&^a&1 | vb&^b&1
		} else {
			ob[i] = x | y
			vob[i] = va&vb | x | y
		}
	}
}

func allTrue(v []bool) bool {
	for _, ok := range v {
		if !ok {
			return false
		}
	}
	return true
}

// dictID identifies a dictionary slice by its array and length, so that
// per-dictionary work is redone only when a child returns another dictionary.
type dictID struct {
	p *string
	n int
}

func idOf(d []string) dictID { return dictID{unsafe.SliceData(d), len(d)} }

// emptyDict stands in for the dictionary of an all-null string column.
var emptyDict = []string{""}

// builder carries what building a program for one frame needs. Nodes report
// schema mismatches through fail; Eval checks err before evaluating.
type builder struct {
	f     *frame.Frame
	n     int
	chunk int
	err   error
}

func (b *builder) fail(err error) {
	if b.err == nil {
		b.err = err
	}
}

func (b *builder) floats() []float64 { return make([]float64, b.chunk) }
func (b *builder) ints() []int64     { return make([]int64, b.chunk) }
func (b *builder) bools() []bool     { return make([]bool, b.chunk) }
func (b *builder) codes() []int32    { return make([]int32, b.chunk) }

// scalarAt returns row i of v as a scalar of type t.
func scalarAt(v vec, t typ, i int) scalar {
	if v.valid != nil && !v.valid[i] {
		return scalar{null: true}
	}
	switch t {
	case tFloat:
		return scalar{f: v.f[i]}
	case tInt, tTime, tDur:
		return scalar{i: v.i[i]}
	case tBool:
		return scalar{b: v.b[i]}
	case tString:
		return scalar{s: v.dict[v.c[i]]}
	}
	return scalar{null: true}
}

// broadcast returns a chunk holding s in every row.
func broadcast(s scalar, t typ, n int) vec {
	var v vec
	if s.null {
		v.valid = make([]bool, n)
	}
	switch t {
	case tFloat:
		v.f = make([]float64, n)
		if !s.null {
			for i := range v.f {
				v.f[i] = s.f
			}
		}
	case tInt, tTime, tDur:
		v.i = make([]int64, n)
		if !s.null {
			for i := range v.i {
				v.i[i] = s.i
			}
		}
	case tBool:
		v.b = make([]bool, n)
		if s.b && !s.null {
			for i := range v.b {
				v.b[i] = true
			}
		}
	case tString:
		v.c = make([]int32, n)
		v.dict = []string{s.s}
	}
	return v
}
