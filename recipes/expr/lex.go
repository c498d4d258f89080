package expr

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

type tokKind uint8

const (
	tokEOF tokKind = iota
	tokIdent
	tokInt
	tokFloat
	tokString
	tokOp
)

type token struct {
	kind   tokKind
	pos    int    // byte offset of the first character
	text   string // identifier, operator, unescaped string, or number as written
	quoted bool   // identifier written in backticks: never a keyword
}

func (t token) is(op string) bool { return t.kind == tokOp && t.text == op }

// keyword reports whether t is the bare (not backticked) word k.
func (t token) keyword(k string) bool { return t.kind == tokIdent && !t.quoted && t.text == k }

func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "end of input"
	case tokIdent:
		if t.quoted {
			return fmt.Sprintf("name `%s`", t.text)
		}
		return fmt.Sprintf("%q", t.text)
	case tokString:
		return "string " + strconv.Quote(t.text)
	case tokInt, tokFloat:
		return "number " + t.text
	}
	return fmt.Sprintf("%q", t.text)
}

type lexer struct {
	src string
	pos int
}

func (lx *lexer) errf(pos int, format string, args ...any) *Error {
	return &Error{Src: lx.src, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}
func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

func (lx *lexer) next() (token, error) {
	src := lx.src
	for lx.pos < len(src) && isSpace(src[lx.pos]) {
		lx.pos++
	}
	start := lx.pos
	if start >= len(src) {
		return token{kind: tokEOF, pos: len(src)}, nil
	}
	c := src[start]
	switch {
	case isLetter(c):
		end := start + 1
		for end < len(src) && (isLetter(src[end]) || isDigit(src[end])) {
			end++
		}
		lx.pos = end
		return token{kind: tokIdent, pos: start, text: src[start:end]}, nil
	case isDigit(c) || c == '.' && start+1 < len(src) && isDigit(src[start+1]):
		return lx.number()
	case c == '\'' || c == '"':
		return lx.str()
	case c == '`':
		end := strings.IndexByte(src[start+1:], '`')
		if end < 0 {
			return token{}, lx.errf(start, "unterminated quoted name: missing closing `")
		}
		name := src[start+1 : start+1+end]
		if name == "" {
			return token{}, lx.errf(start, "empty quoted name ``")
		}
		lx.pos = start + end + 2
		return token{kind: tokIdent, pos: start, text: name, quoted: true}, nil
	}
	if start+1 < len(src) {
		switch two := src[start : start+2]; two {
		case "<=", ">=", "==", "!=", "&&", "||":
			lx.pos = start + 2
			return token{kind: tokOp, pos: start, text: two}, nil
		case "<>":
			return token{}, lx.errf(start, "unexpected <> (use != for not equal)")
		}
	}
	switch c {
	case '+', '-', '*', '/', '%', '<', '>', '!', '(', ')', ',':
		lx.pos = start + 1
		return token{kind: tokOp, pos: start, text: string(c)}, nil
	case '=':
		return token{}, lx.errf(start, "unexpected = (use == to compare)")
	case '&':
		return token{}, lx.errf(start, "unexpected & (use && or and)")
	case '|':
		return token{}, lx.errf(start, "unexpected | (use || or or)")
	}
	r, _ := utf8.DecodeRuneInString(src[start:])
	if r >= utf8.RuneSelf {
		return token{}, lx.errf(start, "unexpected character %q (write column names with other characters in backticks: `my column`)", r)
	}
	return token{}, lx.errf(start, "unexpected character %q", r)
}

func (lx *lexer) number() (token, error) {
	src, start := lx.src, lx.pos
	end := start
	digits := func() int {
		n := 0
		for end < len(src) && isDigit(src[end]) {
			end++
			n++
		}
		return n
	}
	isFloat := false
	digits()
	if end < len(src) && src[end] == '.' {
		isFloat = true
		end++
		digits()
	}
	if end < len(src) && (src[end] == 'e' || src[end] == 'E') {
		isFloat = true
		end++
		if end < len(src) && (src[end] == '+' || src[end] == '-') {
			end++
		}
		if digits() == 0 {
			return token{}, lx.errf(start, "malformed number %q: exponent has no digits", src[start:end])
		}
	}
	if end < len(src) && (isLetter(src[end]) || isDigit(src[end]) || src[end] == '.') {
		bad := end
		for bad < len(src) && (isLetter(src[bad]) || isDigit(src[bad]) || src[bad] == '.') {
			bad++
		}
		return token{}, lx.errf(start, "malformed number %q", src[start:bad])
	}
	text := src[start:end]
	lx.pos = end
	if isFloat {
		if _, err := strconv.ParseFloat(text, 64); err != nil {
			return token{}, lx.errf(start, "number %s is out of range", text)
		}
		return token{kind: tokFloat, pos: start, text: text}, nil
	}
	if _, err := strconv.ParseInt(text, 10, 64); err != nil {
		return token{}, lx.errf(start, "integer %s is out of range (write it as a float: %s.0)", text, text)
	}
	return token{kind: tokInt, pos: start, text: text}, nil
}

// str lexes a '…' or "…" string with backslash escapes:
// \\ \' \" \n \r \t \0 \xHH \uHHHH \UHHHHHHHH.
func (lx *lexer) str() (token, error) {
	src, start := lx.src, lx.pos
	quote := src[start]
	var b strings.Builder
	i := start + 1
	for {
		if i >= len(src) {
			return token{}, lx.errf(start, "unterminated string: missing closing %c", quote)
		}
		c := src[i]
		if c == quote {
			lx.pos = i + 1
			return token{kind: tokString, pos: start, text: b.String()}, nil
		}
		if c != '\\' {
			b.WriteByte(c)
			i++
			continue
		}
		if i+1 >= len(src) {
			return token{}, lx.errf(start, "unterminated string: missing closing %c", quote)
		}
		esc := src[i+1]
		switch esc {
		case '\\', '\'', '"':
			b.WriteByte(esc)
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case '0':
			b.WriteByte(0)
		case 'x', 'u', 'U':
			n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[esc]
			if i+2+n > len(src) {
				return token{}, lx.errf(i, "escape \\%c needs %d hex digits", esc, n)
			}
			v, err := strconv.ParseUint(src[i+2:i+2+n], 16, 32)
			if err != nil {
				return token{}, lx.errf(i, "escape \\%c needs %d hex digits", esc, n)
			}
			if esc == 'x' {
				b.WriteByte(byte(v))
			} else {
				if !utf8.ValidRune(rune(v)) {
					return token{}, lx.errf(i, "escape %s is not a valid code point", src[i:i+2+n])
				}
				b.WriteRune(rune(v))
			}
			i += 2 + n
			continue
		default:
			r, _ := utf8.DecodeRuneInString(src[i+1:])
			return token{}, lx.errf(i, "unknown escape \\%c in string (allowed: \\\\ \\' \\\" \\n \\r \\t \\0 \\xHH \\uHHHH)", r)
		}
		i += 2
	}
}
