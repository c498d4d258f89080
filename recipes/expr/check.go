package expr

import (
	"fmt"
	"strings"

	"github.com/sous-ml/sous/recipes/frame"
)

// checker type-checks a syntax tree against a schema and lowers it to nodes.
type checker struct {
	src    string
	schema map[string]frame.Kind
	cols   map[string]typ // the columns read
}

func (c *checker) errf(pos int, format string, args ...any) *Error {
	return &Error{Src: c.src, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

func (c *checker) expr(e ast) (*node, error) {
	switch e := e.(type) {
	case *litExpr:
		return constOf(e.typ, e.val), nil
	case *parenExpr:
		return c.expr(e.x)
	case *identExpr:
		return c.ident(e)
	case *unaryExpr:
		return c.unary(e)
	case *binaryExpr:
		return c.binary(e)
	case *inExpr:
		return c.in(e)
	case *callExpr:
		return c.call(e)
	}
	return nil, c.errf(0, "internal error: unknown syntax %T", e)
}

func (c *checker) ident(e *identExpr) (*node, error) {
	k, ok := c.schema[e.name]
	if !ok {
		names := make([]string, 0, len(c.schema))
		for name := range c.schema {
			names = append(names, name)
		}
		msg := fmt.Sprintf("unknown column %q", e.name)
		if s := suggest(e.name, names); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		} else if low := strings.ToLower(e.name); isKeyword(low) {
			msg += fmt.Sprintf(" (keywords are lower case: %s)", low)
		} else if _, isFn := functions[e.name]; isFn {
			msg += fmt.Sprintf(" (%s is a function: call it as %s(...))", e.name, e.name)
		}
		return nil, c.errf(e.pos, "%s", msg)
	}
	t, ok := typOf(k)
	if !ok {
		return nil, c.errf(e.pos, "column %q has unsupported kind %s", e.name, k)
	}
	c.cols[e.name] = t
	return colNode(e.name, t), nil
}

func (c *checker) unary(e *unaryExpr) (*node, error) {
	x, err := c.expr(e.x)
	if err != nil {
		return nil, err
	}
	switch e.op {
	case "-":
		switch x.typ {
		case tNull:
			return x, nil
		case tInt, tDur:
			return arithNode[int64]('-', x.typ, constOf(x.typ, scalar{}), x), nil
		case tFloat:
			return arithNode[float64]('-', tFloat, constOf(tFloat, scalar{}), x), nil
		}
		return nil, c.errf(e.pos, "cannot negate %s (unary - needs int, float or duration)", x.typ)
	default: // "!"
		switch x.typ {
		case tNull:
			return nullOf(tBool), nil
		case tBool:
			return notNode(x), nil
		}
		return nil, c.errf(e.pos, "operator ! needs a bool operand, got %s (! and not bind tighter than comparisons: write !(a > b))", x.typ)
	}
}

func (c *checker) binary(e *binaryExpr) (*node, error) {
	l, err := c.expr(e.l)
	if err != nil {
		return nil, err
	}
	r, err := c.expr(e.r)
	if err != nil {
		return nil, err
	}
	switch e.op {
	case "&&", "||":
		if (l.typ != tBool && l.typ != tNull) || (r.typ != tBool && r.typ != tNull) {
			return nil, c.errf(e.pos, "operator %s needs bool operands, got %s and %s", e.op, l.typ, r.typ)
		}
		if l.typ == tNull && r.typ == tNull {
			return nullOf(tBool), nil
		}
		return logicNode(e.op == "&&", retype(l, tBool), retype(r, tBool)), nil
	case "+", "-", "*", "/", "%":
		return c.arith(e, l, r)
	}
	return c.compare(e, l, r)
}

// retype gives a null constant the type t.
func retype(n *node, t typ) *node {
	if n.typ == tNull {
		return nullOf(t)
	}
	return n
}

func (c *checker) arith(e *binaryExpr, l, r *node) (*node, error) {
	if l.typ == tNull && r.typ == tNull {
		return l, nil
	}
	lt, rt := l.typ, r.typ
	if lt == tNull {
		lt = rt
	}
	if rt == tNull {
		rt = lt
	}
	l, r = retype(l, lt), retype(r, rt)
	op := e.op[0]
	t, build := arithPlan(op, lt, rt)
	if build == nil {
		return nil, c.errf(e.pos, "cannot apply %s to %s and %s%s", e.op, l.typ, r.typ, arithHint(op, lt, rt))
	}
	if l.isNull() || r.isNull() || (op == '/' || op == '%') && isZero(r) {
		return nullOf(t), nil
	}
	return build(l, r), nil
}

// arithPlan returns the result type of l op r and how to build it, or a nil
// build when the operation is not defined.
func arithPlan(op byte, lt, rt typ) (typ, func(l, r *node) *node) {
	num := lt.numeric() && rt.numeric()
	asFloat := func(l, r *node) *node { return arithNode[float64](op, tFloat, toFloat(l), toFloat(r)) }
	ints := func(t typ) func(l, r *node) *node {
		return func(l, r *node) *node { return arithNode[int64](op, t, l, r) }
	}
	switch {
	case num && op == '/':
		return tFloat, asFloat
	case num && lt == tInt && rt == tInt:
		return tInt, ints(tInt)
	case num:
		return tFloat, asFloat
	case lt == tString && rt == tString && op == '+':
		return tString, concat
	case lt == tTime && rt == tTime && op == '-':
		return tDur, ints(tDur)
	case lt == tTime && rt == tDur && (op == '+' || op == '-'),
		lt == tDur && rt == tTime && op == '+':
		return tTime, ints(tTime)
	case lt == tDur && rt == tDur && (op == '+' || op == '-' || op == '%'):
		return tDur, ints(tDur)
	case lt == tDur && rt == tDur && op == '/':
		return tFloat, asFloat
	case lt == tDur && rt.numeric() && (op == '*' || op == '/'),
		lt.numeric() && rt == tDur && op == '*':
		return tDur, func(l, r *node) *node { return fromFloat(asFloat(l, r), tDur) }
	}
	return 0, nil
}

func concat(l, r *node) *node {
	switch {
	case r.konst && !l.konst:
		s := r.val.s
		return dictMapStr(l, func(x string) string { return x + s })
	case l.konst && !r.konst:
		s := l.val.s
		return dictMapStr(r, func(x string) string { return s + x })
	}
	return concatNode(l, r)
}

func arithHint(op byte, lt, rt typ) string {
	switch {
	case lt == tBool || rt == tBool:
		return " (convert a bool with int(b))"
	case lt == tString || rt == tString:
		if op == '+' {
			return " (convert with string(x) to concatenate)"
		}
		return " (strings only support +)"
	case lt == tTime && rt == tTime:
		return " (subtract timestamps to get a duration)"
	case lt == tTime && rt.numeric(), lt.numeric() && rt == tTime:
		return ` (add a duration, such as duration("1h") or t2 - t1)`
	case lt == tDur && rt.numeric() || lt.numeric() && rt == tDur:
		return " (convert the duration to a number with seconds(), minutes(), hours() or days())"
	}
	return ""
}

func (c *checker) compare(e *binaryExpr, l, r *node) (*node, error) {
	op := cmpOps[e.op]
	if l.typ == tNull || r.typ == tNull {
		fix := "is_null(x)"
		if op == opNe {
			fix = "!is_null(x)"
		}
		return nil, c.errf(e.pos, "comparison with null is always null: use %s", fix)
	}
	var err error
	if l, r, err = c.literalAs(e, l, r); err != nil {
		return nil, err
	}
	lt, rt := l.typ, r.typ
	var build func() *node
	switch {
	case lt == tInt && rt == tInt, lt == tTime && rt == tTime, lt == tDur && rt == tDur:
		build = func() *node { return cmpNode[int64](op, l, r) }
	case lt.numeric() && rt.numeric():
		build = func() *node { return cmpNode[float64](op, toFloat(l), toFloat(r)) }
	case lt == tString && rt == tString:
		build = func() *node {
			switch {
			case r.konst && !l.konst:
				return strCmpConst(op, l, r.val.s)
			case l.konst && !r.konst:
				return strCmpConst(op.flip(), r, l.val.s)
			}
			return strCmpNode(op, l, r)
		}
	case lt == tBool && rt == tBool && (op == opEq || op == opNe):
		build = func() *node { return boolEqNode(op, l, r) }
	}
	if build != nil {
		if l.isNull() || r.isNull() {
			return nullOf(tBool), nil
		}
		return build(), nil
	}
	msg := fmt.Sprintf("cannot compare %s with %s", lt, rt)
	switch {
	case lt == tBool && rt == tBool:
		msg += fmt.Sprintf(" using %s (bools only support == and !=)", e.op)
	case lt == tTime && rt == tString || lt == tString && rt == tTime:
		msg += " (only a string literal is read as a timestamp: convert a column with timestamp(s))"
	case lt == tDur && rt.numeric() || lt.numeric() && rt == tDur:
		msg += " (convert the duration with seconds(), minutes(), hours() or days())"
	case lt == tBool && rt.numeric() || lt.numeric() && rt == tBool:
		if b, ok := e.l.(*binaryExpr); ok && isCmp(b.op) {
			msg += " (comparisons do not chain: write a < b && b < c)"
		} else {
			msg += " (convert a bool with int(b))"
		}
	}
	return nil, c.errf(e.pos, "%s", msg)
}

func isCmp(op string) bool {
	_, ok := cmpOps[op]
	return ok
}

// literalAs reads a string literal compared with a timestamp or a duration
// as a timestamp or duration.
func (c *checker) literalAs(e *binaryExpr, l, r *node) (*node, *node, error) {
	conv := func(lit *node, pos int, as typ) (*node, error) {
		return c.parseLiteral(lit, pos, as)
	}
	var err error
	switch {
	case (l.typ == tTime || l.typ == tDur) && r.typ == tString && r.konst:
		r, err = conv(r, e.r.start(), l.typ)
	case (r.typ == tTime || r.typ == tDur) && l.typ == tString && l.konst:
		l, err = conv(l, e.l.start(), r.typ)
	}
	return l, r, err
}

// parseLiteral reads a constant string as a timestamp or duration.
func (c *checker) parseLiteral(lit *node, pos int, as typ) (*node, error) {
	if lit.isNull() {
		return nullOf(as), nil
	}
	if as == tTime {
		v, ok := parseTime(lit.val.s)
		if !ok {
			return nil, c.errf(pos, "cannot read %q as a timestamp (want RFC 3339, e.g. \"2016-01-01T00:00:00Z\" or \"2016-01-01\")", lit.val.s)
		}
		return constOf(tTime, scalar{i: v}), nil
	}
	v, ok := parseDuration(lit.val.s)
	if !ok {
		return nil, c.errf(pos, "cannot read %q as a duration (want e.g. \"90s\", \"1h30m\")", lit.val.s)
	}
	return constOf(tDur, scalar{i: v}), nil
}

func (c *checker) in(e *inExpr) (*node, error) {
	x, err := c.expr(e.x)
	if err != nil {
		return nil, err
	}
	items := make([]*node, len(e.list))
	allInt := true
	for k, item := range e.list {
		n, err := c.expr(item)
		if err != nil {
			return nil, err
		}
		pos := item.start()
		if !n.konst {
			return nil, c.errf(pos, "the list after in must hold constants")
		}
		if n.isNull() {
			return nil, c.errf(pos, "null in the list after in never matches: use is_null(x)")
		}
		if (x.typ == tTime || x.typ == tDur) && n.typ == tString {
			if n, err = c.parseLiteral(n, pos, x.typ); err != nil {
				return nil, err
			}
		}
		compatible := n.typ == x.typ || x.typ.numeric() && n.typ.numeric() || x.typ == tNull
		if !compatible {
			return nil, c.errf(pos, "cannot compare %s with %s in the list after in", x.typ, n.typ)
		}
		allInt = allInt && n.typ == tInt
		items[k] = n
	}
	switch x.typ {
	case tNull:
		return nullOf(tBool), nil
	case tString:
		set := make([]string, len(items))
		for k, n := range items {
			set[k] = n.val.s
		}
		return strInNode(x, set, e.not), nil
	case tBool:
		set := make([]bool, len(items))
		for k, n := range items {
			set[k] = n.val.b
		}
		return inNode(x, set, e.not), nil
	case tFloat, tInt:
		if x.typ == tInt && allInt {
			break
		}
		set := make([]float64, len(items))
		for k, n := range items {
			set[k] = toFloat(n).val.f
		}
		return inNode(toFloat(x), set, e.not), nil
	}
	set := make([]int64, len(items))
	for k, n := range items {
		set[k] = n.val.i
	}
	return inNode(x, set, e.not), nil
}

func (c *checker) call(e *callExpr) (*node, error) {
	fn, ok := functions[e.name]
	if !ok {
		names := functionNames()
		msg := fmt.Sprintf("unknown function %q", e.name)
		if s := suggest(e.name, names); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		msg += "; functions are " + strings.Join(names, ", ")
		return nil, c.errf(e.pos, "%s", msg)
	}
	if len(e.args) < fn.min || fn.max >= 0 && len(e.args) > fn.max {
		return nil, c.errf(e.pos, "%s takes %s, got %d: %s", e.name, fn.arity(), len(e.args), fn.sig)
	}
	args := make([]*node, len(e.args))
	for k, a := range e.args {
		n, err := c.expr(a)
		if err != nil {
			return nil, err
		}
		args[k] = n
	}
	return fn.check(&call{c: c, e: e, fn: fn, args: args})
}
