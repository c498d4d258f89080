package recipes

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Error is one problem in a recipe or profile file. Every error Load returns
// is an *Error (several are returned as Errors), so callers can show the
// file, line and key, and what would have been accepted.
type Error struct {
	// File is the file the problem is in, relative to the recipe directory:
	// "recipe.yaml" or "profiles/<name>.yaml". Empty for problems that are
	// not in a file, such as an unknown target step.
	File string
	// Line is the 1-based line in File as the user wrote it (rendering keeps
	// line numbers); 0 when the problem is not on one line.
	Line int
	// Key is the dotted key path, e.g. "steps.split.split_ratios" or
	// "steps.transform.columns[1].name"; empty for the whole file.
	Key string
	// Msg says what is wrong.
	Msg string
	// Allowed lists what is allowed at Key, when the set is small enough.
	Allowed []string
	// Suggest is the allowed value nearest to what was written, if one is
	// close enough to be a likely typo.
	Suggest string
	// Err is the underlying error, if any (for example an fs error).
	Err error
}

// Error formats the problem as
//
//	recipe.yaml:5: steps.split.split_ratio: unknown key; allowed: split_ratios, post_split_filter; did you mean "split_ratios"?
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if len(e.Allowed) > 0 {
		b.WriteString("; allowed: ")
		b.WriteString(strings.Join(e.Allowed, ", "))
	}
	if e.Suggest != "" {
		fmt.Fprintf(&b, "; did you mean %q?", e.Suggest)
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Errors is every problem found in a recipe, sorted by file and line. Load
// returns an Errors when it finds more than one problem; errors.As finds
// either the whole list or (through Unwrap) the first *Error.
type Errors []*Error

// Error lists the problems one per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the problems as a list of errors, for errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// asError returns nil for no problems, the *Error for one and an Errors sorted
// by file and line for several.
func asError(errs []*Error) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	sorted := slices.Clone(errs)
	slices.SortStableFunc(sorted, func(a, b *Error) int {
		if c := cmp.Compare(fileRank(a.File), fileRank(b.File)); c != 0 {
			return c
		}
		if c := cmp.Compare(a.File, b.File); c != 0 {
			return c
		}
		return cmp.Compare(a.Line, b.Line)
	})
	return Errors(sorted)
}

// fileRank orders errors as the files are read: profile, then recipe.
func fileRank(file string) int {
	switch {
	case strings.HasPrefix(file, ProfilesDir+"/"):
		return 0
	case file == RecipeFile:
		return 1
	}
	return 2
}

// suggest returns the allowed word nearest to word when it is close enough to
// be a typo, or "".
func suggest(word string, allowed []string) string {
	if word == "" {
		return ""
	}
	lw := strings.ToLower(word)
	best, bestDist := "", -1
	for _, a := range allowed {
		d := editDistance(lw, strings.ToLower(a))
		if bestDist < 0 || d < bestDist {
			best, bestDist = a, d
		}
	}
	if bestDist < 0 || best == word {
		return ""
	}
	if bestDist <= max(2, utf8.RuneCountInString(word)/3) {
		return best
	}
	// A shortened or lengthened name: roc_auc for roc_auc_ovr.
	if len(word) >= 4 {
		var found []string
		for _, a := range allowed {
			la := strings.ToLower(a)
			if strings.HasPrefix(la, lw) || strings.HasPrefix(lw, la) {
				found = append(found, a)
			}
		}
		if len(found) == 1 {
			return found[0]
		}
	}
	return ""
}

// editDistance is the optimal string alignment distance: insertions,
// deletions, substitutions and transpositions of adjacent runes each cost 1.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 256 || len(rb) > 256 {
		// Not a typo of a key name; do not spend quadratic time on it.
		return max(len(ra), len(rb))
	}
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
