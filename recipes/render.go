package recipes

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Rendering substitutes {{ VAR }}, {{VAR}} and {{ VAR | default(x) }} line by
// line. A substituted value is always written on the line of its placeholder
// (collections as YAML flow, long strings double-quoted with escapes), so
// line numbers in the rendered text are the line numbers the user wrote.

// maxRenderedLine bounds one rendered line, so that nested aliases in a
// profile value cannot blow up (the "billion laughs").
const maxRenderedLine = 1 << 20

// maxFlowDepth bounds the nesting of a rendered value.
const maxFlowDepth = 64

var templateForms = []string{"{{ VAR }}", "{{ VAR | default(value) }}"}

// variable is a value the renderer can substitute.
type variable struct {
	node   *yaml.Node
	source string // where it was defined, for messages: "profiles/local.yaml:3", "the environment"
}

// substitution records that a line used a variable, for error messages about
// that line.
type substitution struct {
	name   string
	source string
}

type renderer struct {
	file   string
	lookup func(name string) (variable, bool)
	names  []string // the defined variables, for messages
}

type renderResult struct {
	text []byte
	subs map[int][]substitution // line → variables used on it
	errs []*Error
}

// render renders src. Undefined variables are reported and rendered as null
// so that the rest of the file can still be checked.
func (r *renderer) render(src []byte) renderResult {
	res := renderResult{subs: map[int][]substitution{}}
	lines := strings.SplitAfter(string(src), "\n")
	var out strings.Builder
	out.Grow(len(src))
	for i, line := range lines {
		lineNo := i + 1
		trimmed := strings.TrimLeft(line, " \t")
		if strings.HasPrefix(trimmed, "#") || !strings.Contains(line, "{") {
			out.WriteString(line)
			continue
		}
		rendered, subs, errs := r.renderLine(line, lineNo)
		res.errs = append(res.errs, errs...)
		if len(subs) > 0 {
			res.subs[lineNo] = subs
		}
		out.WriteString(rendered)
	}
	res.text = []byte(out.String())
	return res
}

func (r *renderer) renderLine(line string, lineNo int) (string, []substitution, []*Error) {
	var (
		out  strings.Builder
		subs []substitution
		errs []*Error
	)
	fail := func(msg string, allowed []string, sug string) {
		errs = append(errs, &Error{File: r.file, Line: lineNo, Msg: msg, Allowed: allowed, Suggest: sug})
	}
	// skipTo returns the index after closing (or of the line break if it is
	// missing), so that a malformed expression is dropped and the rest of
	// the line is still checked.
	skipTo := func(from int, closing string) int {
		if k := strings.Index(line[from:], closing); k >= 0 {
			return from + k + len(closing)
		}
		return len(strings.TrimRight(line, "\r\n"))
	}
	i := 0
	for i < len(line) {
		j := strings.Index(line[i:], "{")
		if j < 0 {
			out.WriteString(line[i:])
			break
		}
		j += i
		out.WriteString(line[i:j])
		rest := line[j:]
		switch {
		case strings.HasPrefix(rest, "{%"):
			fail("template statements ({% ... %}) are not supported", templateForms, "")
			i = skipTo(j+2, "%}")
			continue
		case !strings.HasPrefix(rest, "{{"):
			out.WriteByte('{')
			i = j + 1
			continue
		}
		e, err := parseTemplateExpr(line, j)
		if err != nil {
			fail(err.Error(), templateForms, "")
			out.WriteString("null")
			i = skipTo(j+2, "}}")
			continue
		}
		i = e.end

		ctx := placeholderContext(out.String(), line, e.end)
		v, ok := r.lookup(e.name)
		if !ok && e.def != nil {
			v, ok = variable{node: e.def, source: "its default"}, true
		}
		if !ok {
			fail(fmt.Sprintf("undefined variable %q (no value in the profile and no default)", e.name),
				r.names, suggest(e.name, r.names))
			v = variable{node: &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}}
		} else {
			subs = append(subs, substitution{name: e.name, source: v.source})
		}
		text, err := renderValue(v.node, ctx)
		if err != nil {
			fail(fmt.Sprintf("variable %q: %v", e.name, err), nil, "")
			text = "null"
		}
		if out.Len()+len(text) > maxRenderedLine {
			fail(fmt.Sprintf("variable %q: rendered line is longer than %d bytes", e.name, maxRenderedLine), nil, "")
			text = "null"
		}
		out.WriteString(text)
	}
	return out.String(), subs, errs
}

// templateExpr is one parsed {{ ... }}.
type templateExpr struct {
	name string
	def  *yaml.Node // the default(x) value; nil without one
	end  int        // index just after "}}"
}

// parseTemplateExpr parses the expression starting at line[start:], which
// begins with "{{".
func parseTemplateExpr(line string, start int) (templateExpr, error) {
	var e templateExpr
	i := skipSpace(line, start+2)
	name := scanIdent(line, i)
	if name == "" {
		return e, fmt.Errorf("malformed template expression %q: expected a variable name", exprText(line, start))
	}
	e.name = name
	i = skipSpace(line, i+len(name))
	if strings.HasPrefix(line[i:], "|") {
		i = skipSpace(line, i+1)
		filter := scanIdent(line, i)
		if filter != "default" {
			return e, fmt.Errorf("unsupported template filter %q in %q: only default(value) is supported", filter, exprText(line, start))
		}
		i = skipSpace(line, i+len(filter))
		if !strings.HasPrefix(line[i:], "(") {
			return e, fmt.Errorf("malformed template expression %q: expected ( after default", exprText(line, start))
		}
		end, err := scanLiteral(line, i+1)
		if err != nil {
			return e, fmt.Errorf("malformed default value in %q: %v", exprText(line, start), err)
		}
		lit := strings.TrimSpace(line[i+1 : end])
		if lit == "" {
			return e, fmt.Errorf("default() needs a value in %q", exprText(line, start))
		}
		n, err := parseLiteral(lit)
		if err != nil {
			return e, fmt.Errorf("invalid default value %q: %v", lit, err)
		}
		e.def = n
		i = skipSpace(line, end+1)
	}
	if !strings.HasPrefix(line[i:], "}}") {
		return e, fmt.Errorf("malformed template expression %q: expected }}", exprText(line, start))
	}
	e.end = i + 2
	return e, nil
}

// exprText is the template expression starting at start, for messages.
func exprText(line string, start int) string {
	if k := strings.Index(line[start:], "}}"); k >= 0 {
		return line[start : start+k+2]
	}
	return clip(line[start:])
}

func clip(s string) string {
	s = strings.TrimRight(s, "\r\n")
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

func scanIdent(s string, i int) string {
	j := i
	for j < len(s) {
		c := s[j]
		if c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || j > i && '0' <= c && c <= '9' {
			j++
			continue
		}
		break
	}
	return s[i:j]
}

// scanLiteral finds the ")" closing a default( whose value starts at i,
// skipping brackets and quoted strings. It returns the index of that ")".
func scanLiteral(s string, i int) (int, error) {
	var stack []byte
	for i < len(s) {
		switch c := s[i]; c {
		case '"':
			i++
			for i < len(s) && s[i] != '"' {
				if s[i] == '\\' {
					i++
				}
				i++
			}
			if i >= len(s) {
				return 0, errors.New("unterminated string")
			}
		case '\'':
			i++
			for {
				if i >= len(s) {
					return 0, errors.New("unterminated string")
				}
				if s[i] == '\'' {
					if i+1 < len(s) && s[i+1] == '\'' {
						i += 2
						continue
					}
					break
				}
				i++
			}
		case '(', '[', '{':
			stack = append(stack, c)
		case ')', ']', '}':
			if c == ')' && len(stack) == 0 {
				return i, nil
			}
			open := map[byte]byte{')': '(', ']': '[', '}': '{'}[c]
			if len(stack) == 0 || stack[len(stack)-1] != open {
				return 0, fmt.Errorf("unbalanced %q", c)
			}
			stack = stack[:len(stack)-1]
		}
		i++
	}
	return 0, errors.New("missing )")
}

// parseLiteral parses a default(...) value as YAML.
func parseLiteral(lit string) (*yaml.Node, error) {
	doc, err := parseYAMLNode([]byte(lit))
	if err != nil {
		return nil, err
	}
	if doc == nil || len(doc.Content) == 0 {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
	}
	return doc.Content[0], nil
}

// parseYAMLNode parses one YAML document into a node, turning a panic in the
// parser into an error. It returns nil for an empty document.
func parseYAMLNode(src []byte) (doc *yaml.Node, err error) {
	defer func() {
		if p := recover(); p != nil {
			doc, err = nil, fmt.Errorf("yaml parser failed: %v", p)
		}
	}()
	var n yaml.Node
	if err := yaml.Unmarshal(src, &n); err != nil {
		return nil, err
	}
	if n.Kind == 0 {
		return nil, nil
	}
	return &n, nil
}

// Where a placeholder sits on its line decides how its value is written.
type placeholderCtx int

const (
	ctxValue   placeholderCtx = iota // a whole YAML value: flow, quoted when needed
	ctxPartial                       // part of a plain scalar: the raw text
	ctxDouble                        // inside "...": escaped for double quotes
	ctxSingle                        // inside '...': quotes doubled
	ctxComment                       // inside a trailing comment: anything
)

// placeholderContext classifies a placeholder from the line rendered so far
// (before) and the source text after the placeholder (line[end:]).
func placeholderContext(before, line string, end int) placeholderCtx {
	state := byte(0)
	for i := 0; i < len(before); i++ {
		c := before[i]
		switch state {
		case 0:
			switch {
			case c == '#' && (i == 0 || before[i-1] == ' ' || before[i-1] == '\t'):
				return ctxComment
			case (c == '"' || c == '\'') && quoteMayStart(before[:i]):
				state = c
			}
		case '"':
			switch c {
			case '\\':
				i++
			case '"':
				state = 0
			}
		case '\'':
			if c == '\'' {
				if i+1 < len(before) && before[i+1] == '\'' {
					i++
				} else {
					state = 0
				}
			}
		}
	}
	switch state {
	case '"':
		return ctxDouble
	case '\'':
		return ctxSingle
	}
	prevOK := len(before) == 0 || strings.ContainsRune(" \t[{,", rune(before[len(before)-1]))
	after := line[end:]
	nextOK := after == "" || strings.ContainsRune(" \t\r\n]},", rune(after[0]))
	if prevOK && nextOK {
		return ctxValue
	}
	return ctxPartial
}

// quoteMayStart reports whether a quote after prefix starts a quoted scalar
// (rather than being a character inside a plain one).
func quoteMayStart(prefix string) bool {
	p := strings.TrimRight(prefix, " \t")
	if p == "" {
		return true
	}
	return strings.ContainsRune(":-[{,?", rune(p[len(p)-1]))
}

// renderValue writes n for the given context, on one line.
func renderValue(n *yaml.Node, ctx placeholderCtx) (string, error) {
	n = deref(n)
	isScalar := n != nil && n.Kind == yaml.ScalarNode
	var text string
	if isScalar && ctx != ctxValue && ctx != ctxComment {
		text = n.Value
		if n.ShortTag() == "!!null" {
			text = ""
		}
	} else {
		var b strings.Builder
		if err := writeFlow(&b, n, 0); err != nil {
			return "", err
		}
		text = b.String()
	}
	switch ctx {
	case ctxDouble:
		q := quoteDouble(text)
		return q[1 : len(q)-1], nil
	case ctxSingle:
		if hasLineBreak(text) {
			return "", errors.New("value has a line break and cannot be inserted in a single-quoted string")
		}
		return strings.ReplaceAll(text, "'", "''"), nil
	case ctxPartial:
		if hasLineBreak(text) {
			return "", errors.New("value has a line break and cannot be inserted inside a plain value; quote the value in recipe.yaml")
		}
	case ctxComment:
		return strings.Map(func(r rune) rune {
			if isLineBreak(r) {
				return ' '
			}
			return r
		}, text), nil
	}
	return text, nil
}

func isLineBreak(r rune) bool {
	return r == '\n' || r == '\r' || r == '\u0085' || r == '\u2028' || r == '\u2029'
}

func hasLineBreak(s string) bool { return strings.IndexFunc(s, isLineBreak) >= 0 }

// deref follows aliases and documents to the value node.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && i < maxFlowDepth; i++ {
		switch n.Kind {
		case yaml.AliasNode:
			n = n.Alias
		case yaml.DocumentNode:
			if len(n.Content) == 0 {
				return nil
			}
			n = n.Content[0]
		default:
			return n
		}
	}
	return n
}

var errValueTooLarge = fmt.Errorf("value is larger than %d bytes when rendered", maxRenderedLine)

// writeFlow writes n as one line of YAML flow.
func writeFlow(b *strings.Builder, n *yaml.Node, depth int) error {
	if depth > maxFlowDepth {
		return fmt.Errorf("value is nested more than %d levels deep", maxFlowDepth)
	}
	if b.Len() > maxRenderedLine {
		return errValueTooLarge
	}
	n = deref(n)
	if n == nil {
		b.WriteString("null")
		return nil
	}
	switch n.Kind {
	case yaml.ScalarNode:
		b.WriteString(flowScalar(n))
	case yaml.SequenceNode:
		b.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := writeFlow(b, c, depth+1); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case yaml.MappingNode:
		b.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := writeFlow(b, n.Content[i], depth+1); err != nil {
				return err
			}
			b.WriteString(": ")
			if err := writeFlow(b, n.Content[i+1], depth+1); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		b.WriteString("null")
	}
	if b.Len() > maxRenderedLine {
		return errValueTooLarge
	}
	return nil
}

// flowScalar writes a scalar so that it parses back with the same tag and
// value, quoting strings only when they need it.
func flowScalar(n *yaml.Node) string {
	switch tag := n.ShortTag(); tag {
	case "!!str":
		if plainSafe(n.Value) {
			return n.Value
		}
		return quoteDouble(n.Value)
	case "!!null":
		return "null"
	case "!!int", "!!float", "!!bool", "!!timestamp":
		if resolvedTag(n.Value) == tag {
			return n.Value
		}
		return tag + " " + quoteDouble(n.Value)
	default:
		if strings.HasPrefix(tag, "!!") {
			return tag + " " + quoteDouble(n.Value)
		}
		return quoteDouble(n.Value)
	}
}

// plainSafe reports whether s, written plain in flow (and block) context,
// parses back as the string s.
func plainSafe(s string) bool {
	if s == "" || len(s) > 1024 || strings.TrimSpace(s) != s || hasLineBreak(s) ||
		strings.ContainsAny(s, "\t\"'") || !utf8.ValidString(s) {
		return false
	}
	return resolvedTag(s) == "!!str"
}

// resolvedTag is the tag s resolves to when written plain as a flow list
// item, or "" if it does not parse back as a plain scalar equal to s.
func resolvedTag(s string) string {
	if hasLineBreak(s) || len(s) > 1024 {
		return ""
	}
	doc, err := parseYAMLNode([]byte("[" + s + "]"))
	if err != nil || doc == nil || len(doc.Content) != 1 {
		return ""
	}
	seq := doc.Content[0]
	if seq.Kind != yaml.SequenceNode || len(seq.Content) != 1 {
		return ""
	}
	n := seq.Content[0]
	if n.Kind != yaml.ScalarNode || n.Style != 0 || n.Value != s {
		return ""
	}
	return n.ShortTag()
}

// quoteDouble writes s as a YAML double-quoted scalar on one line.
func quoteDouble(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\uFFFD`)
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f || r == '\u0085' || r == '\u2028' || r == '\u2029' || r == '\ufeff':
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// envVariable turns an environment value into a variable. The value means
// what it would mean written plain in YAML (5 is a number), unless it can
// only be a string.
func envVariable(name, value string) variable {
	tag := resolvedTag(value)
	if tag == "" {
		tag = "!!str"
	}
	return variable{
		node:   &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value},
		source: "environment variable " + name,
	}
}

// note describes the substitutions on a line, for error messages.
func note(subs []substitution) string {
	if len(subs) == 0 {
		return ""
	}
	parts := make([]string, 0, len(subs))
	for _, s := range subs {
		parts = append(parts, fmt.Sprintf("%s from %s", s.name, s.source))
	}
	slices.Sort(parts)
	parts = slices.Compact(parts)
	return " (this line uses " + strings.Join(parts, ", ") + ")"
}
