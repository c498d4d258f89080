package expr

import (
	"fmt"
	"strconv"
	"strings"
)

// The syntax tree. Every node records the byte offset errors about it point at.
type (
	ast interface{ start() int }

	litExpr struct {
		pos int
		typ typ // tNull, tBool, tInt, tFloat or tString
		val scalar
	}
	identExpr struct {
		pos  int
		name string
	}
	unaryExpr struct {
		pos int
		op  string // "-" or "!"
		x   ast
	}
	binaryExpr struct {
		pos  int // of the operator
		op   string
		l, r ast
	}
	parenExpr struct {
		pos int
		x   ast
	}
	callExpr struct {
		pos  int
		name string
		args []ast
	}
	inExpr struct {
		pos  int // of "in"
		x    ast
		not  bool
		list []ast
	}
)

func (e *litExpr) start() int    { return e.pos }
func (e *identExpr) start() int  { return e.pos }
func (e *unaryExpr) start() int  { return e.pos }
func (e *binaryExpr) start() int { return e.l.start() }
func (e *parenExpr) start() int  { return e.pos }
func (e *callExpr) start() int   { return e.pos }
func (e *inExpr) start() int     { return e.x.start() }

// maxDepth bounds nesting so that hostile input cannot exhaust the stack.
const maxDepth = 200

type parser struct {
	lx    lexer
	tok   token
	depth int
}

func parse(src string) (ast, error) {
	p := &parser{lx: lexer{src: src}}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind == tokEOF {
		return nil, p.lx.errf(p.tok.pos, "empty expression")
	}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokEOF {
		if p.tok.is(")") {
			return nil, p.lx.errf(p.tok.pos, "unexpected ) without matching (")
		}
		hint := "missing operator?"
		if p.tok.kind == tokIdent && !p.tok.quoted && isKeyword(strings.ToLower(p.tok.text)) {
			hint = fmt.Sprintf("keywords are lower case: %s", strings.ToLower(p.tok.text))
		}
		return nil, p.lx.errf(p.tok.pos, "unexpected %s after the end of the expression (%s)", p.tok.describe(), hint)
	}
	return e, nil
}

func (p *parser) advance() error {
	t, err := p.lx.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) binaryLevel(next func() (ast, error), ops map[string]string) (ast, error) {
	l, err := next()
	if err != nil {
		return nil, err
	}
	for {
		op, ok := ops[p.opText()]
		if !ok {
			return l, nil
		}
		pos := p.tok.pos
		if err := p.advance(); err != nil {
			return nil, err
		}
		r, err := next()
		if err != nil {
			return nil, err
		}
		l = &binaryExpr{pos: pos, op: op, l: l, r: r}
	}
}

func isKeyword(s string) bool {
	switch s {
	case "and", "or", "not", "in", "true", "false", "null":
		return true
	}
	return false
}

// opText is the operator or keyword the current token spells, or "".
func (p *parser) opText() string {
	switch {
	case p.tok.kind == tokOp:
		return p.tok.text
	case p.tok.kind == tokIdent && !p.tok.quoted:
		switch p.tok.text {
		case "and", "or", "not", "in":
			return p.tok.text
		}
	}
	return ""
}

var (
	orOps  = map[string]string{"||": "||", "or": "||"}
	andOps = map[string]string{"&&": "&&", "and": "&&"}
	eqOps  = map[string]string{"==": "==", "!=": "!="}
	addOps = map[string]string{"+": "+", "-": "-"}
	mulOps = map[string]string{"*": "*", "/": "/", "%": "%"}
)

func (p *parser) or() (ast, error)  { return p.binaryLevel(p.and, orOps) }
func (p *parser) and() (ast, error) { return p.binaryLevel(p.eq, andOps) }
func (p *parser) eq() (ast, error)  { return p.binaryLevel(p.rel, eqOps) }
func (p *parser) add() (ast, error) { return p.binaryLevel(p.mul, addOps) }
func (p *parser) mul() (ast, error) { return p.binaryLevel(p.unary, mulOps) }

// rel parses  add { ("<" | "<=" | ">" | ">=") add | ["not"] "in" "(" list ")" }.
func (p *parser) rel() (ast, error) {
	l, err := p.add()
	if err != nil {
		return nil, err
	}
	for {
		switch op := p.opText(); op {
		case "<", "<=", ">", ">=":
			pos := p.tok.pos
			if err := p.advance(); err != nil {
				return nil, err
			}
			r, err := p.add()
			if err != nil {
				return nil, err
			}
			l = &binaryExpr{pos: pos, op: op, l: l, r: r}
		case "in", "not":
			pos := p.tok.pos
			not := op == "not"
			if not {
				if err := p.advance(); err != nil {
					return nil, err
				}
				if !p.tok.keyword("in") {
					return nil, p.lx.errf(pos, "unexpected \"not\" after an operand (did you mean \"not in\"?)")
				}
			}
			inPos := p.tok.pos
			if err := p.advance(); err != nil {
				return nil, err
			}
			if !p.tok.is("(") {
				return nil, p.lx.errf(p.tok.pos, "expected ( after in, found %s: write x in (a, b, c)", p.tok.describe())
			}
			open := p.tok.pos
			list, err := p.list(open)
			if err != nil {
				return nil, err
			}
			if len(list) == 0 {
				return nil, p.lx.errf(open, "empty list after in")
			}
			l = &inExpr{pos: inPos, x: l, not: not, list: list}
		default:
			return l, nil
		}
	}
}

func (p *parser) unary() (ast, error) {
	op := p.opText()
	if op == "-" || op == "!" || op == "not" {
		pos := p.tok.pos
		if err := p.enter(pos); err != nil {
			return nil, err
		}
		defer p.leave()
		if err := p.advance(); err != nil {
			return nil, err
		}
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		if op == "not" {
			op = "!"
		}
		return &unaryExpr{pos: pos, op: op, x: x}, nil
	}
	if op == "+" {
		return nil, p.lx.errf(p.tok.pos, "unexpected unary + (write the number without it)")
	}
	return p.primary()
}

func (p *parser) enter(pos int) error {
	p.depth++
	if p.depth > maxDepth {
		return p.lx.errf(pos, "expression nests deeper than %d levels", maxDepth)
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

func (p *parser) primary() (ast, error) {
	t := p.tok
	switch t.kind {
	case tokInt:
		v, _ := strconv.ParseInt(t.text, 10, 64) // checked by the lexer
		return p.lit(&litExpr{pos: t.pos, typ: tInt, val: scalar{i: v}})
	case tokFloat:
		v, _ := strconv.ParseFloat(t.text, 64) // checked by the lexer
		return p.lit(&litExpr{pos: t.pos, typ: tFloat, val: scalar{f: v}})
	case tokString:
		return p.lit(&litExpr{pos: t.pos, typ: tString, val: scalar{s: t.text}})
	case tokIdent:
		if !t.quoted {
			switch t.text {
			case "true", "false":
				return p.lit(&litExpr{pos: t.pos, typ: tBool, val: scalar{b: t.text == "true"}})
			case "null":
				return p.lit(&litExpr{pos: t.pos, typ: tNull, val: scalar{null: true}})
			case "and", "or", "in", "not":
				return nil, p.lx.errf(t.pos, "expected an operand, found %q (write a column named %s as `%s`)", t.text, t.text, t.text)
			}
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		if !p.tok.is("(") {
			return &identExpr{pos: t.pos, name: t.text}, nil
		}
		if t.quoted {
			return nil, p.lx.errf(p.tok.pos, "unexpected ( after the quoted name `%s` (function names are not quoted)", t.text)
		}
		args, err := p.list(p.tok.pos)
		if err != nil {
			return nil, err
		}
		return &callExpr{pos: t.pos, name: t.text, args: args}, nil
	case tokOp:
		if t.text == "(" {
			if err := p.enter(t.pos); err != nil {
				return nil, err
			}
			defer p.leave()
			if err := p.advance(); err != nil {
				return nil, err
			}
			if p.tok.is(")") {
				return nil, p.lx.errf(p.tok.pos, "expected an expression inside ( )")
			}
			x, err := p.or()
			if err != nil {
				return nil, err
			}
			if !p.tok.is(")") {
				return nil, p.expected(t.pos, "(")
			}
			if err := p.advance(); err != nil {
				return nil, err
			}
			return &parenExpr{pos: t.pos, x: x}, nil
		}
	}
	if t.kind == tokEOF {
		return nil, p.lx.errf(t.pos, "unexpected end of input: expected an operand")
	}
	return nil, p.lx.errf(t.pos, "unexpected %s: expected an operand", t.describe())
}

func (p *parser) lit(e *litExpr) (ast, error) {
	if err := p.advance(); err != nil {
		return nil, err
	}
	return e, nil
}

// list parses "(" [ expr { "," expr } ] ")" with the current token at "(".
func (p *parser) list(open int) ([]ast, error) {
	if err := p.enter(open); err != nil {
		return nil, err
	}
	defer p.leave()
	if err := p.advance(); err != nil {
		return nil, err
	}
	var out []ast
	if p.tok.is(")") {
		return out, p.advance()
	}
	for {
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		out = append(out, x)
		switch {
		case p.tok.is(","):
			if err := p.advance(); err != nil {
				return nil, err
			}
		case p.tok.is(")"):
			return out, p.advance()
		default:
			return nil, p.expected(open, "(")
		}
	}
}

func (p *parser) expected(open int, what string) error {
	if p.tok.kind == tokEOF {
		return p.lx.errf(open, "unclosed %s: missing )", what)
	}
	return p.lx.errf(p.tok.pos, "unexpected %s: expected , or )", p.tok.describe())
}
