package expr

import (
	"cmp"
	"math"
)

type numeric interface{ int64 | float64 }

// lane returns the value slice of v for the element type T.
func lane[T numeric](v vec) []T {
	var z T
	switch any(z).(type) {
	case float64:
		return any(v.f).([]T)
	default:
		return any(v.i).([]T)
	}
}

// wrap returns a vec holding xs.
func wrap[T numeric](xs []T, valid []bool) vec {
	switch xs := any(xs).(type) {
	case []float64:
		return vec{f: xs, valid: valid}
	case []int64:
		return vec{i: xs, valid: valid}
	}
	return vec{}
}

func scalarOf[T numeric](s scalar) T {
	var z T
	switch any(z).(type) {
	case float64:
		return any(s.f).(T)
	default:
		return any(s.i).(T)
	}
}

func isZero(n *node) bool {
	if !n.konst || n.val.null {
		return false
	}
	switch n.typ {
	case tFloat:
		return n.val.f == 0
	case tInt, tDur:
		return n.val.i == 0
	}
	return false
}

// toFloat converts an int, bool or duration (ns) node to float.
func toFloat(n *node) *node {
	switch n.typ {
	case tFloat:
		return n
	case tNull:
		return nullOf(tFloat)
	}
	from := n.typ
	return mk(tFloat, func(b *builder) evalFn {
		x := n.build(b)
		out := b.floats()
		return func(lo, hi int) vec {
			v := x(lo, hi)
			o := out[:hi-lo]
			if from == tBool {
				bs := v.b[:len(o)]
				for i := range o {
					o[i] = 0
					if bs[i] {
						o[i] = 1
					}
				}
			} else {
				is := v.i[:len(o)]
				for i := range o {
					o[i] = float64(is[i])
				}
			}
			return vec{f: o, valid: v.valid}
		}
	}, n)
}

// fromFloat converts a float node to int (truncating) or duration (rounding
// to the nanosecond); NaN and out-of-range values become null.
func fromFloat(n *node, t typ) *node {
	round := t == tDur
	return mk(t, func(b *builder) evalFn {
		x := n.build(b)
		out := b.ints()
		vbuf := b.bools()
		return func(lo, hi int) vec {
			v := x(lo, hi)
			o := out[:hi-lo]
			fs := v.f[:len(o)]
			bad := false
			for i, f := range fs {
				var ok bool
				o[i], ok = floatToInt(f, round)
				bad = bad || !ok
			}
			if !bad {
				return vec{i: o, valid: v.valid}
			}
			vd := vbuf[:len(o)]
			in := validOr(v.valid, len(o))
			for i, f := range fs {
				_, ok := floatToInt(f, round)
				vd[i] = in[i] && ok
			}
			return vec{i: o, valid: vd}
		}
	}, n)
}

// floatToInt truncates (or rounds) f to an int64, reporting false for NaN
// and values out of range.
func floatToInt(f float64, round bool) (int64, bool) {
	if round {
		f = math.Round(f)
	} else {
		f = math.Trunc(f)
	}
	if f >= -(1<<63) && f < 1<<63 {
		return int64(f), true
	}
	return 0, false
}

// arithNode applies + - * / % to two operands of element type T. Division
// and remainder by zero give null.
func arithNode[T numeric](op byte, t typ, l, r *node) *node {
	return mk(t, func(b *builder) evalFn {
		out := make([]T, b.chunk)
		vbuf := b.bools()
		divides := op == '/' || op == '%'
		switch {
		case r.konst && !l.konst && !r.val.null:
			// The checker folds division by a constant zero to null.
			c := scalarOf[T](r.val)
			x := l.build(b)
			return func(lo, hi int) vec {
				v := x(lo, hi)
				o := out[:hi-lo]
				arithVS(op, o, lane[T](v), c)
				return wrap(o, v.valid)
			}
		case l.konst && !r.konst && !l.val.null:
			c := scalarOf[T](l.val)
			y := r.build(b)
			return func(lo, hi int) vec {
				v := y(lo, hi)
				o := out[:hi-lo]
				ys := lane[T](v)
				arithSV(op, o, c, ys)
				if divides {
					return wrap(o, zeroNulls(vbuf, v.valid, nil, ys))
				}
				return wrap(o, v.valid)
			}
		}
		x, y := l.build(b), r.build(b)
		return func(lo, hi int) vec {
			u, v := x(lo, hi), y(lo, hi)
			o := out[:hi-lo]
			ys := lane[T](v)
			arithVV(op, o, lane[T](u), ys)
			if divides {
				return wrap(o, zeroNulls(vbuf, u.valid, v.valid, ys))
			}
			return wrap(o, and2(vbuf, u.valid, v.valid))
		}
	}, l, r)
}

// zeroNulls returns the validity of a quotient: valid where both operands
// are and the divisor is not zero.
func zeroNulls[T numeric](dst, va, vb []bool, div []T) []bool {
	anyZero := false
	for _, d := range div {
		if d == 0 {
			anyZero = true
			break
		}
	}
	if !anyZero {
		return and2(dst, va, vb)
	}
	dst = dst[:len(div)]
	a, b := validOr(va, len(dst)), validOr(vb, len(dst))
	for i, d := range div {
		dst[i] = a[i] && b[i] && d != 0
	}
	return dst
}

func arithVV[T numeric](op byte, o, a, b []T) {
	a, b = a[:len(o)], b[:len(o)]
	switch op {
	case '+':
		for i := range o {
			o[i] = a[i] + b[i]
		}
	case '-':
		for i := range o {
			o[i] = a[i] - b[i]
		}
	case '*':
		for i := range o {
			o[i] = a[i] * b[i]
		}
	case '/':
		for i := range o {
			if b[i] != 0 {
				o[i] = a[i] / b[i]
			} else {
				o[i] = 0
			}
		}
	case '%':
		for i := range o {
			o[i] = mod(a[i], b[i])
		}
	}
}

func arithVS[T numeric](op byte, o, a []T, c T) {
	a = a[:len(o)]
	switch op {
	case '+':
		for i := range o {
			o[i] = a[i] + c
		}
	case '-':
		for i := range o {
			o[i] = a[i] - c
		}
	case '*':
		for i := range o {
			o[i] = a[i] * c
		}
	case '/':
		for i := range o {
			o[i] = a[i] / c
		}
	case '%':
		for i := range o {
			o[i] = mod(a[i], c)
		}
	}
}

func arithSV[T numeric](op byte, o []T, c T, b []T) {
	b = b[:len(o)]
	switch op {
	case '+':
		for i := range o {
			o[i] = c + b[i]
		}
	case '-':
		for i := range o {
			o[i] = c - b[i]
		}
	case '*':
		for i := range o {
			o[i] = c * b[i]
		}
	case '/':
		for i := range o {
			if b[i] != 0 {
				o[i] = c / b[i]
			} else {
				o[i] = 0
			}
		}
	case '%':
		for i := range o {
			o[i] = mod(c, b[i])
		}
	}
}

// mod is the remainder truncated towards zero (the sign of the dividend, as
// in Go, C and SQL); 0 for a zero divisor, which the caller makes null.
func mod[T numeric](a, b T) T {
	if b == 0 {
		return 0
	}
	switch x := any(a).(type) {
	case float64:
		return any(math.Mod(x, any(b).(float64))).(T)
	case int64:
		return any(x % any(b).(int64)).(T)
	}
	return 0
}

// Comparison operators, as small codes for the kernels.
type cmpOp uint8

const (
	opEq cmpOp = iota
	opNe
	opLt
	opLe
	opGt
	opGe
)

var cmpOps = map[string]cmpOp{"==": opEq, "!=": opNe, "<": opLt, "<=": opLe, ">": opGt, ">=": opGe}

// flip returns the operator with its operands swapped: a < b is b > a.
func (op cmpOp) flip() cmpOp {
	switch op {
	case opLt:
		return opGt
	case opLe:
		return opGe
	case opGt:
		return opLt
	case opGe:
		return opLe
	}
	return op
}

func compare[T cmp.Ordered](op cmpOp, a, b T) bool {
	switch op {
	case opEq:
		return a == b
	case opNe:
		return a != b
	case opLt:
		return a < b
	case opLe:
		return a <= b
	case opGt:
		return a > b
	}
	return a >= b
}

func cmpVS[T cmp.Ordered](op cmpOp, o []bool, a []T, c T) {
	a = a[:len(o)]
	switch op {
	case opEq:
		for i := range o {
			o[i] = a[i] == c
		}
	case opNe:
		for i := range o {
			o[i] = a[i] != c
		}
	case opLt:
		for i := range o {
			o[i] = a[i] < c
		}
	case opLe:
		for i := range o {
			o[i] = a[i] <= c
		}
	case opGt:
		for i := range o {
			o[i] = a[i] > c
		}
	case opGe:
		for i := range o {
			o[i] = a[i] >= c
		}
	}
}

func cmpVV[T cmp.Ordered](op cmpOp, o []bool, a, b []T) {
	a, b = a[:len(o)], b[:len(o)]
	switch op {
	case opEq:
		for i := range o {
			o[i] = a[i] == b[i]
		}
	case opNe:
		for i := range o {
			o[i] = a[i] != b[i]
		}
	case opLt:
		for i := range o {
			o[i] = a[i] < b[i]
		}
	case opLe:
		for i := range o {
			o[i] = a[i] <= b[i]
		}
	case opGt:
		for i := range o {
			o[i] = a[i] > b[i]
		}
	case opGe:
		for i := range o {
			o[i] = a[i] >= b[i]
		}
	}
}

// cmpNode compares two operands of element type T.
func cmpNode[T numeric](op cmpOp, l, r *node) *node {
	return mk(tBool, func(b *builder) evalFn {
		out := b.bools()
		vbuf := b.bools()
		switch {
		case r.konst && !l.konst && !r.val.null:
			c := scalarOf[T](r.val)
			x := l.build(b)
			return func(lo, hi int) vec {
				v := x(lo, hi)
				o := out[:hi-lo]
				cmpVS(op, o, lane[T](v), c)
				return vec{b: o, valid: v.valid}
			}
		case l.konst && !r.konst && !l.val.null:
			c := scalarOf[T](l.val)
			y := r.build(b)
			fop := op.flip()
			return func(lo, hi int) vec {
				v := y(lo, hi)
				o := out[:hi-lo]
				cmpVS(fop, o, lane[T](v), c)
				return vec{b: o, valid: v.valid}
			}
		}
		x, y := l.build(b), r.build(b)
		return func(lo, hi int) vec {
			u, v := x(lo, hi), y(lo, hi)
			o := out[:hi-lo]
			cmpVV(op, o, lane[T](u), lane[T](v))
			return vec{b: o, valid: and2(vbuf, u.valid, v.valid)}
		}
	}, l, r)
}

// boolEqNode compares two bools with == or !=.
func boolEqNode(op cmpOp, l, r *node) *node {
	return mk(tBool, func(b *builder) evalFn {
		out := b.bools()
		vbuf := b.bools()
		x, y := l.build(b), r.build(b)
		return func(lo, hi int) vec {
			u, v := x(lo, hi), y(lo, hi)
			o := asBytes(out[:hi-lo])
			p, q := asBytes(u.b)[:len(o)], asBytes(v.b)[:len(o)]
			eq := byte(0)
			if op == opEq {
				eq = 1
			}
			for i := range o {
				o[i] = p[i] ^ q[i] ^ eq
			}
			return vec{b: out[:hi-lo], valid: and2(vbuf, u.valid, v.valid)}
		}
	}, l, r)
}

// logicNode is && or || with SQL's three-valued logic: false && null is
// false, true || null is true, and otherwise null wins.
func logicNode(and bool, l, r *node) *node {
	return mk(tBool, func(b *builder) evalFn {
		out := b.bools()
		vbuf := b.bools()
		x, y := l.build(b), r.build(b)
		return func(lo, hi int) vec {
			u, v := x(lo, hi), y(lo, hi)
			n := hi - lo
			o := out[:n]
			if u.valid == nil && v.valid == nil {
				if and {
					andBools(o, u.b, v.b)
				} else {
					orBools(o, u.b, v.b)
				}
				return vec{b: o}
			}
			vd := vbuf[:n]
			logic3(and, o, vd, u.b, validOr(u.valid, n), v.b, validOr(v.valid, n))
			return vec{b: o, valid: vd}
		}
	}, l, r)
}

func notNode(x *node) *node {
	return mk(tBool, func(b *builder) evalFn {
		out := b.bools()
		fn := x.build(b)
		return func(lo, hi int) vec {
			v := fn(lo, hi)
			o := out[:hi-lo]
			notBools(o, v.b)
			return vec{b: o, valid: v.valid}
		}
	}, x)
}

// isNullNode is true where x is null; never null itself.
func isNullNode(x *node) *node {
	return mk(tBool, func(b *builder) evalFn {
		out := b.bools()
		fn := x.build(b)
		return func(lo, hi int) vec {
			v := fn(lo, hi)
			o := out[:hi-lo]
			if v.valid == nil {
				clear(o)
			} else {
				notBools(o, v.valid)
			}
			return vec{b: o}
		}
	}, x)
}

// inNode tests membership of x in a constant set.
func inNode[T int64 | float64 | bool](x *node, set []T, not bool) *node {
	var m map[T]bool
	if len(set) > 8 {
		m = make(map[T]bool, len(set))
		for _, s := range set {
			m[s] = true
		}
	}
	return mk(tBool, func(b *builder) evalFn {
		out := b.bools()
		fn := x.build(b)
		return func(lo, hi int) vec {
			v := fn(lo, hi)
			o := out[:hi-lo]
			var xs []T
			switch any(set).(type) {
			case []float64:
				xs = any(v.f).([]T)
			case []int64:
				xs = any(v.i).([]T)
			case []bool:
				xs = any(v.b).([]T)
			}
			xs = xs[:len(o)]
			if m != nil {
				for i, a := range xs {
					o[i] = m[a] != not
				}
			} else {
				for i, a := range xs {
					hit := false
					for _, s := range set {
						hit = hit || a == s
					}
					o[i] = hit != not
				}
			}
			return vec{b: o, valid: v.valid}
		}
	}, x)
}

// selectNode is if(cond, a, b) for non-string a and b of type t: a where
// cond is true, b where it is false or null.
func selectNode(t typ, cond, a, b *node) *node {
	return mk(t, func(bl *builder) evalFn {
		c, x, y := cond.build(bl), a.build(bl), b.build(bl)
		out := broadcast(scalar{}, t, bl.chunk)
		vbuf := bl.bools()
		mask := bl.bools()
		return func(lo, hi int) vec {
			cv, u, v := c(lo, hi), x(lo, hi), y(lo, hi)
			n := hi - lo
			m := mask[:n]
			if cv.valid == nil {
				copy(m, cv.b)
			} else {
				andBools(m, cv.b, cv.valid)
			}
			o := out.head(n)
			switch t {
			case tFloat:
				pick(o.f, u.f, v.f, m)
			case tInt, tTime, tDur:
				pick(o.i, u.i, v.i, m)
			case tBool:
				pick(o.b, u.b, v.b, m)
			}
			o.valid = nil
			if u.valid != nil || v.valid != nil {
				o.valid = vbuf[:n]
				pick(o.valid, validOr(u.valid, n), validOr(v.valid, n), m)
			}
			return o
		}
	}, cond, a, b)
}

func pick[T any](o, a, b []T, m []bool) {
	a, b, m = a[:len(o)], b[:len(o)], m[:len(o)]
	for i := range o {
		if m[i] {
			o[i] = a[i]
		} else {
			o[i] = b[i]
		}
	}
}

// coalesceNode is the first non-null of xs, all of non-string type t.
func coalesceNode(t typ, xs []*node) *node {
	return mk(t, func(b *builder) evalFn {
		fns := make([]evalFn, len(xs))
		for i, x := range xs {
			fns[i] = x.build(b)
		}
		out := broadcast(scalar{}, t, b.chunk)
		vbuf := b.bools()
		return func(lo, hi int) vec {
			n := hi - lo
			o := out.head(n)
			vd := vbuf[:n]
			for k, fn := range fns {
				v := fn(lo, hi)
				if k == 0 {
					if v.valid == nil {
						return v
					}
					copyVals(t, o, v)
					copy(vd, v.valid)
					continue
				}
				vv := validOr(v.valid, n)
				for i := range vd {
					if !vd[i] && vv[i] {
						vd[i] = true
						switch t {
						case tFloat:
							o.f[i] = v.f[i]
						case tInt, tTime, tDur:
							o.i[i] = v.i[i]
						case tBool:
							o.b[i] = v.b[i]
						}
					}
				}
			}
			o.valid = vd
			return o
		}
	}, xs...)
}

func copyVals(t typ, dst, src vec) {
	switch t {
	case tFloat:
		copy(dst.f, src.f)
	case tInt, tTime, tDur:
		copy(dst.i, src.i)
	case tBool:
		copy(dst.b, src.b)
	}
}

// extremeNode is min (less) or max of xs of element type T, ignoring nulls:
// null only where every argument is null.
func extremeNode[T numeric](t typ, max bool, xs []*node) *node {
	return mk(t, func(b *builder) evalFn {
		fns := make([]evalFn, len(xs))
		for i, x := range xs {
			fns[i] = x.build(b)
		}
		out := make([]T, b.chunk)
		vbuf := b.bools()
		return func(lo, hi int) vec {
			n := hi - lo
			o := out[:n]
			var vd []bool // nil while every row so far is valid
			for k, fn := range fns {
				v := fn(lo, hi)
				xs := lane[T](v)[:n]
				if k == 0 {
					copy(o, xs)
					if v.valid != nil {
						vd = vbuf[:n]
						copy(vd, v.valid)
					}
					continue
				}
				if vd == nil && v.valid == nil {
					if max {
						for i := range o {
							o[i] = greater(o[i], xs[i])
						}
					} else {
						for i := range o {
							o[i] = lesser(o[i], xs[i])
						}
					}
					continue
				}
				have, vv := validOr(vd, n), validOr(v.valid, n)
				for i := range o {
					switch {
					case !vv[i]:
					case !have[i]:
						o[i] = xs[i]
					case max:
						o[i] = greater(o[i], xs[i])
					default:
						o[i] = lesser(o[i], xs[i])
					}
				}
				if vd != nil {
					orBools(vd, vd, vv)
				}
			}
			return wrap(o, vd)
		}
	}, xs...)
}

// greater and lesser propagate NaN, like math.Max and math.Min.
func greater[T numeric](a, b T) T {
	if a != a || b > a {
		return b
	}
	return a
}

func lesser[T numeric](a, b T) T {
	if a != a || b < a {
		return b
	}
	return a
}

// clipNode bounds x to [lo, hi]; a null bound is no bound.
func clipNode[T numeric](t typ, x, lo, hi *node) *node {
	return mk(t, func(b *builder) evalFn {
		fx, fl, fh := x.build(b), lo.build(b), hi.build(b)
		out := make([]T, b.chunk)
		return func(l, h int) vec {
			v, a, c := fx(l, h), fl(l, h), fh(l, h)
			n := h - l
			o := out[:n]
			xs, ls, hs := lane[T](v)[:n], lane[T](a)[:n], lane[T](c)[:n]
			va, vc := validOr(a.valid, n), validOr(c.valid, n)
			for i := range o {
				y := xs[i]
				if va[i] && y < ls[i] {
					y = ls[i]
				}
				if vc[i] && y > hs[i] {
					y = hs[i]
				}
				o[i] = y
			}
			return wrap(o, v.valid)
		}
	}, x, lo, hi)
}

// mapFloat applies fn to every row of a float node; NaN and infinite
// results become null.
func mapFloat(x *node, fn func(float64) float64) *node {
	return mk(tFloat, func(b *builder) evalFn {
		in := x.build(b)
		out := b.floats()
		vbuf := b.bools()
		return func(lo, hi int) vec {
			v := in(lo, hi)
			o := out[:hi-lo]
			xs := v.f[:len(o)]
			for i, a := range xs {
				o[i] = fn(a)
			}
			return vec{f: o, valid: finite(vbuf, v.valid, o)}
		}
	}, x)
}

// map2Float applies fn to the rows of two float nodes; NaN and infinite
// results become null.
func map2Float(x, y *node, fn func(a, b float64) float64) *node {
	return mk(tFloat, func(b *builder) evalFn {
		fx, fy := x.build(b), y.build(b)
		out := b.floats()
		vbuf := b.bools()
		return func(lo, hi int) vec {
			u, v := fx(lo, hi), fy(lo, hi)
			o := out[:hi-lo]
			xs, ys := u.f[:len(o)], v.f[:len(o)]
			for i := range o {
				o[i] = fn(xs[i], ys[i])
			}
			return vec{f: o, valid: finite(vbuf, and2(vbuf, u.valid, v.valid), o)}
		}
	}, x, y)
}

// finite returns valid narrowed to the rows where xs is finite, writing into
// dst only when some row is not; valid may be dst itself.
func finite(dst, valid []bool, xs []float64) []bool {
	ok := true
	for _, f := range xs {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			ok = false
			break
		}
	}
	if ok {
		return valid
	}
	dst = dst[:len(xs)]
	in := validOr(valid, len(xs))
	for i, f := range xs {
		dst[i] = in[i] && !math.IsNaN(f) && !math.IsInf(f, 0)
	}
	return dst
}

// absNode is |x| for int, float and duration.
func absNode(x *node) *node {
	if x.typ == tFloat {
		return mapFloat(x, math.Abs)
	}
	return mk(x.typ, func(b *builder) evalFn {
		in := x.build(b)
		out := b.ints()
		return func(lo, hi int) vec {
			v := in(lo, hi)
			o := out[:hi-lo]
			for i, a := range v.i[:len(o)] {
				if a < 0 {
					a = -a
				}
				o[i] = a
			}
			return vec{i: o, valid: v.valid}
		}
	}, x)
}

// mapInt applies a kernel over int64 rows, e.g. a datetime part.
func mapInt(t typ, x *node, kernel func(o, a []int64)) *node {
	return mk(t, func(b *builder) evalFn {
		in := x.build(b)
		out := b.ints()
		return func(lo, hi int) vec {
			v := in(lo, hi)
			o := out[:hi-lo]
			kernel(o, v.i[:len(o)])
			return vec{i: o, valid: v.valid}
		}
	}, x)
}

// roundNode rounds x half to even (like numpy) at digits decimal places.
func roundNode(x, digits *node) *node {
	return mk(tFloat, func(b *builder) evalFn {
		fx, fd := x.build(b), digits.build(b)
		out := b.floats()
		vbuf := b.bools()
		return func(lo, hi int) vec {
			u, v := fx(lo, hi), fd(lo, hi)
			o := out[:hi-lo]
			xs, ds := u.f[:len(o)], v.i[:len(o)]
			for i := range o {
				o[i] = roundDigits(xs[i], ds[i])
			}
			return vec{f: o, valid: finite(vbuf, and2(vbuf, u.valid, v.valid), o)}
		}
	}, x, digits)
}

func roundDigits(x float64, digits int64) float64 {
	if digits == 0 {
		return math.RoundToEven(x)
	}
	if digits > 15 || digits < -308 {
		if digits > 0 {
			return x
		}
		return 0 * x
	}
	p := math.Pow(10, float64(digits))
	y := x * p
	if math.IsInf(y, 0) {
		return x
	}
	return math.RoundToEven(y) / p
}
