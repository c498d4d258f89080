package expr

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Error is a compile error: a syntax or type error at a byte offset of the source.
type Error struct {
	Src string // the expression as written
	Pos int    // byte offset into Src where the problem is
	Msg string // what is wrong, and what is allowed
}

// Error formats the error as "expr: line:col: msg", with 1-based line and
// byte column.
func (e *Error) Error() string {
	line, col := e.LineCol()
	return fmt.Sprintf("expr: %d:%d: %s", line, col, e.Msg)
}

// LineCol returns the 1-based line and byte column of Pos.
func (e *Error) LineCol() (line, col int) {
	pos := min(max(e.Pos, 0), len(e.Src))
	before := e.Src[:pos]
	line = 1 + strings.Count(before, "\n")
	col = pos - strings.LastIndexByte(before, '\n')
	return line, col
}

// ErrSchema is wrapped by the errors Eval and Filter return when the frame
// does not hold a column the program was compiled for, or holds it with
// another kind or length.
var ErrSchema = errors.New("frame does not match the compiled schema")

// suggest returns the candidate closest to name, or "" when none is close.
func suggest(name string, candidates []string) string {
	best, bestD := "", -1
	sorted := append([]string(nil), candidates...)
	sort.Strings(sorted)
	lname := strings.ToLower(name)
	limit := max(1, len(name)/3)
	for _, c := range sorted {
		d := levenshtein(lname, strings.ToLower(c))
		if d <= limit && (bestD < 0 || d < bestD) {
			best, bestD = c, d
		}
	}
	return best
}

// levenshtein is the optimal string alignment distance: insertions,
// deletions, substitutions and transpositions of adjacent characters.
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
