package expr

import "fmt"

// node is a type-checked expression. build turns it into an evalFn for one
// frame; it is called once per Eval, so that each evaluation owns its
// buffers and caches and a Program is safe for concurrent use.
//
// Invariant: a node of type tNull is a constant null.
type node struct {
	typ   typ
	konst bool
	val   scalar // the value of a constant
	build func(b *builder) evalFn
}

func (n *node) isNull() bool { return n.konst && n.val.null }

// constOf returns a constant node.
func constOf(t typ, v scalar) *node {
	n := &node{typ: t, konst: true, val: v}
	n.build = func(b *builder) evalFn {
		x := broadcast(v, t, b.chunk)
		return func(lo, hi int) vec { return x.head(hi - lo) }
	}
	return n
}

func nullOf(t typ) *node { return constOf(t, scalar{null: true}) }

// mk returns a node computed from kids; when every kid is a constant the node
// is folded into a constant by evaluating it on one row.
func mk(t typ, build func(b *builder) evalFn, kids ...*node) *node {
	n := &node{typ: t, build: build}
	for _, k := range kids {
		if !k.konst {
			return n
		}
	}
	return fold(n)
}

func fold(n *node) *node {
	b := &builder{n: 1, chunk: 1}
	fn := n.build(b)
	if b.err != nil {
		return n
	}
	return constOf(n.typ, scalarAt(fn(0, 1), n.typ, 0))
}

// colNode reads a column of the frame, checking at build time that it still
// has the kind the program was compiled for.
func colNode(name string, t typ) *node {
	return &node{typ: t, build: func(b *builder) evalFn {
		c, ok := b.f.Col(name)
		if !ok {
			b.fail(fmt.Errorf("expr: %w: column %q is missing", ErrSchema, name))
			return nil
		}
		if got, _ := typOf(c.Kind); got != t {
			b.fail(fmt.Errorf("expr: %w: column %q is %s, the expression was compiled for %s", ErrSchema, name, c.Kind, t.kind()))
			return nil
		}
		if c.Len() != b.n || c.Valid != nil && len(c.Valid) != b.n {
			b.fail(fmt.Errorf("expr: %w: column %q has %d rows, the frame has %d", ErrSchema, name, c.Len(), b.n))
			return nil
		}
		valid := c.Valid
		cut := func(lo, hi int) []bool {
			if valid == nil {
				return nil
			}
			return valid[lo:hi]
		}
		switch t {
		case tFloat:
			xs := c.Floats
			return func(lo, hi int) vec { return vec{f: xs[lo:hi], valid: cut(lo, hi)} }
		case tInt, tTime:
			xs := c.Ints
			return func(lo, hi int) vec { return vec{i: xs[lo:hi], valid: cut(lo, hi)} }
		case tBool:
			xs := c.Bools
			return func(lo, hi int) vec { return vec{b: xs[lo:hi], valid: cut(lo, hi)} }
		case tString:
			dict := c.Dict
			if len(dict) == 0 {
				dict = emptyDict
			}
			codes := c.Codes
			for i, k := range codes {
				if k < 0 || int(k) >= len(dict) {
					b.fail(fmt.Errorf("expr: %w: column %q row %d has code %d outside its dictionary of %d", ErrSchema, name, i, k, len(c.Dict)))
					return nil
				}
			}
			return func(lo, hi int) vec { return vec{c: codes[lo:hi], dict: dict, valid: cut(lo, hi)} }
		}
		panic("unreachable")
	}}
}
