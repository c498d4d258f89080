package expr

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Strings are dictionary coded. Work that depends only on a string's value
// (comparing with a literal, lower(), parsing a timestamp, ...) is done once
// per dictionary entry and cached for as long as the child keeps returning
// the same dictionary, which for a column is the whole evaluation; rows then
// cost one lookup by code.

// lutCache holds fn applied to every entry of the last dictionary seen.
type lutCache[T any] struct {
	id    dictID
	set   bool
	lut   []T
	valid []bool // nil when fn accepted every entry
}

func (c *lutCache[T]) get(dict []string, fn func(string) (T, bool)) ([]T, []bool) {
	if id := idOf(dict); !c.set || id != c.id {
		c.id, c.set = id, true
		c.lut = make([]T, len(dict))
		c.valid = nil
		for k, s := range dict {
			var ok bool
			c.lut[k], ok = fn(s)
			if !ok && c.valid == nil {
				c.valid = make([]bool, len(dict))
				for j := range k {
					c.valid[j] = true
				}
			}
			if c.valid != nil {
				c.valid[k] = ok
			}
		}
	}
	return c.lut, c.valid
}

// gather sets o[i] = lut[codes[i]].
func gather[T any](o, lut []T, codes []int32) {
	codes = codes[:len(o)]
	for i, k := range codes {
		o[i] = lut[k]
	}
}

// lutValid returns the validity of a gathered value: the input's, narrowed
// by the entries fn rejected.
func lutValid(dst, in, lv []bool, codes []int32) []bool {
	if lv == nil {
		return in
	}
	dst = dst[:len(codes)]
	gather(dst, lv, codes)
	if in != nil {
		andBools(dst, dst, in)
	}
	return dst
}

// dictMap maps every distinct string of s through fn into a value of type
// t (bool, int, float, timestamp or duration); fn's false means null.
func dictMap[T int64 | float64 | bool](t typ, s *node, fn func(string) (T, bool)) *node {
	return mk(t, func(b *builder) evalFn {
		in := s.build(b)
		out := make([]T, b.chunk)
		vbuf := b.bools()
		var cache lutCache[T]
		return func(lo, hi int) vec {
			v := in(lo, hi)
			o := out[:hi-lo]
			lut, lv := cache.get(v.dict, fn)
			gather(o, lut, v.c)
			valid := lutValid(vbuf, v.valid, lv, v.c)
			switch o := any(o).(type) {
			case []float64:
				return vec{f: o, valid: valid}
			case []int64:
				return vec{i: o, valid: valid}
			case []bool:
				return vec{b: o, valid: valid}
			}
			return vec{}
		}
	}, s)
}

// dictMapStr maps every distinct string of s through fn; the codes are
// unchanged, only the dictionary is replaced.
func dictMapStr(s *node, fn func(string) string) *node {
	return mk(tString, func(b *builder) evalFn {
		in := s.build(b)
		var cache lutCache[string]
		f := func(x string) (string, bool) { return fn(x), true }
		return func(lo, hi int) vec {
			v := in(lo, hi)
			dict, _ := cache.get(v.dict, f)
			return vec{c: v.c, dict: dict, valid: v.valid}
		}
	}, s)
}

// strCmpConst compares a string node with a constant, once per dictionary entry.
func strCmpConst(op cmpOp, s *node, c string) *node {
	return dictMap(tBool, s, func(x string) (bool, bool) { return compare(op, x, c), true })
}

// strCmpNode compares two string nodes. When the dictionaries are stable
// (columns, or values derived from them), both are ranked in one sorted
// order, once, so rows compare int32 ranks; dictionaries built per chunk
// that are larger than the chunk are compared row by row instead.
func strCmpNode(op cmpOp, l, r *node) *node {
	return mk(tBool, func(b *builder) evalFn {
		x, y := l.build(b), r.build(b)
		out := b.bools()
		vbuf := b.bools()
		ra, rb := make([]int32, b.chunk), make([]int32, b.chunk)
		var ranked, last [2]dictID
		var lutA, lutB []int32
		return func(lo, hi int) vec {
			u, v := x(lo, hi), y(lo, hi)
			n := hi - lo
			o := out[:n]
			pair := [2]dictID{idOf(u.dict), idOf(v.dict)}
			if lutA == nil || pair != ranked {
				if len(u.dict)+len(v.dict) > 2*n && pair != last {
					last = pair
					for i := range o {
						o[i] = compare(op, u.dict[u.c[i]], v.dict[v.c[i]])
					}
					return vec{b: o, valid: and2(vbuf, u.valid, v.valid)}
				}
				ranked = pair
				lutA, lutB = rank(u.dict, v.dict)
			}
			gather(ra[:n], lutA, u.c)
			gather(rb[:n], lutB, v.c)
			cmpVV(op, o, ra[:n], rb[:n])
			return vec{b: o, valid: and2(vbuf, u.valid, v.valid)}
		}
	}, l, r)
}

// rank returns, for every entry of a and of b, its position among the
// sorted distinct strings of both: equal strings get equal ranks.
func rank(a, b []string) (ra, rb []int32) {
	all := make([]string, 0, len(a)+len(b))
	all = append(append(all, a...), b...)
	slices.Sort(all)
	all = slices.Compact(all)
	pos := make(map[string]int32, len(all))
	for i, s := range all {
		pos[s] = int32(i)
	}
	ra, rb = make([]int32, len(a)), make([]int32, len(b))
	for i, s := range a {
		ra[i] = pos[s]
	}
	for i, s := range b {
		rb[i] = pos[s]
	}
	return ra, rb
}

// strInNode tests membership of a string node in a constant set.
func strInNode(s *node, set []string, not bool) *node {
	m := make(map[string]bool, len(set))
	for _, x := range set {
		m[x] = true
	}
	return dictMap(tBool, s, func(x string) (bool, bool) { return m[x] != not, true })
}

// interner builds the dictionary of a string chunk computed row by row.
// Each chunk gets a fresh dictionary (so identities never repeat), whose
// entry 0 is "" for null rows.
type interner struct {
	dict []string
	idx  map[string]int32
}

func (in *interner) reset() {
	in.dict = append(make([]string, 0, 64), "")
	if in.idx == nil {
		in.idx = make(map[string]int32)
	} else {
		clear(in.idx)
	}
	in.idx[""] = 0
}

func (in *interner) code(s string) int32 {
	if k, ok := in.idx[s]; ok {
		return k
	}
	k := int32(len(in.dict))
	in.dict = append(in.dict, s)
	in.idx[s] = k
	return k
}

func (in *interner) codeBytes(s []byte) int32 {
	if k, ok := in.idx[string(s)]; ok {
		return k
	}
	return in.code(string(s))
}

// concatNode is l + r for two non-constant strings, interning each distinct
// pair of codes once.
func concatNode(l, r *node) *node {
	return mk(tString, func(b *builder) evalFn {
		x, y := l.build(b), r.build(b)
		out := b.codes()
		vbuf := b.bools()
		var in interner
		pairs := make(map[[2]int32]int32)
		return func(lo, hi int) vec {
			u, v := x(lo, hi), y(lo, hi)
			n := hi - lo
			o := out[:n]
			in.reset()
			clear(pairs)
			valid := and2(vbuf, u.valid, v.valid)
			ok := validOr(valid, n)
			for i := range o {
				if !ok[i] {
					o[i] = 0
					continue
				}
				p := [2]int32{u.c[i], v.c[i]}
				k, seen := pairs[p]
				if !seen {
					k = in.code(u.dict[p[0]] + v.dict[p[1]])
					pairs[p] = k
				}
				o[i] = k
			}
			return vec{c: o, dict: in.dict, valid: valid}
		}
	}, l, r)
}

// strPredNode is fn(a, b) for two strings, e.g. contains; a constant side
// turns it into one evaluation per dictionary entry of the other.
func strPredNode(fn func(a, b string) bool, l, r *node) *node {
	switch {
	case r.konst && !l.konst && !r.val.null:
		c := r.val.s
		return dictMap(tBool, l, func(x string) (bool, bool) { return fn(x, c), true })
	case l.konst && !r.konst && !l.val.null:
		c := l.val.s
		return dictMap(tBool, r, func(x string) (bool, bool) { return fn(c, x), true })
	}
	return mk(tBool, func(b *builder) evalFn {
		x, y := l.build(b), r.build(b)
		out := b.bools()
		vbuf := b.bools()
		return func(lo, hi int) vec {
			u, v := x(lo, hi), y(lo, hi)
			o := out[:hi-lo]
			for i := range o {
				o[i] = fn(u.dict[u.c[i]], v.dict[v.c[i]])
			}
			return vec{b: o, valid: and2(vbuf, u.valid, v.valid)}
		}
	}, l, r)
}

// substr returns the runes [start, start+n) of s, counting start from the
// end when negative, like Python's s[start:start+n]; out-of-range parts are
// cut off.
func substr(s string, start, n int64) string {
	if n <= 0 {
		return ""
	}
	if isASCII(s) {
		a, b := span(int64(len(s)), start, n)
		return s[a:b]
	}
	r := []rune(s)
	a, b := span(int64(len(r)), start, n)
	return string(r[a:b])
}

// span clamps [start, start+n) to a sequence of size elements, without
// overflowing.
func span(size, start, n int64) (a, b int64) {
	if start < 0 {
		start = max(size+start, 0)
	}
	if start >= size {
		return size, size
	}
	if n < size-start {
		return start, start + n
	}
	return start, size
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// substrNode is substr(s, start, n) with start or n varying by row.
func substrNode(s, start, n *node) *node {
	return mk(tString, func(b *builder) evalFn {
		fs, fa, fn := s.build(b), start.build(b), n.build(b)
		out := b.codes()
		vbuf := b.bools()
		var in interner
		return func(lo, hi int) vec {
			v, a, c := fs(lo, hi), fa(lo, hi), fn(lo, hi)
			m := hi - lo
			o := out[:m]
			in.reset()
			valid := and2(vbuf, v.valid, and2(vbuf, a.valid, c.valid))
			ok := validOr(valid, m)
			for i := range o {
				o[i] = 0
				if ok[i] {
					o[i] = in.code(substr(v.dict[v.c[i]], a.i[i], c.i[i]))
				}
			}
			return vec{c: o, dict: in.dict, valid: valid}
		}
	}, s, start, n)
}

// toStringNode formats x as a string, the way frame.Column.Str does.
func toStringNode(x *node) *node {
	t := x.typ
	if t == tBool {
		return mk(tString, func(b *builder) evalFn {
			in := x.build(b)
			out := b.codes()
			dict := []string{"false", "true"}
			return func(lo, hi int) vec {
				v := in(lo, hi)
				o := out[:hi-lo]
				for i, y := range v.b[:len(o)] {
					o[i] = 0
					if y {
						o[i] = 1
					}
				}
				return vec{c: o, dict: dict, valid: v.valid}
			}
		}, x)
	}
	return mk(tString, func(b *builder) evalFn {
		fx := x.build(b)
		out := b.codes()
		var in interner
		var buf []byte
		return func(lo, hi int) vec {
			v := fx(lo, hi)
			o := out[:hi-lo]
			in.reset()
			ok := validOr(v.valid, len(o))
			for i := range o {
				if !ok[i] {
					o[i] = 0
					continue
				}
				buf = buf[:0]
				switch t {
				case tFloat:
					buf = fmt.Append(buf, v.f[i])
				case tInt:
					buf = strconv.AppendInt(buf, v.i[i], 10)
				case tTime:
					buf = time.Unix(0, v.i[i]).UTC().AppendFormat(buf, time.RFC3339Nano)
				case tDur:
					buf = append(buf, time.Duration(v.i[i]).String()...)
				}
				o[i] = in.codeBytes(buf)
			}
			return vec{c: o, dict: in.dict, valid: v.valid}
		}
	}, x)
}

// mergeCache concatenates the dictionaries of several string vecs, so that
// if() and coalesce() can pick codes from any of them: a code of the k-th
// vec is offset by offs[k]. It is recomputed only when a dictionary changes.
type mergeCache struct {
	ids  []dictID
	dict []string
	offs []int32
}

func (m *mergeCache) get(vs []vec) ([]string, []int32) {
	same := len(m.ids) == len(vs)
	for k := 0; same && k < len(vs); k++ {
		same = m.ids[k] == idOf(vs[k].dict)
	}
	if same {
		return m.dict, m.offs
	}
	m.ids = m.ids[:0]
	for _, v := range vs {
		m.ids = append(m.ids, idOf(v.dict))
	}
	m.offs = make([]int32, len(vs))
	shared := true
	for _, id := range m.ids {
		shared = shared && id == m.ids[0]
	}
	if shared {
		m.dict = vs[0].dict
		return m.dict, m.offs
	}
	m.dict = nil
	for k, v := range vs {
		m.offs[k] = int32(len(m.dict))
		m.dict = append(m.dict, v.dict...)
	}
	return m.dict, m.offs
}

// strSelectNode is if(cond, a, b) for strings.
func strSelectNode(cond, a, b *node) *node {
	return mk(tString, func(bl *builder) evalFn {
		c, x, y := cond.build(bl), a.build(bl), b.build(bl)
		out := bl.codes()
		vbuf := bl.bools()
		var merge mergeCache
		vs := make([]vec, 2)
		return func(lo, hi int) vec {
			cv := c(lo, hi)
			vs[0], vs[1] = x(lo, hi), y(lo, hi)
			dict, offs := merge.get(vs)
			n := hi - lo
			o := out[:n]
			cok := validOr(cv.valid, n)
			u, v := vs[0], vs[1]
			for i := range o {
				if cv.b[i] && cok[i] {
					o[i] = u.c[i] + offs[0]
				} else {
					o[i] = v.c[i] + offs[1]
				}
			}
			var valid []bool
			if u.valid != nil || v.valid != nil {
				valid = vbuf[:n]
				uv, vv := validOr(u.valid, n), validOr(v.valid, n)
				for i := range valid {
					if cv.b[i] && cok[i] {
						valid[i] = uv[i]
					} else {
						valid[i] = vv[i]
					}
				}
			}
			return vec{c: o, dict: dict, valid: valid}
		}
	}, cond, a, b)
}

// strCoalesceNode is coalesce() for strings.
func strCoalesceNode(xs []*node) *node {
	return mk(tString, func(b *builder) evalFn {
		fns := make([]evalFn, len(xs))
		for i, x := range xs {
			fns[i] = x.build(b)
		}
		out := b.codes()
		vbuf := b.bools()
		var merge mergeCache
		vs := make([]vec, len(xs))
		return func(lo, hi int) vec {
			for k, fn := range fns {
				vs[k] = fn(lo, hi)
			}
			// Always answer with the merged dictionary, even when the first
			// argument decides every row, so that its identity is stable
			// for the caches downstream.
			dict, offs := merge.get(vs)
			if vs[0].valid == nil {
				return vec{c: vs[0].c, dict: dict} // offs[0] is 0
			}
			n := hi - lo
			o := out[:n]
			vd := vbuf[:n]
			for i := range o {
				o[i], vd[i] = 0, false
				for k := range vs {
					if vs[k].valid == nil || vs[k].valid[i] {
						o[i], vd[i] = vs[k].c[i]+offs[k], true
						break
					}
				}
			}
			return vec{c: o, dict: dict, valid: vd}
		}
	}, xs...)
}

// Parsers for strings read as timestamps, durations and numbers.

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

// parseTime reads an RFC 3339 timestamp, with a space allowed for the T,
// the zone optional (UTC) and the time optional (midnight).
func parseTime(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			if t.Year() < 1678 || t.Year() > 2261 {
				return 0, false // outside int64 nanoseconds
			}
			return t.UnixNano(), true
		}
	}
	return 0, false
}

func parseDuration(s string) (int64, bool) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	return int64(d), err == nil
}

func parseInt(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false
	}
	return floatToInt(f, false)
}

func parseFloat(s string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return f, err == nil && !isNaNOrInf(f)
}
