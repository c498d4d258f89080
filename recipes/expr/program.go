package expr

import (
	"fmt"
	"sort"

	"github.com/sous-ml/sous/recipes/frame"
)

// Program is a compiled expression. It is immutable and safe for concurrent
// use: every Eval or Filter call builds its own buffers.
type Program struct {
	src  string
	root *node
	typ  typ
	cols []string
}

// Compile parses src and type-checks it against schema, the columns
// available and their kinds. The error is an *Error pointing at the
// offending part of src.
func Compile(src string, schema map[string]frame.Kind) (*Program, error) {
	e, err := parse(src)
	if err != nil {
		return nil, err
	}
	c := &checker{src: src, schema: schema, cols: make(map[string]typ)}
	n, err := c.expr(e)
	if err != nil {
		return nil, err
	}
	switch n.typ {
	case tDur:
		return nil, c.errf(e.start(), "the expression yields a duration, which no column can hold: wrap the duration in seconds(), minutes(), hours() or days()")
	case tNull:
		return nil, c.errf(e.start(), "the expression is always null and has no type: give it one, e.g. float(null)")
	}
	cols := make([]string, 0, len(c.cols))
	for name := range c.cols {
		cols = append(cols, name)
	}
	sort.Strings(cols)
	return &Program{src: src, root: n, typ: n.typ, cols: cols}, nil
}

// String returns the source the program was compiled from.
func (p *Program) String() string { return p.src }

// Type returns the kind of the column Eval returns.
func (p *Program) Type() frame.Kind { return p.typ.kind() }

// Columns returns the sorted names of the columns the program reads.
func (p *Program) Columns() []string { return append([]string(nil), p.cols...) }

// build prepares an evaluation over f and checks f against the columns the
// program reads.
func (p *Program) build(f *frame.Frame) (evalFn, int, error) {
	if f == nil {
		f = &frame.Frame{}
	}
	n := f.Len()
	b := &builder{f: f, n: n, chunk: min(n, chunkSize)}
	fn := p.root.build(b)
	if b.err != nil {
		return nil, 0, b.err
	}
	return fn, n, nil
}

// Eval evaluates the program over every row of f, a chunk of rows at a
// time, and returns an unnamed column of kind Type() and f.Len() rows. It
// fails, wrapping ErrSchema, when f lacks a column the program reads or
// holds it with another kind than at Compile.
func (p *Program) Eval(f *frame.Frame) (*frame.Column, error) {
	fn, n, err := p.build(f)
	if err != nil {
		return nil, err
	}
	out := newCollector(p.typ, n)
	for lo := 0; lo < n; lo += chunkSize {
		hi := min(lo+chunkSize, n)
		out.add(lo, hi, fn(lo, hi))
	}
	return out.finish(), nil
}

// Filter evaluates a bool program over f and returns, for every row,
// whether it is true; null counts as false.
func (p *Program) Filter(f *frame.Frame) ([]bool, error) {
	if p.typ != tBool {
		return nil, fmt.Errorf("expr: filter %q is %s, not bool", p.src, p.typ)
	}
	fn, n, err := p.build(f)
	if err != nil {
		return nil, err
	}
	keep := make([]bool, n)
	for lo := 0; lo < n; lo += chunkSize {
		hi := min(lo+chunkSize, n)
		v := fn(lo, hi)
		if v.valid == nil {
			copy(keep[lo:hi], v.b)
		} else {
			andBools(keep[lo:hi], v.b, v.valid)
		}
	}
	return keep, nil
}

// collector assembles the chunks of the result into a frame.Column.
type collector struct {
	t   typ
	n   int
	col *frame.Column

	// String results: the dictionary of the first chunk is adopted as is
	// while every chunk shares it; once one does not, values are interned.
	adopted   bool
	adoptID   dictID
	interning bool
	index     map[string]int32
	remapID   dictID
	remap     []int32
}

func newCollector(t typ, n int) *collector {
	col := &frame.Column{Kind: t.kind()}
	switch t {
	case tFloat:
		col.Floats = make([]float64, n)
	case tInt, tTime:
		col.Ints = make([]int64, n)
	case tBool:
		col.Bools = make([]bool, n)
	case tString:
		col.Codes = make([]int32, n)
	}
	return &collector{t: t, n: n, col: col}
}

func (c *collector) add(lo, hi int, v vec) {
	col := c.col
	valid := v.valid
	if valid != nil && allTrue(valid) {
		valid = nil
	}
	if valid != nil && col.Valid == nil {
		col.Valid = make([]bool, c.n)
		for i := range lo {
			col.Valid[i] = true
		}
	}
	if col.Valid != nil {
		if valid == nil {
			copy(col.Valid[lo:hi], ones)
		} else {
			copy(col.Valid[lo:hi], valid)
		}
	}
	switch c.t {
	case tFloat:
		copy(col.Floats[lo:hi], v.f)
	case tInt, tTime:
		copy(col.Ints[lo:hi], v.i)
	case tBool:
		copy(col.Bools[lo:hi], v.b)
	case tString:
		c.addStrings(col.Codes[lo:hi], v, valid)
	}
	if valid == nil {
		return
	}
	// A null slot holds the zero value.
	for i, ok := range valid {
		if ok {
			continue
		}
		switch c.t {
		case tFloat:
			col.Floats[lo+i] = 0
		case tInt, tTime:
			col.Ints[lo+i] = 0
		case tBool:
			col.Bools[lo+i] = false
		case tString:
			col.Codes[lo+i] = 0
		}
	}
}

func (c *collector) addStrings(codes []int32, v vec, valid []bool) {
	id := idOf(v.dict)
	if !c.interning {
		if !c.adopted {
			c.adopted, c.adoptID, c.col.Dict = true, id, v.dict
		}
		if id == c.adoptID {
			copy(codes, v.c)
			return
		}
		c.interning = true
		c.col.Dict = append([]string(nil), c.col.Dict...)
		c.index = make(map[string]int32, len(c.col.Dict))
		for k := len(c.col.Dict) - 1; k >= 0; k-- {
			c.index[c.col.Dict[k]] = int32(k)
		}
	}
	if c.remap == nil || id != c.remapID {
		c.remapID = id
		c.remap = make([]int32, len(v.dict))
		for k := range c.remap {
			c.remap[k] = -1
		}
	}
	ok := validOr(valid, len(codes))
	for i, k := range v.c[:len(codes)] {
		if !ok[i] {
			codes[i] = 0
			continue
		}
		r := c.remap[k]
		if r < 0 {
			s := v.dict[k]
			var seen bool
			if r, seen = c.index[s]; !seen {
				r = int32(len(c.col.Dict))
				c.col.Dict = append(c.col.Dict, s)
				c.index[s] = r
			}
			c.remap[k] = r
		}
		codes[i] = r
	}
}

// finish returns the column, with a string dictionary free of duplicates.
func (c *collector) finish() *frame.Column {
	col := c.col
	if c.t != tString {
		return col
	}
	if col.Dict == nil {
		col.Dict = []string{}
	}
	if c.interning {
		return col
	}
	if len(col.Dict) > 0 && &col.Dict[0] == &emptyDict[0] {
		col.Dict = []string{""}
	}
	first := make(map[string]int32, len(col.Dict))
	var remap []int32
	for k, s := range col.Dict {
		if j, dup := first[s]; dup {
			if remap == nil {
				remap = make([]int32, len(col.Dict))
				for i := range remap {
					remap[i] = int32(i)
				}
			}
			remap[k] = j
			continue
		}
		first[s] = int32(k)
	}
	if remap == nil {
		return col
	}
	// Keep the first occurrence of every string, in order.
	dict := make([]string, 0, len(first))
	newCode := make([]int32, len(col.Dict))
	for k, s := range col.Dict {
		if remap[k] == int32(k) {
			newCode[k] = int32(len(dict))
			dict = append(dict, s)
		}
	}
	for i, k := range col.Codes {
		col.Codes[i] = newCode[remap[k]]
	}
	col.Dict = dict
	return col
}
